//! Who is calling: API keys of one-stop systems (a bearer key scoped to one unit), or staff
//! signed in through the web pages (a session cookie, [`session`]).
//!
//! Roles are enforced here for the API and the pages alike: an admin acts for every unit, a
//! leader for their unit, an officer for their unit and sees only their own officer code, and
//! province staff for no unit (they import exports and read the ranking only). Who may call
//! which route is decided in one table, [`access`].

pub mod access;
pub mod apikeys;
pub mod extract;
pub mod role;
pub mod session;
pub mod store;

pub use extract::{AnyCaller, Caller, PROVINCE_ROLES, ProvinceCaller, StaffPage};
pub use role::{Role, Scope, StaffCaller};
