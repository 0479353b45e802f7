//! Translations of a questionnaire version beyond its own `vi` and `en` (Tày, H'Mông, Dao…),
//! supplied by the commune as one TOML file per language and version. A translation is validated
//! against the version it names like the version itself: every item's text and every option and
//! scale level's label must be there (the error lists every one that is missing); section titles,
//! notes, the survey's interface words (`[ui]`) and the slip's line may be left out, and the survey
//! shows the Vietnamese text in their place, text by text — never a blank.
//!
//! ```toml
//! [meta]
//! instrument = "sipas-desk"
//! version = "2026.1"
//! lang = "tay"            # 2-8 lowercase letters (ISO 639-3 where there is one), not vi or en
//! name = "Tày"            # the language's name in itself, shown on the switch to it
//! slip = "…"              # optional: the slip's one line in this language
//!
//! [sections.CASE]         # optional, per section: title and note
//! title = "…"
//!
//! [items."TT01.I1"]
//! text = "…"
//! options = { 1 = "…", 2 = "…", 3 = "…" }
//!
//! [scales.satisfaction5]
//! levels = { 1 = "…", 2 = "…", 3 = "…", 4 = "…", 5 = "…" }
//!
//! [ui]                    # optional: the survey's own words, by the names in UI_KEYS
//! next = "…"
//! ```

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::model::{Instrument, ItemKind};
use crate::kernel::hashing::sha256_hex;

/// The interface words a translation may give, by name (the fields of the survey's `Strings`).
pub const UI_KEYS: &[&str] = &[
    "brand",
    "big_text_on",
    "big_text_off",
    "quick_hint",
    "privacy",
    "page",
    "saved_note",
    "thanks_next_title",
    "thanks_next",
    "reply_awaited",
    "reply_heading",
    "reply_date",
    "read_aloud",
    "skip_statement",
    "languages",
    "next",
    "finish",
    "skip",
    "intro_title",
    "intro_body",
    "intro_continue",
    "intro_skip",
    "already_answered",
    "choose_up_to",
    "no_personal_data",
    "at_most_characters",
    "error_title",
    "error_invalid",
    "error_too_many",
    "error_too_long",
    "error_not_shown",
    "error_missing",
    "error_link",
    "thanks_title",
    "thanks_body",
    "thanks_more",
    "not_found_title",
    "not_found_body",
    "expired_title",
    "expired_body",
    "busy_title",
    "rate_limited_body",
    "unavailable_body",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    instrument: String,
    version: String,
    lang: String,
    name: String,
    slip: Option<String>,
    title: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    title: Option<String>,
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    text: Option<String>,
    #[serde(default)]
    options: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScale {
    #[serde(default)]
    levels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTranslation {
    meta: RawMeta,
    #[serde(default)]
    sections: BTreeMap<String, RawSection>,
    #[serde(default)]
    items: BTreeMap<String, RawItem>,
    #[serde(default)]
    scales: BTreeMap<String, RawScale>,
    #[serde(default)]
    ui: BTreeMap<String, String>,
}

/// Why a translation file was refused; the message names what is wrong or missing.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TranslationError {
    #[error("translation file is not valid TOML for a translation: {0}")]
    Parse(String),
    #[error("[meta]: {0}")]
    Meta(String),
    #[error("translation {lang} of {instrument} {version} is missing {}: {}", .missing.len(), .missing.join(", "))]
    Missing { lang: String, instrument: String, version: String, missing: Vec<String> },
    #[error("translation {lang}: {}", .problems.join("; "))]
    Invalid { lang: String, problems: Vec<String> },
}

/// A validated translation of one questionnaire version into one language.
#[derive(Debug, Clone)]
pub struct Translation {
    pub instrument_id: String,
    pub version: String,
    /// The language code, as in `?lang=` and on the token.
    pub lang: String,
    /// The language's name in itself.
    pub name: String,
    /// The slip's one line in this language.
    pub slip: Option<String>,
    pub title: Option<String>,
    /// Interface words by the names of [`UI_KEYS`].
    pub ui: BTreeMap<String, String>,
    /// SHA-256 (hex) of the exact file text: a published translation is never edited.
    pub sha256: String,
    sections: HashMap<String, RawSection>,
    items: HashMap<String, String>,
    options: HashMap<(String, i16), String>,
    levels: HashMap<(String, i16), String>,
}

fn text(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Translation {
    /// Reads only the `[meta]` of a file: which instrument and version it translates.
    pub fn target(text: &str) -> Result<(String, String), TranslationError> {
        #[derive(Deserialize)]
        struct Head {
            meta: HeadMeta,
        }
        #[derive(Deserialize)]
        struct HeadMeta {
            instrument: String,
            version: String,
        }
        let head: Head = toml::from_str(text).map_err(|e| TranslationError::Parse(e.to_string()))?;
        Ok((head.meta.instrument, head.meta.version))
    }

    /// Parses a translation file and validates it against the version it translates.
    pub fn parse(file: &str, instrument: &Instrument) -> Result<Self, TranslationError> {
        let raw: RawTranslation = toml::from_str(file).map_err(|e| TranslationError::Parse(e.to_string()))?;
        let meta = &raw.meta;
        if meta.instrument != instrument.meta.id || meta.version != instrument.meta.version {
            return Err(TranslationError::Meta(format!(
                "the file translates {} {}, not {} {}",
                meta.instrument, meta.version, instrument.meta.id, instrument.meta.version
            )));
        }
        let lang = meta.lang.trim();
        if !(2..=8).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(TranslationError::Meta(format!(
                "lang {lang:?} must be 2 to 8 lowercase letters (such as tay, hmn, dao)"
            )));
        }
        if lang == "vi" || lang == "en" {
            return Err(TranslationError::Meta(format!(
                "lang {lang}: the questionnaire itself has vi and en"
            )));
        }
        if text(&Some(meta.name.clone())).is_none() {
            return Err(TranslationError::Meta("name (the language's name in itself) is empty".into()));
        }

        let mut problems = Vec::new();
        let mut missing = Vec::new();
        let mut items = HashMap::new();
        let mut options = HashMap::new();
        let mut levels = HashMap::new();
        for code in raw.items.keys().filter(|c| instrument.item(c).is_none()) {
            problems.push(format!("[items.\"{code}\"]: the questionnaire has no such item"));
        }
        for code in raw.sections.keys().filter(|c| !instrument.sections.iter().any(|s| &s.code == *c)) {
            problems.push(format!("[sections.{code}]: the questionnaire has no such section"));
        }
        for key in raw.ui.keys().filter(|k| !UI_KEYS.contains(&k.as_str())) {
            problems.push(format!("[ui] {key}: not a word of the survey (known: {})", UI_KEYS.join(", ")));
        }
        for (key, value) in &raw.ui {
            if value.trim().is_empty() {
                problems.push(format!("[ui] {key}: empty"));
            }
        }
        for item in instrument.items() {
            let given = raw.items.get(&item.code);
            match given.and_then(|g| text(&g.text)) {
                Some(t) => {
                    items.insert(item.code.clone(), t.to_string());
                }
                None => missing.push(format!("item {}", item.code)),
            }
            let own = given.map(|g| &g.options);
            if matches!(item.kind, ItemKind::Choice | ItemKind::Multi) {
                for choice in &item.options {
                    match own.and_then(|o| o.get(&choice.code.to_string())).map(|s| s.trim()) {
                        Some(t) if !t.is_empty() => {
                            options.insert((item.code.clone(), choice.code), t.to_string());
                        }
                        _ => missing.push(format!("option {} of item {}", choice.code, item.code)),
                    }
                }
            }
            for key in own.into_iter().flat_map(|o| o.keys()) {
                let known = matches!(item.kind, ItemKind::Choice | ItemKind::Multi)
                    && item.options.iter().any(|c| c.code.to_string() == *key);
                if !known {
                    problems
                        .push(format!("[items.\"{}\"] option {key}: the item has no such option", item.code));
                }
            }
        }
        for code in raw.scales.keys().filter(|c| !instrument.scales.contains_key(*c)) {
            problems.push(format!("[scales.{code}]: the questionnaire has no such scale"));
        }
        for (code, scale) in &instrument.scales {
            let given = raw.scales.get(code);
            for level in &scale.levels {
                match given.and_then(|g| g.levels.get(&level.code.to_string())).map(|s| s.trim()) {
                    Some(t) if !t.is_empty() => {
                        levels.insert((code.clone(), level.code), t.to_string());
                    }
                    _ => missing.push(format!("level {} of scale {code}", level.code)),
                }
            }
            for key in given.into_iter().flat_map(|g| g.levels.keys()) {
                if !scale.levels.iter().any(|l| l.code.to_string() == *key) {
                    problems.push(format!("[scales.{code}] level {key}: the scale has no such level"));
                }
            }
        }
        if !problems.is_empty() {
            return Err(TranslationError::Invalid { lang: lang.to_string(), problems });
        }
        if !missing.is_empty() {
            return Err(TranslationError::Missing {
                lang: lang.to_string(),
                instrument: instrument.meta.id.clone(),
                version: instrument.meta.version.clone(),
                missing,
            });
        }
        Ok(Translation {
            instrument_id: instrument.meta.id.clone(),
            version: instrument.meta.version.clone(),
            lang: lang.to_string(),
            name: meta.name.trim().to_string(),
            slip: text(&meta.slip).map(str::to_string),
            title: text(&meta.title).map(str::to_string),
            ui: raw.ui.into_iter().map(|(k, v)| (k, v.trim().to_string())).collect(),
            sha256: sha256_hex(file.as_bytes()),
            sections: raw.sections.into_iter().collect(),
            items,
            options,
            levels,
        })
    }

    /// The text of an item (always there once validated).
    pub fn item(&self, code: &str) -> Option<&str> {
        self.items.get(code).map(String::as_str)
    }

    /// The label of an option or scale level of an item.
    pub fn choice(&self, instrument: &Instrument, code: &str, choice: i16) -> Option<&str> {
        let item = instrument.item(code)?;
        let found = match (&item.kind, &item.scale) {
            (ItemKind::Scale, Some(scale)) => self.levels.get(&(scale.clone(), choice)),
            _ => self.options.get(&(code.to_string(), choice)),
        };
        found.map(String::as_str)
    }

    /// A section's title, if the file gives one.
    pub fn section_title(&self, code: &str) -> Option<&str> {
        self.sections.get(code).and_then(|s| text(&s.title))
    }

    /// A section's note, if the file gives one.
    pub fn section_note(&self, code: &str) -> Option<&str> {
        self.sections.get(code).and_then(|s| text(&s.note))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_FILE: &str = include_str!("../../tests/translations/sipas-desk-2026.1.tay.toml");

    fn instrument() -> Instrument {
        Instrument::parse(include_str!("../../instruments/sipas-desk-2026.1.toml")).unwrap()
    }

    #[test]
    fn the_test_translation_covers_every_item_and_option() {
        let i = instrument();
        let t = Translation::parse(TEST_FILE, &i).unwrap();
        assert_eq!((t.lang.as_str(), t.name.as_str()), ("tay", "Tày (TEST)"));
        for item in i.items() {
            assert!(t.item(&item.code).is_some_and(|s| s.starts_with("[TEST-tay] ")), "{}", item.code);
            for c in i.choices_of(item) {
                assert!(t.choice(&i, &item.code, c.code).is_some(), "{} {}", item.code, c.code);
            }
        }
        assert_eq!(t.choice(&i, "CASE.OVERALL", 5), Some("[TEST-tay] Rất hài lòng"));
        assert_eq!(t.section_title("CASE"), Some("[TEST-tay] Về hồ sơ của Ông/Bà"));
        assert_eq!(t.section_title("E1"), None, "left out on purpose: shown in Vietnamese");
    }

    #[test]
    fn a_translation_missing_texts_is_refused_naming_every_one() {
        let i = instrument();
        let text = TEST_FILE
            .replace("text = \"[TEST-tay] Nhìn chung", "# text = \"")
            .replace("2 = \"[TEST-tay] Đúng ngày hẹn\", ", "")
            .replace("3 = \"[TEST-tay] Bình thường\", ", "");
        let err = Translation::parse(&text, &i).unwrap_err().to_string();
        assert!(err.starts_with("translation tay of sipas-desk 2026.1 is missing 3: "), "{err}");
        for named in ["item CASE.OVERALL", "option 2 of item TT01.I1", "level 3 of scale satisfaction5"] {
            assert!(err.contains(named), "{named}: {err}");
        }
    }

    #[test]
    fn unknown_codes_words_and_versions_are_refused_by_name() {
        let i = instrument();
        let text = format!("{TEST_FILE}\n[items.\"NOPE.1\"]\ntext = \"x\"\n");
        let err = Translation::parse(&text, &i).unwrap_err().to_string();
        assert!(err.contains("[items.\"NOPE.1\"]: the questionnaire has no such item"), "{err}");
        let text = TEST_FILE.replace("next = \"[TEST-tay]", "nxet = \"[TEST-tay]");
        let err = Translation::parse(&text, &i).unwrap_err().to_string();
        assert!(err.contains("[ui] nxet: not a word of the survey"), "{err}");
        let text = TEST_FILE.replace("version = \"2026.1\"", "version = \"2025.9\"");
        let err = Translation::parse(&text, &i).unwrap_err().to_string();
        assert!(err.contains("translates sipas-desk 2025.9, not sipas-desk 2026.1"), "{err}");
        for lang in ["vi", "EN", "t", "tày"] {
            let text = TEST_FILE.replace("lang = \"tay\"", &format!("lang = \"{lang}\""));
            assert!(matches!(Translation::parse(&text, &i), Err(TranslationError::Meta(_))), "{lang}");
        }
        let text = TEST_FILE
            .replace("options = { 1 = \"[TEST-tay] Sớm", "options = { 9 = \"x\", 1 = \"[TEST-tay] Sớm");
        let err = Translation::parse(&text, &i).unwrap_err().to_string();
        assert!(err.contains("option 9: the item has no such option"), "{err}");
    }
}
