//! Who is calling: API keys of one-stop systems (a bearer key scoped to one unit). Staff
//! sessions join here when the staff capability lands.

pub mod apikeys;

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};

use crate::db;
use crate::error::AppError;
use crate::startup::AppState;

/// An authenticated caller of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A one-stop system holding an API key of `unit_code`.
    ApiKey { key_id: i64, unit_code: String },
}

impl Caller {
    /// The unit the caller acts for.
    pub fn unit_code(&self) -> &str {
        match self {
            Caller::ApiKey { unit_code, .. } => unit_code,
        }
    }

    /// True when the caller may act for (issue for, read the figures of) this unit.
    pub fn may_act_for_unit(&self, unit: &str) -> bool {
        self.unit_code() == unit
    }

    /// How the caller is named in the audit log and on the rows it creates.
    pub fn actor(&self) -> String {
        match self {
            Caller::ApiKey { key_id, .. } => format!("api-key:{key_id}"),
        }
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let key = bearer_key(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal("application state is missing".into()))?;
            let key = key?;
            let found = db::run(&state.pool, move |conn| Ok(apikeys::authenticate(conn, &key)?)).await?;
            found
                .map(|(key_id, unit_code)| Caller::ApiKey { key_id, unit_code })
                .ok_or_else(|| AppError::unauthorized("The API key is unknown or revoked."))
        })
    }
}

fn bearer_key(req: &HttpRequest) -> Result<String, AppError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AppError::unauthorized("Send an API key as `Authorization: Bearer <key>`."))?;
    let value =
        value.to_str().map_err(|_| AppError::unauthorized("The Authorization header is not readable."))?;
    let (scheme, key) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || key.trim().is_empty() {
        return Err(AppError::unauthorized("Send an API key as `Authorization: Bearer <key>`."));
    }
    Ok(key.trim().to_string())
}
