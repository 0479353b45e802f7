//! `GET /s/{token}` and `POST /s/{token}`: the survey as plain HTML forms. Every answer goes
//! through the same submission core as the JSON API; every failure becomes a page, never JSON.

use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, Utc};
use serde::Deserialize;

use std::borrow::Cow;

use super::i18n::{Lang, Strings};
use super::pages::{
    Chrome, Face, FollowupView, IntroPage, ItemView, LangLink, NoticePage, OptView, QuickPage, StepPage,
    ThanksPage, mouth,
};
use super::steps::{DONE, Plan, StepKind};
use crate::app::AppState;
use crate::auth::session::secure;
use crate::db;
use crate::error::{AppError, ErrorBody};
use crate::http::assets;
use crate::http::client::{Client, device_cookie};
use crate::instrument::{AnswerError, Instrument, ItemKind, OVERALL, Translation};
use crate::kernel::answers::AnswerSet;
use crate::kernel::answers::AnswerValue;
use crate::kernel::survey_secrets;
use crate::responses::committer::Committer;
use crate::responses::model::{Problem, RawAnswers, Refusal, Repeats};
use crate::responses::store::{self, InvitationRow, ResponseRow};
use crate::responses::submit::{Submission, plausible_token};

/// The query of every survey address: the screen, and the reader's language and text size.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The screen to show (as the survey's own links write it; `done` for the thanks page).
    step: Option<String>,
    /// `vi` (the default) or `en`.
    lang: Option<String>,
    /// `big` for larger text.
    size: Option<String>,
}

/// How this reader's addresses are written: the token, the language (kept in links only when
/// it was chosen explicitly; it is also remembered on the token) and the text size.
#[derive(Clone)]
struct Ctx {
    token: String,
    lang: Lang,
    /// `?lang=` as asked (a tap on the language switch).
    asked_lang: Option<String>,
    explicit_lang: bool,
    big: bool,
    t: Cow<'static, Strings>,
    /// The languages this token's questionnaire version offers beyond vi and en.
    offered: Vec<Arc<Translation>>,
    /// The office's reply, once there is one: shown above every screen.
    reply: Option<FollowupView>,
}

impl Ctx {
    fn new(token: String, q: &PageQuery) -> Ctx {
        let lang = Lang::choose(q.lang.as_deref(), None, &[]);
        let explicit_lang = q.lang.as_deref().and_then(|c| Lang::from_code(c, &[])).is_some();
        let big = q.size.as_deref() == Some("l");
        Ctx {
            token,
            t: lang.strings(),
            lang,
            asked_lang: q.lang.clone(),
            explicit_lang,
            big,
            offered: Vec::new(),
            reply: None,
        }
    }

    /// The reader's language among those the token's version offers (asked, else remembered on
    /// the token, else Vietnamese), and the office's reply above every screen.
    fn for_survey(mut self, state: &AppState, survey: &Survey) -> Ctx {
        let inv = &survey.invitation;
        self.offered = state.instruments.translations_of(&inv.instrument_id, &inv.instrument_version);
        self.lang = Lang::choose(self.asked_lang.as_deref(), inv.lang.as_deref(), &self.offered);
        self.explicit_lang =
            self.asked_lang.as_deref().and_then(|c| Lang::from_code(c, &self.offered)).is_some();
        self.t = self.lang.strings();
        self.reply = match &survey.followup {
            Some(Some((text, at))) => Some(self.reply_view(Some((text.clone(), *at)))),
            _ => None,
        };
        self
    }

    /// The follow-up as the resident reads it: the reply with its date, or what to expect.
    fn reply_view(&self, reply: Option<(String, chrono::DateTime<Utc>)>) -> FollowupView {
        FollowupView {
            heading: self.t.reply_heading.to_string(),
            note: match &reply {
                Some((_, at)) => {
                    format!(
                        "{} {}",
                        self.t.reply_date,
                        crate::kernel::time::local_day(*at).format("%d/%m/%Y")
                    )
                }
                None => self.t.reply_awaited.to_string(),
            },
            reply: reply.map(|(text, _)| text),
        }
    }

    fn href(&self, step: Option<&str>, lang: Option<&Lang>, big: bool) -> String {
        let token = if plausible_token(&self.token) { self.token.as_str() } else { "" };
        let mut params = Vec::new();
        if let Some(step) = step {
            params.push(format!("step={step}"));
        }
        if let Some(lang) = lang {
            params.push(format!("lang={}", lang.code()));
        }
        if big {
            params.push("size=l".to_string());
        }
        let query = if params.is_empty() { String::new() } else { format!("?{}", params.join("&")) };
        format!("/s/{token}{query}")
    }

    /// The address of a screen for this reader.
    fn url(&self, step: Option<&str>) -> String {
        self.href(step, self.explicit_lang.then_some(&self.lang), self.big)
    }

    fn chrome(&self, step: Option<&str>, title: &str, progress: (usize, usize)) -> Chrome {
        let langs = Lang::offered(&self.offered)
            .into_iter()
            .filter(|l| l != &self.lang)
            .map(|l| LangLink {
                href: self.href(step, Some(&l), self.big),
                code: l.code().to_string(),
                label: l.own_name().to_string(),
            })
            .collect();
        Chrome {
            lang: self.lang.code().to_string(),
            big: self.big,
            title: format!("{title} · {}", self.t.brand),
            css: assets::href("survey.css"),
            // every screen: the read-aloud button is the script's (a comment's counter too)
            js: Some(assets::href("survey.js")),
            langs,
            languages_label: self.t.languages.to_string(),
            size_href: self.href(step, self.explicit_lang.then_some(&self.lang), !self.big),
            size_label: if self.big {
                self.t.big_text_off.to_string()
            } else {
                self.t.big_text_on.to_string()
            },
            pos: progress.0,
            total: progress.1,
            reply: self.reply.clone(),
        }
    }
}

/// What a page needs to know about a token.
struct Survey {
    invitation: InvitationRow,
    response: Option<ResponseRow>,
    answers: AnswerSet,
    instrument: Arc<Instrument>,
    /// The follow-up of the response, as its resident sees it.
    followup: crate::followups::store::ResidentView,
}

/// Reads what a page needs about a token; a language the resident just chose (`?lang=`, one
/// the token's version offers) is remembered on the token in the same call.
async fn load(state: &AppState, token: &str, chosen: Option<&str>) -> Result<Option<Survey>, AppError> {
    if !plausible_token(token) {
        return Ok(None);
    }
    let token_hash = survey_secrets::token_hash(&state.secret, token);
    let chosen = chosen.map(|c| c.trim().to_ascii_lowercase());
    let instruments = state.instruments.clone();
    let found = db::run(&state.pool, move |conn| {
        let Some(mut invitation) = store::find_invitation(conn, &token_hash)? else { return Ok(None) };
        if let Some(code) = chosen {
            let offered =
                instruments.translations_of(&invitation.instrument_id, &invitation.instrument_version);
            let known = Lang::from_code(&code, &offered).is_some();
            if known && invitation.lang.as_deref() != Some(code.as_str()) {
                super::store::remember_language(conn, invitation.id, &code)?;
                invitation.lang = Some(code);
            }
        }
        let response = store::response_of(conn, invitation.id)?;
        if response.is_none() && Utc::now() <= invitation.expires_at {
            // the too_fast rule measures from the first showing (integrity::checks)
            store::mark_shown(conn, invitation.id, Utc::now())?;
        }
        let answers = match &response {
            Some(r) => store::answers_of(conn, r.id)?,
            None => AnswerSet::new(),
        };
        let followup = match &response {
            Some(r) => crate::followups::store::reply_of(conn, r.id)?,
            None => None,
        };
        Ok(Some((invitation, response, answers, followup)))
    })
    .await?;
    let Some((invitation, response, answers, followup)) = found else { return Ok(None) };
    let instrument = state
        .instruments
        .get(&invitation.instrument_id, &invitation.instrument_version)
        .cloned()
        .ok_or_else(|| AppError::internal(format!("unknown instrument {}", invitation.instrument_version)))?;
    Ok(Some(Survey { invitation, response, answers, instrument, followup }))
}

/// What a GET shows once the token's state is known.
enum Screen {
    NotFound,
    Expired,
    Thanks,
    /// Render step `i` of the plan.
    Step(usize),
    /// The requested step is not the one to show: send the reader to this step (or the end).
    Redirect(Option<usize>),
}

fn decide(survey: Option<&Survey>, plan: &Plan, requested: Option<&str>, window: Duration) -> Screen {
    let Some(s) = survey else { return Screen::NotFound };
    let now = Utc::now();
    let Some(response) = &s.response else {
        return if now > s.invitation.expires_at { Screen::Expired } else { Screen::Step(0) };
    };
    if now > response.submitted_at + window {
        return Screen::Thanks;
    }
    match requested {
        Some(DONE) => Screen::Thanks,
        Some(key) if plan.index(key).is_some_and(|i| i > 0) => {
            let i = plan.index(key).unwrap_or(0);
            match plan.at_or_after(i, &s.answers) {
                Some(j) if j == i => Screen::Step(i),
                other => Screen::Redirect(other),
            }
        }
        Some(_) => Screen::Redirect(plan.resume(&s.answers)),
        None => match plan.resume(&s.answers) {
            Some(i) => Screen::Step(i),
            None => Screen::Thanks,
        },
    }
}

/// `GET /s/{token}`: the survey's current screen for this token (HTML).
#[utoipa::path(
    get,
    path = "/s/{token}",
    summary = "The resident's survey page",
    security(()),
    params(("token" = String, Path, description = "The invitation's token"), PageQuery),
    responses(
        (status = 200, description = "A screen of the survey, or the thanks page", body = String, content_type = "text/html"),
        (status = 303, description = "To the screen to answer next"),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 404, description = "No survey with this token (a kind page)", body = String, content_type = "text/html"),
        (status = 410, description = "The invitation expired before it was answered", body = String, content_type = "text/html"),
        (status = 503, description = "The service cannot answer right now (`Retry-After`)", body = String, content_type = "text/html"),
    )
)]
#[tracing::instrument(name = "survey page", skip_all)]
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    q: web::Query<PageQuery>,
) -> HttpResponse {
    let mut ctx = Ctx::new(token.into_inner(), &q);
    let survey = match load(&state, &ctx.token, q.lang.as_deref()).await {
        Ok(s) => s,
        Err(e) => return failure(&ctx, &e),
    };
    if let Some(s) = &survey {
        ctx = ctx.for_survey(&state, s);
    }
    let window = Duration::minutes(state.config.additions_window_minutes);
    let plan = survey.as_ref().map(|s| Plan::of(&s.instrument));
    let screen = match (&survey, &plan) {
        (Some(s), Some(plan)) => decide(Some(s), plan, q.step.as_deref(), window),
        _ => Screen::NotFound,
    };
    match (screen, survey, plan) {
        (Screen::Step(i), Some(s), Some(plan)) => {
            let mut page = render_step(&ctx, &s.instrument, &plan, i, &s.answers, None, &[], StatusCode::OK);
            // one browser, one device: see http::client
            if let Some(cookie) = device_cookie(&req, state.config.integrity.retention_days, secure(&state)) {
                let _ = page.add_cookie(&cookie);
            }
            page
        }
        (Screen::Redirect(target), _, Some(plan)) => {
            redirect(&ctx.url(Some(target.map(|i| plan.steps[i].key.as_str()).unwrap_or(DONE))))
        }
        (Screen::Thanks, s, _) => thanks(&ctx, s.and_then(|s| s.followup)),
        (Screen::Expired, _, _) => notice(&ctx, StatusCode::GONE, &ctx.t.expired_title, &ctx.t.expired_body),
        _ => notice(&ctx, StatusCode::NOT_FOUND, &ctx.t.not_found_title, &ctx.t.not_found_body),
    }
}

/// `POST /s/{token}`: a screen's answers as a plain HTML form (item code = level, option code or
/// text; `go=finish` ends the survey).
#[utoipa::path(
    post,
    path = "/s/{token}",
    summary = "Answer a screen of the survey as a plain HTML form",
    security(()),
    params(("token" = String, Path, description = "The invitation's token"), PageQuery),
    request_body(content = inline(std::collections::BTreeMap<String, String>),
        content_type = "application/x-www-form-urlencoded",
        description = "Item codes and their answers, as the page's form sends them"),
    responses(
        (status = 303, description = "Stored (or nothing to store): to the next screen or the thanks page"),
        (status = 400, description = "`invalid_form` or `invalid_query`", body = ErrorBody),
        (status = 404, description = "No survey with this token (a kind page)", body = String, content_type = "text/html"),
        (status = 410, description = "The invitation expired before it was answered", body = String, content_type = "text/html"),
        (status = 413, description = "`payload_too_large`: the form is over 16 KB", body = ErrorBody),
        (status = 422, description = "The screen again, the problem marked", body = String, content_type = "text/html"),
        (status = 429, description = "Too many answers from this network (a kind page)", body = String, content_type = "text/html"),
        (status = 503, description = "The service cannot answer right now (`Retry-After`)", body = String, content_type = "text/html"),
    )
)]
#[tracing::instrument(name = "survey form", skip_all)]
pub async fn post(
    state: web::Data<AppState>,
    answers: web::Data<Committer>,
    client: Client,
    token: web::Path<String>,
    q: web::Query<PageQuery>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let ctx = Ctx::new(token.into_inner(), &q);
    let mut pairs = form.into_inner();
    let finish = pairs.iter().any(|(k, v)| k == "go" && v == "finish");
    pairs.retain(|(k, _)| k != "go");
    let posted = pairs.clone();

    if pairs.iter().all(|(_, v)| v.trim().is_empty()) {
        return nothing_posted(&state, &ctx, q.step.as_deref(), finish).await;
    }
    let submission = Submission::new(
        &state.secret,
        ctx.token.clone(),
        RawAnswers::Form(pairs),
        &client,
        Repeats::IgnoreIdentical,
    );
    // group-committed with the JSON API's answers (responses::committer)
    let result = answers.submit(submission).await;
    match result {
        Err(e) => failure(&ctx, &e),
        Ok(Ok(outcome)) => {
            if finish {
                return redirect(&ctx.url(Some(DONE)));
            }
            let plan = Plan::of(&outcome.instrument);
            let next = match q.step.as_deref().and_then(|k| plan.index(k)) {
                Some(i) => plan.next(i, &outcome.answers),
                None => plan.resume(&outcome.answers),
            };
            redirect(&ctx.url(Some(next.map(|i| plan.steps[i].key.as_str()).unwrap_or(DONE))))
        }
        Ok(Err(refusal)) => refused(&state, &ctx, q.step.as_deref(), refusal, &posted).await,
    }
}

/// A screen sent with nothing filled in: the same as skipping it (the first screen needs a tap).
async fn nothing_posted(state: &AppState, ctx: &Ctx, step: Option<&str>, finish: bool) -> HttpResponse {
    let survey = match load(state, &ctx.token, None).await {
        Ok(Some(s)) => s,
        Ok(None) => return notice(ctx, StatusCode::NOT_FOUND, &ctx.t.not_found_title, &ctx.t.not_found_body),
        Err(e) => return failure(ctx, &e),
    };
    let ctx = &ctx.clone().for_survey(state, &survey);
    let plan = Plan::of(&survey.instrument);
    if survey.response.is_none() {
        if Utc::now() > survey.invitation.expires_at {
            return notice(ctx, StatusCode::GONE, &ctx.t.expired_title, &ctx.t.expired_body);
        }
        let message = ctx.t.error_missing.to_string();
        return render_quick(ctx, &survey.instrument, Some(message), StatusCode::UNPROCESSABLE_ENTITY);
    }
    if finish {
        return redirect(&ctx.url(Some(DONE)));
    }
    let next = match step.and_then(|k| plan.index(k)) {
        Some(i) => plan.next(i, &survey.answers),
        None => plan.resume(&survey.answers),
    };
    redirect(&ctx.url(Some(next.map(|i| plan.steps[i].key.as_str()).unwrap_or(DONE))))
}

/// A refused form: a kind page, or the same screen again with the problem marked.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    step: Option<&str>,
    refusal: Refusal,
    posted: &[(String, String)],
) -> HttpResponse {
    let t = &ctx.t;
    match refusal {
        Refusal::RateLimited => {
            notice(ctx, StatusCode::TOO_MANY_REQUESTS, &t.busy_title, &t.rate_limited_body)
        }
        Refusal::UnknownToken => notice(ctx, StatusCode::NOT_FOUND, &t.not_found_title, &t.not_found_body),
        Refusal::Expired => notice(ctx, StatusCode::GONE, &t.expired_title, &t.expired_body),
        Refusal::Spent => redirect(&ctx.url(Some(DONE))),
        // a double tap, or a form sent again with another answer: what was recorded stands, and
        // the reader continues where the survey left off
        Refusal::AlreadyAnswered(_) | Refusal::NoAnswers => redirect(&ctx.url(None)),
        Refusal::Invalid { item, problem } => {
            let message = match &problem {
                Problem::MissingOverall => &t.error_missing,
                Problem::NotShown { .. } => &t.error_not_shown,
                Problem::Answer(AnswerError::TooManyChoices(_)) => &t.error_too_many,
                Problem::Answer(AnswerError::TooLong(_)) => &t.error_too_long,
                Problem::Answer(_) => &t.error_invalid,
            };
            let survey = match load(state, &ctx.token, None).await {
                Ok(Some(s)) => s,
                Ok(None) => return notice(ctx, StatusCode::NOT_FOUND, &t.not_found_title, &t.not_found_body),
                Err(e) => return failure(ctx, &e),
            };
            let ctx = &ctx.clone().for_survey(state, &survey);
            let plan = Plan::of(&survey.instrument);
            let i = step.and_then(|k| plan.index(k)).unwrap_or(0);
            if survey.response.is_none() || i == 0 {
                return render_quick(
                    ctx,
                    &survey.instrument,
                    Some(message.to_string()),
                    StatusCode::UNPROCESSABLE_ENTITY,
                );
            }
            render_step(
                ctx,
                &survey.instrument,
                &plan,
                i,
                &survey.answers,
                Some((message.to_string(), item)),
                posted,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Refusal::Db(e) => failure(ctx, &AppError::from(e)),
        Refusal::UnknownInstrument(what) => failure(ctx, &AppError::internal(what)),
    }
}

fn render_quick(
    ctx: &Ctx,
    instrument: &Instrument,
    error: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let lang = &ctx.lang;
    let Some(item) = instrument.item(OVERALL) else {
        return failure(ctx, &AppError::internal("instrument without CASE.OVERALL"));
    };
    let levels = instrument.choices_of(item);
    let faces = levels
        .iter()
        .enumerate()
        .map(|(n, level)| {
            // spread any number of levels over the five faces, saddest first
            let face = if levels.len() > 1 { 1 + n * 4 / (levels.len() - 1) } else { 5 };
            Face {
                code: level.code,
                face,
                mouth: mouth(face),
                label: lang.choice(instrument, item, level).to_string(),
            }
        })
        .collect();
    let question = lang.item(item).to_string();
    let step = instrument.sections[0].code.as_str();
    let page = QuickPage {
        page: ctx.chrome(None, lang.title(instrument), (0, 0)),
        t: &ctx.t,
        action: ctx.url(Some(step)),
        item: OVERALL.to_string(),
        question,
        faces,
        error,
    };
    html(status, page.render())
}

#[expect(
    clippy::too_many_arguments,
    reason = "what one screen is drawn from: the request, the questionnaire, the plan and position, the answers so far, and a refused form with its status"
)]
fn render_step(
    ctx: &Ctx,
    instrument: &Instrument,
    plan: &Plan,
    i: usize,
    answers: &AnswerSet,
    error: Option<(String, String)>,
    posted: &[(String, String)],
    status: StatusCode,
) -> HttpResponse {
    let lang = &ctx.lang;
    let step = &plan.steps[i];
    let key = step.key.as_str();
    let progress = plan.position(i, answers);
    let next_key = |n: Option<usize>| n.map(|j| plan.steps[j].key.as_str()).unwrap_or(DONE);
    let section = &instrument.sections[step.section];
    match step.kind {
        StepKind::Quick => render_quick(ctx, instrument, None, status),
        StepKind::Intro => {
            let page = IntroPage {
                page: ctx.chrome(Some(key), &ctx.t.intro_title, progress),
                t: &ctx.t,
                continue_href: ctx.url(Some(next_key(plan.next(i, answers)))),
                skip_href: ctx.url(Some(next_key(plan.after_part(i, instrument, answers)))),
                finish_href: ctx.url(Some(DONE)),
            };
            html(status, page.render())
        }
        StepKind::Items => {
            let items: Vec<ItemView> = step
                .items
                .iter()
                .filter_map(|code| instrument.item(code))
                .filter(|item| {
                    // an item gated on another section's answer shows only when the gate holds
                    item.shown_if.as_ref().is_none_or(|c| {
                        step.gate.is_some() || answers.get(&c.item) == Some(&AnswerValue::Level(c.code))
                    })
                })
                .map(|item| {
                    let posted_values: Vec<&str> = posted
                        .iter()
                        .filter(|(k, v)| k == &item.code && !v.trim().is_empty())
                        .map(|(_, v)| v.as_str())
                        .collect();
                    let choices = instrument.choices_of(item);
                    let answered = answers.get(&item.code).map(|a| match a {
                        AnswerValue::Level(c) => label_of(lang, instrument, item, *c),
                        AnswerValue::Multi(cs) => cs
                            .iter()
                            .map(|c| label_of(lang, instrument, item, *c))
                            .collect::<Vec<_>>()
                            .join("; "),
                        AnswerValue::Text(t) => t.clone(),
                    });
                    ItemView {
                        code: item.code.clone(),
                        text: lang.item(item).to_string(),
                        kind: match item.kind {
                            ItemKind::Multi => "checkbox",
                            ItemKind::Text => "text",
                            ItemKind::Scale | ItemKind::Choice => "radio",
                        },
                        options: choices
                            .iter()
                            .map(|c| OptView {
                                code: c.code,
                                label: lang.choice(instrument, item, c).to_string(),
                                checked: posted_values.iter().any(|v| v.trim() == c.code.to_string()),
                            })
                            .collect(),
                        answered,
                        error: error.as_ref().filter(|(_, code)| code == &item.code).map(|(m, _)| m.clone()),
                        value: posted_values.first().map(|v| v.to_string()).unwrap_or_default(),
                        max_len: item.max_len.unwrap_or(0),
                        max_choices: item.max_choices.unwrap_or(0),
                    }
                })
                .collect();
            let all_answered = items.iter().all(|i| i.answered.is_some());
            let heading = lang.section(section).to_string();
            let note = lang.note(section).map(str::to_string);
            let page = StepPage {
                page: ctx.chrome(Some(key), &heading, progress),
                t: &ctx.t,
                action: ctx.url(Some(key)),
                heading,
                note,
                items,
                error,
                skip_href: ctx.url(Some(next_key(plan.next(i, answers)))),
                all_answered,
                answers_url: format!("/api/v1/responses/{}", ctx.token),
                one: section.element,
            };
            html(status, page.render())
        }
    }
}

fn label_of(lang: &Lang, instrument: &Instrument, item: &crate::instrument::Item, code: i16) -> String {
    instrument
        .choices_of(item)
        .iter()
        .find(|c| c.code == code)
        .map(|c| lang.choice(instrument, item, c).to_string())
        .unwrap_or_else(|| code.to_string())
}

fn thanks(ctx: &Ctx, followup: crate::followups::store::ResidentView) -> HttpResponse {
    // a reply already shows at the top (Chrome); here only the promise of one
    let awaited = matches!(followup, Some(None)).then(|| ctx.reply_view(None));
    let page = ThanksPage { page: ctx.chrome(Some(DONE), &ctx.t.thanks_title, (0, 0)), t: &ctx.t, awaited };
    html(StatusCode::OK, page.render())
}

fn notice(ctx: &Ctx, status: StatusCode, heading: &str, body: &str) -> HttpResponse {
    let page = NoticePage {
        page: ctx.chrome(None, heading, (0, 0)),
        t: &ctx.t,
        heading: heading.to_string(),
        body: body.to_string(),
    };
    html(status, page.render())
}

/// A failure of the service itself, as a page; the detail is logged, never shown.
fn failure(ctx: &Ctx, e: &AppError) -> HttpResponse {
    use actix_web::ResponseError as _;
    tracing::error!(error = %e, "survey page failed");
    let status = e.status_code();
    let status = if status.is_client_error() { StatusCode::SERVICE_UNAVAILABLE } else { status };
    let page = NoticePage {
        page: ctx.chrome(None, &ctx.t.busy_title, (0, 0)),
        t: &ctx.t,
        heading: ctx.t.busy_title.to_string(),
        body: ctx.t.unavailable_body.to_string(),
    };
    let mut res = html(status, page.render());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    }
    res
}

fn html(status: StatusCode, rendered: askama::Result<String>) -> HttpResponse {
    match rendered {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "survey template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("internal error")
        }
    }
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}
