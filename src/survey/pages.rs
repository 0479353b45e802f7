//! The survey's pages as askama templates, and the view types they read. Views hold display
//! strings only; what to show is decided in `handlers.rs`.

use askama::Template;

use super::i18n::Strings;

/// What every page has around its content.
pub struct Chrome {
    pub lang: String,
    pub big: bool,
    pub title: String,
    pub css: String,
    /// The progressive-enhancement script, on pages that use it.
    pub js: Option<String>,
    /// The switches to the other languages the version offers.
    pub langs: Vec<LangLink>,
    pub languages_label: String,
    pub size_href: String,
    pub size_label: String,
    /// Position of this screen and number of screens; 0 when not shown.
    pub pos: usize,
    pub total: usize,
    /// The office's reply to this response's follow-up, shown above the screen.
    pub reply: Option<FollowupView>,
}

/// A switch to another language: its address, its code and its name in itself.
pub struct LangLink {
    pub href: String,
    pub code: String,
    pub label: String,
}

/// One of the large choices of the first screen.
pub struct Face {
    pub code: i16,
    /// 1 (saddest) to 5 (happiest): the icon and its colour.
    pub face: usize,
    pub mouth: &'static str,
    pub label: String,
}

#[derive(Template)]
#[template(path = "survey/quick.html")]
pub struct QuickPage<'a> {
    pub page: Chrome,
    pub t: &'a Strings,
    pub action: String,
    pub item: String,
    pub question: String,
    pub faces: Vec<Face>,
    pub error: Option<String>,
}

/// An option of a choice, multi or scale item.
pub struct OptView {
    pub code: i16,
    pub label: String,
    pub checked: bool,
}

/// One question on a screen.
pub struct ItemView {
    pub code: String,
    pub text: String,
    /// `radio`, `checkbox` or `text`.
    pub kind: &'static str,
    pub options: Vec<OptView>,
    /// The stored answer, shown instead of the inputs (an answer is never changed).
    pub answered: Option<String>,
    pub error: Option<String>,
    /// The text typed so far (text items).
    pub value: String,
    pub max_len: usize,
    pub max_choices: usize,
}

#[derive(Template)]
#[template(path = "survey/step.html")]
pub struct StepPage<'a> {
    pub page: Chrome,
    pub t: &'a Strings,
    pub action: String,
    pub heading: String,
    pub note: Option<String>,
    pub items: Vec<ItemView>,
    /// The message at the top, and the question it is about.
    pub error: Option<(String, String)>,
    pub skip_href: String,
    pub all_answered: bool,
    /// Where the script keeps a half-filled screen when the resident leaves it.
    pub answers_url: String,
    /// A screen of SIPAS statements: on a phone one statement at a time (CSS, no script).
    pub one: bool,
}

#[derive(Template)]
#[template(path = "survey/intro.html")]
pub struct IntroPage<'a> {
    pub page: Chrome,
    pub t: &'a Strings,
    pub continue_href: String,
    pub skip_href: String,
    pub finish_href: String,
}

#[derive(Template)]
#[template(path = "survey/thanks.html")]
pub struct ThanksPage<'a> {
    pub page: Chrome,
    pub t: &'a Strings,
    /// What to expect while a reply the resident asked for is being prepared.
    pub awaited: Option<FollowupView>,
}

/// What the resident reads about the follow-up of their comment or complaint.
#[derive(Clone)]
pub struct FollowupView {
    pub heading: String,
    /// The reply, or `None` while it is awaited.
    pub reply: Option<String>,
    /// When it was written (local date), or what to expect while it is awaited.
    pub note: String,
}

/// A page that explains why there is no survey to answer (404, 410, 429, 503), and reveals
/// nothing about any invitation.
#[derive(Template)]
#[template(path = "survey/notice.html")]
pub struct NoticePage<'a> {
    pub page: Chrome,
    pub t: &'a Strings,
    pub heading: String,
    pub body: String,
}

/// The mouth of face 1 (saddest) to 5 (happiest), in a 24×24 box.
pub fn mouth(face: usize) -> &'static str {
    match face {
        1 => "M7.5 17.5q4.5-5 9 0",
        2 => "M8 16.5q4-2.5 8 0",
        3 => "M8 15.5h8",
        4 => "M8 14.5q4 3 8 0",
        _ => "M7 13.5q5 6 10 0",
    }
}
