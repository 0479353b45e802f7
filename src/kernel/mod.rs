//! The shared vocabulary under every capability: the commune's clock, the answer types, the
//! service's hashing habits, networks, the audit log, the rate limits and the release rule of officers' own figures. Nothing here knows
//! actix or any capability; every module may use it.

pub mod answers;
pub mod audit;
pub mod hashing;
pub mod net;
pub mod ratelimit;
pub mod release;
pub mod survey_secrets;
pub mod time;
