//! `POST /api/v1/responses/{token}`: the JSON face of the submission core.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::committer::Committer;
use super::model::{Effect, RawAnswers, Refusal, Repeats};
use super::submit::Submission;
use crate::app::AppState;
use crate::error::{AppError, ErrorBody, JsonBodyRefusals, Unavailable};
use crate::http::client::Client;

/// The request body; any other top-level field is refused.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Answers)]
pub struct SubmitBody {
    /// Answers by item code: a level or option code (scale, choice), a list of option codes
    /// (multi) or a text.
    #[serde(deserialize_with = "answers_without_repeats")]
    #[schema(value_type = std::collections::BTreeMap<String, crate::kernel::answers::AnswerValue>,
        example = json!({"CASE.OVERALL": 5, "TT01.I1": 2, "EXP": [3, 4], "COMMENT": "Cán bộ nhiệt tình"}))]
    answers: serde_json::Map<String, serde_json::Value>,
}

/// Reads the answers object, refusing an item code that appears twice: JSON parsers disagree on
/// which of two values wins, so such a body is ambiguous and must not be stored at all.
fn answers_without_repeats<'de, D>(
    deserializer: D,
) -> Result<serde_json::Map<String, serde_json::Value>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Answers;
    impl<'de> serde::de::Visitor<'de> for Answers {
        type Value = serde_json::Map<String, serde_json::Value>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of item codes and answers")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut answers = serde_json::Map::new();
            while let Some((code, value)) = map.next_entry::<String, serde_json::Value>()? {
                if answers.contains_key(&code) {
                    return Err(serde::de::Error::custom(format!("item {code} appears twice")));
                }
                answers.insert(code, value);
            }
            Ok(answers)
        }
    }
    deserializer.deserialize_map(Answers)
}

/// The answer to a stored submission.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Submitted {
    /// `created` (201) or `added` (200).
    #[schema(value_type = String, examples("created", "added"))]
    status: &'static str,
    /// Every item the response has answered so far.
    answered: Vec<String>,
    /// Until when items can still be added.
    additions_until: DateTime<Utc>,
}

/// `POST /api/v1/responses/{token}`: the first response (201), or items added to it within the
/// additions window (200).
#[utoipa::path(
    post,
    path = "/api/v1/responses/{token}",
    summary = "Answer a survey (the first response) or add items within the additions window",
    security(()),
    params(("token" = String, Path, description = "The invitation's token")),
    request_body = SubmitBody,
    responses(
        (status = 201, description = "The first response, stored", body = Submitted),
        (status = 200, description = "Items added to the response", body = Submitted),
        JsonBodyRefusals,
        (status = 404, description = "`unknown_token`: there is no survey with this token", body = ErrorBody),
        (status = 409, description = "`spent` (answered, additions over) or `already_answered` (an item cannot change)", body = ErrorBody),
        (status = 410, description = "`expired`: the invitation expired before it was answered", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many answers from this network", body = ErrorBody),
        Unavailable,
    )
)]
#[tracing::instrument(name = "submit response", skip_all)]
pub async fn submit(
    state: web::Data<AppState>,
    answers: web::Data<Committer>,
    client: Client,
    token: web::Path<String>,
    body: web::Json<SubmitBody>,
) -> Result<HttpResponse, AppError> {
    let raw = RawAnswers::Json(body.into_inner().answers);
    let submission = Submission::new(&state.secret, token.into_inner(), raw, &client, Repeats::Refuse);
    let outcome = answers.submit(submission).await??;
    let (status, word) = match outcome.effect {
        Effect::Created => (StatusCode::CREATED, "created"),
        Effect::Added | Effect::Unchanged => (StatusCode::OK, "added"),
    };
    Ok(HttpResponse::build(status).json(Submitted {
        status: word,
        answered: outcome.answers.keys().cloned().collect(),
        additions_until: outcome.additions_until,
    }))
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::RateLimited => AppError::too_many_requests(
                "Too many answers were sent from this network; please try again in a few minutes.",
            ),
            Refusal::UnknownToken => {
                AppError::not_found("unknown_token", "There is no survey with this token.")
            }
            Refusal::Expired => AppError::gone("expired", "This survey invitation has expired."),
            Refusal::Spent => AppError::conflict(
                "spent",
                "This survey has been answered and its time for additions is over.",
            ),
            Refusal::AlreadyAnswered(item) => AppError::conflict(
                "already_answered",
                format!("Item {item} is already answered and cannot be changed."),
            ),
            Refusal::Invalid { item, problem } => {
                let code = match &problem {
                    super::model::Problem::Answer(crate::instrument::AnswerError::UnknownItem) => {
                        "unknown_item"
                    }
                    super::model::Problem::MissingOverall => "missing_item",
                    super::model::Problem::NotShown { .. } => "item_not_shown",
                    super::model::Problem::Answer(_) => "invalid_answer",
                };
                AppError::unprocessable(code, format!("Item {item} {problem}."))
            }
            Refusal::NoAnswers => AppError::unprocessable("no_answers", "The post has no answers."),
            Refusal::Db(e) => AppError::from(e),
            Refusal::UnknownInstrument(what) => AppError::internal(what),
        }
    }
}
