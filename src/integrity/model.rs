//! Domain types of the integrity capability: why a response looks staged, the rules of the
//! checks, and a leader's verdict. No database, no HTTP.

/// Why a response looks staged. A response can have several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// Sent from one of the commune's own networks (`DESK_NETWORKS`).
    DeskNetwork,
    /// Sent less than `MIN_SECONDS_TO_ANSWER` after the invitation was issued.
    TooFast,
    /// One device answered more than `MAX_TOKENS_PER_DEVICE_PER_DAY` invitations in a local day.
    SameDevice,
    /// Part of a burst of top scores for one officer (see [`BURST_SIZE`]).
    Burst,
}

impl Reason {
    pub const ALL: [Reason; 4] = [Reason::DeskNetwork, Reason::TooFast, Reason::SameDevice, Reason::Burst];

    pub fn code(self) -> &'static str {
        match self {
            Reason::DeskNetwork => "desk_network",
            Reason::TooFast => "too_fast",
            Reason::SameDevice => "same_device",
            Reason::Burst => "burst",
        }
    }

    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// What a leader reads on the review page.
    pub fn label_vi(self) -> &'static str {
        match self {
            Reason::DeskNetwork => "Gửi từ mạng của cơ quan",
            Reason::TooFast => "Gửi quá nhanh sau khi phát phiếu",
            Reason::SameDevice => "Một thiết bị trả lời nhiều phiếu trong ngày",
            Reason::Burst => "Dồn dập điểm tối đa cho một cán bộ",
        }
    }
}

/// The burst rule: an officer's responses whose first answer gives `CASE.OVERALL` its top level
/// form a burst when at least `BURST_SIZE` of them arrive within `BURST_WINDOW_SECONDS` (any
/// window: each arrival looks back that far). One officer serves one resident at a time and a
/// case takes minutes, so five delighted residents of the same officer inside two minutes is not
/// what a desk produces; a stack of receipts answered by one hand is. Every response of the burst
/// is flagged, the earlier ones too.
pub const BURST_SIZE: usize = 5;
pub const BURST_WINDOW_SECONDS: i64 = 120;

/// The thresholds the checks apply (from the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub min_seconds_to_answer: i64,
    pub max_tokens_per_device_per_day: u32,
    pub followup_days: u32,
}

impl Rules {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Rules {
            min_seconds_to_answer: config.integrity.min_seconds_to_answer,
            max_tokens_per_device_per_day: config.integrity.max_tokens_per_device_per_day,
            followup_days: config.followup_days,
        }
    }
}

/// A review verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The answer is the resident's own: it counts again.
    Genuine,
    /// Staged: it stays out of the statistics (and is kept).
    Invalid,
}

impl Verdict {
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Genuine => "genuine",
            Verdict::Invalid => "invalid",
        }
    }

    pub fn from_code(code: &str) -> Option<Verdict> {
        [Verdict::Genuine, Verdict::Invalid].into_iter().find(|v| v.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(r));
        }
        assert_eq!(Verdict::from_code("genuine"), Some(Verdict::Genuine));
        assert_eq!(Verdict::from_code("fine"), None);
    }
}
