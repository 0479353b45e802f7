//! Who a signed-in staff member is, as the rest of the service sees them: a role, and the unit
//! and officer code the role is scoped to. A [`Scope`] is valid once built: a leader always has a unit, an
//! officer always has a unit and an officer code, a province account has neither.
//!
//! Province staff (role `province`) work for the whole installation: an installation in province
//! mode serves one province (Sở Nội vụ / Văn phòng UBND tỉnh), and every commune export imported
//! into it belongs to that province. They import exports and read the ranking, and nothing of a
//! commune's own data (no dashboard, comments, follow-ups or issuing). If one installation ever
//! serves several provinces, give `Scope::Province` a province code and filter the ranking by it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What a staff member may see and do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: every unit, accounts, master data, the audit log.
    Admin,
    /// The figures, comments and follow-ups of their unit.
    Leader,
    /// Their own results and follow-ups only.
    Officer,
    /// Province staff: importing communes' exports and reading the ranking, nothing else.
    Province,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Leader, Role::Officer, Role::Province];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Leader => "leader",
            Role::Officer => "officer",
            Role::Province => "province",
        }
    }

    /// The Vietnamese name shown on pages.
    pub fn label_vi(self) -> &'static str {
        match self {
            Role::Admin => "Quản trị",
            Role::Leader => "Lãnh đạo",
            Role::Officer => "Cán bộ một cửa",
            Role::Province => "Cán bộ cấp tỉnh",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "leader" => Ok(Role::Leader),
            "officer" => Ok(Role::Officer),
            "province" => Ok(Role::Province),
            other => Err(format!("`{other}` is not a role (admin, leader, officer or province)")),
        }
    }
}

/// A role with what it is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// An admin, optionally attached to a home unit (the unit used when they issue, for one).
    Admin {
        unit: Option<String>,
    },
    Leader {
        unit: String,
    },
    Officer {
        unit: String,
        officer: String,
    },
    /// Province staff: the whole installation's imported exports, no unit (see the module doc).
    Province,
}

/// Why a role and its scope do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("a leader needs a unit (--unit CODE)")]
    LeaderWithoutUnit,
    #[error("an officer needs a unit (--unit CODE) and an officer code (--officer CODE)")]
    OfficerIncomplete,
    #[error("only officers have an officer code")]
    OfficerCodeNotAllowed,
    #[error("a province account belongs to no unit (leave --unit out)")]
    ProvinceWithUnit,
}

impl Scope {
    /// Builds the scope of a role from optional unit and officer codes (empty means absent).
    pub fn new(role: Role, unit: Option<String>, officer: Option<String>) -> Result<Scope, ScopeError> {
        let unit = unit.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
        let officer = officer.map(|o| o.trim().to_string()).filter(|o| !o.is_empty());
        match (role, unit, officer) {
            (Role::Admin, unit, None) => Ok(Scope::Admin { unit }),
            (Role::Leader, Some(unit), None) => Ok(Scope::Leader { unit }),
            (Role::Leader, None, _) => Err(ScopeError::LeaderWithoutUnit),
            (Role::Officer, Some(unit), Some(officer)) => Ok(Scope::Officer { unit, officer }),
            (Role::Officer, _, _) => Err(ScopeError::OfficerIncomplete),
            (Role::Province, None, None) => Ok(Scope::Province),
            (Role::Province, Some(_), None) => Err(ScopeError::ProvinceWithUnit),
            (_, _, Some(_)) => Err(ScopeError::OfficerCodeNotAllowed),
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Scope::Admin { .. } => Role::Admin,
            Scope::Leader { .. } => Role::Leader,
            Scope::Officer { .. } => Role::Officer,
            Scope::Province => Role::Province,
        }
    }

    /// The unit the account belongs to (an admin may have none).
    pub fn unit(&self) -> Option<&str> {
        match self {
            Scope::Admin { unit } => unit.as_deref(),
            Scope::Leader { unit } | Scope::Officer { unit, .. } => Some(unit),
            Scope::Province => None,
        }
    }

    /// The officer code of an officer.
    pub fn officer(&self) -> Option<&str> {
        match self {
            Scope::Officer { officer, .. } => Some(officer),
            _ => None,
        }
    }
}

/// A signed-in staff member, as re-read from the `users` table on this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCaller {
    pub user_id: i64,
    pub username: String,
    pub scope: Scope,
    /// The CSRF token of the session's forms.
    pub csrf: String,
}

impl StaffCaller {
    pub fn role(&self) -> Role {
        self.scope.role()
    }

    /// Refuses with 403 unless the role is one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role()) {
            Ok(())
        } else {
            Err(AppError::forbidden("Your role does not allow this page or action."))
        }
    }

    /// The actor written to the audit log.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_need_what_their_role_needs() {
        assert_eq!(Scope::new(Role::Admin, None, None), Ok(Scope::Admin { unit: None }));
        assert_eq!(Scope::new(Role::Leader, Some(" ".into()), None), Err(ScopeError::LeaderWithoutUnit));
        assert_eq!(Scope::new(Role::Officer, Some("CH".into()), None), Err(ScopeError::OfficerIncomplete));
        assert_eq!(
            Scope::new(Role::Leader, Some("CH".into()), Some("CB01".into())),
            Err(ScopeError::OfficerCodeNotAllowed)
        );
        assert_eq!(Scope::new(Role::Province, None, None), Ok(Scope::Province));
        assert_eq!(Scope::new(Role::Province, Some("CH".into()), None), Err(ScopeError::ProvinceWithUnit));
        let o = Scope::new(Role::Officer, Some("CH".into()), Some("CB01".into()));
        assert_eq!(o.as_ref().map(Scope::officer).ok().flatten(), Some("CB01"));
    }
}
