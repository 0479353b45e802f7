//! Staff accounts as the admin pages and sign-in handle them: usernames, the throttling of wrong
//! passwords, and an account as listed. The role and scope are `auth::role`'s.

use chrono::{DateTime, Duration, Utc};

use crate::auth::role::Scope;

/// True for a username of 3 to 64 letters, digits, '.', '_' or '-'.
pub fn valid_username(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Wrong passwords in a row before an account is slowed down.
pub const ACCOUNT_FREE_FAILURES: i32 = 3;
/// Wrong passwords in a row after which an account is locked for [`ACCOUNT_LOCK`].
pub const ACCOUNT_LOCK_FAILURES: i32 = 10;
/// How long a locked account stays locked (an admin can unlock it sooner).
pub const ACCOUNT_LOCK: Duration = Duration::minutes(15);

/// How long an account waits after `failures` wrong passwords in a row: nothing for the first
/// few, then 1, 2, 4 … 64 seconds, then a lock of [`ACCOUNT_LOCK`]. Attempts made while the
/// account waits are refused unchecked and count as failures, so guessing cannot outrun it.
pub fn account_delay(failures: i32) -> Option<Duration> {
    if failures < ACCOUNT_FREE_FAILURES {
        None
    } else if failures < ACCOUNT_LOCK_FAILURES {
        Some(Duration::seconds(1 << (failures - ACCOUNT_FREE_FAILURES)))
    } else {
        Some(ACCOUNT_LOCK)
    }
}

/// Wrong passwords from one client within [`CLIENT_WINDOW`] before it is blocked. Higher than
/// an account's, since a whole office may share one address.
pub const CLIENT_MAX_FAILURES: i32 = 30;
/// The window in which a client's failures add up.
pub const CLIENT_WINDOW: Duration = Duration::minutes(15);
/// How long a blocked client waits.
pub const CLIENT_LOCK: Duration = Duration::minutes(15);

/// An account as the admin pages list it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub scope: Scope,
    pub active: bool,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Account {
    /// True while sign-in is refused because of wrong passwords.
    pub fn locked_at(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_wrong_passwords_lock_an_account() {
        assert_eq!(account_delay(2), None);
        assert_eq!(account_delay(3), Some(Duration::seconds(1)));
        assert_eq!(account_delay(9), Some(Duration::seconds(64)));
        assert_eq!(account_delay(12), Some(ACCOUNT_LOCK));
    }

    #[test]
    fn usernames_are_plain_codes() {
        assert!(valid_username("lan.nt"));
        assert!(!valid_username("la"));
        assert!(!valid_username("lan nt"));
        assert!(!valid_username("lân"));
    }
}
