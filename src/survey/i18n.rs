//! Every interface string of the survey pages, once per language, and the language a page is
//! in. Question text comes from the instrument (vi, en) or from a translation of its version
//! (`instrument::translation`); a text a translation does not give is shown in Vietnamese, text
//! by text, so no screen is ever blank.

use std::borrow::Cow;
use std::sync::Arc;

use crate::instrument::Instrument;
use crate::instrument::model::{Choice, Item, Section};
use crate::instrument::translation::Translation;

/// A language the survey speaks: the questionnaire's own two, or a translation of its version.
#[derive(Debug, Clone)]
pub enum Lang {
    Vi,
    En,
    Other(Arc<Translation>),
}

impl PartialEq for Lang {
    fn eq(&self, other: &Lang) -> bool {
        self.code() == other.code()
    }
}

impl Lang {
    /// The code in `?lang=`, on the token and in `<html lang>`.
    pub fn code(&self) -> &str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
            Lang::Other(t) => &t.lang,
        }
    }

    /// The language's name in itself (on the switch to it).
    pub fn own_name(&self) -> &str {
        match self {
            Lang::Vi => "Tiếng Việt",
            Lang::En => "English",
            Lang::Other(t) => &t.name,
        }
    }

    /// The language with this code among Vietnamese, English and the version's translations.
    pub fn from_code(code: &str, offered: &[Arc<Translation>]) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            other => offered.iter().find(|t| t.lang == other).map(|t| Lang::Other(t.clone())),
        }
    }

    /// Vietnamese unless the resident chose another language: a tap on the switch (`?lang=`),
    /// else the choice remembered on the token. `Accept-Language` is deliberately not read: many
    /// residents' phones are set to English (`en-US,vi;q=0.8` is a common factory setting) by a
    /// shop or a relative, not by them.
    pub fn choose(explicit: Option<&str>, remembered: Option<&str>, offered: &[Arc<Translation>]) -> Lang {
        explicit
            .and_then(|c| Lang::from_code(c, offered))
            .or_else(|| remembered.and_then(|c| Lang::from_code(c, offered)))
            .unwrap_or(Lang::Vi)
    }

    /// Every language a version offers, Vietnamese first.
    pub fn offered(offered: &[Arc<Translation>]) -> Vec<Lang> {
        let mut all = vec![Lang::Vi, Lang::En];
        all.extend(offered.iter().map(|t| Lang::Other(t.clone())));
        all
    }

    /// The words around the questions; a translation's own where it gives them, else Vietnamese.
    pub fn strings(&self) -> Cow<'static, Strings> {
        match self {
            Lang::Vi => Cow::Borrowed(&VI),
            Lang::En => Cow::Borrowed(&EN),
            Lang::Other(t) => {
                let mut words = VI.clone();
                for (key, value) in &t.ui {
                    words.set(key, value);
                }
                Cow::Owned(words)
            }
        }
    }

    /// A word of the handlers' own, given in vi and en: Vietnamese for a translation.
    pub fn pick<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            _ => vi,
        }
    }

    /// An item's question.
    pub fn item<'a>(&'a self, item: &'a Item) -> &'a str {
        match self {
            Lang::Vi => &item.vi,
            Lang::En => &item.en,
            Lang::Other(t) => t.item(&item.code).unwrap_or(&item.vi),
        }
    }

    /// An option's or a scale level's label.
    pub fn choice<'a>(&'a self, instrument: &Instrument, item: &Item, choice: &'a Choice) -> &'a str {
        match self {
            Lang::Vi => &choice.vi,
            Lang::En => &choice.en,
            Lang::Other(t) => t.choice(instrument, &item.code, choice.code).unwrap_or(&choice.vi),
        }
    }

    /// A section's title.
    pub fn section<'a>(&'a self, section: &'a Section) -> &'a str {
        match self {
            Lang::Vi => &section.vi,
            Lang::En => &section.en,
            Lang::Other(t) => t.section_title(&section.code).unwrap_or(&section.vi),
        }
    }

    /// A section's note, if it has one.
    pub fn note<'a>(&'a self, section: &'a Section) -> Option<&'a str> {
        let vi = section.note_vi.as_deref();
        match self {
            Lang::Vi => vi,
            Lang::En => section.note_en.as_deref().or(vi),
            Lang::Other(t) => t.section_note(&section.code).or(vi),
        }
    }

    /// The questionnaire's title.
    pub fn title<'a>(&'a self, instrument: &'a Instrument) -> &'a str {
        match self {
            Lang::Vi => &instrument.meta.title_vi,
            Lang::En => &instrument.meta.title_en,
            Lang::Other(t) => t.title.as_deref().unwrap_or(&instrument.meta.title_vi),
        }
    }
}

macro_rules! strings {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// The words around the questions.
        #[derive(Debug, Clone)]
        pub struct Strings {
            $($(#[$doc])* pub $name: Cow<'static, str>,)*
        }

        impl Strings {
            /// The names a translation's `[ui]` may give (`instrument::translation::UI_KEYS`).
            pub const KEYS: &[&str] = &[$(stringify!($name)),*];

            /// Replaces the word named `key`; false when there is no such word.
            pub fn set(&mut self, key: &str, value: &str) -> bool {
                match key {
                    $(stringify!($name) => self.$name = Cow::Owned(value.to_string()),)*
                    _ => return false,
                }
                true
            }
        }
    };
}

strings! {
    /// The label of the list of languages.
    languages,
    /// Above the office's reply, and before its date.
    reply_heading,
    reply_date,
    brand,
    big_text_on,
    big_text_off,
    quick_hint,
    privacy,
    /// "Step", before "2/10".
    page,
    /// Under the step: what was answered is kept, and stopping is fine.
    saved_note,
    /// What happens next, on the thank-you page.
    thanks_next_title,
    thanks_next,
    /// While the reply the resident asked for is being prepared.
    reply_awaited,
    /// The last choice of a SIPAS statement on a phone: leave it unanswered and go on.
    skip_statement,
    /// The read-aloud button (added by the script when the phone has a voice).
    read_aloud,
    next,
    finish,
    skip,
    intro_title,
    intro_body,
    intro_continue,
    intro_skip,
    already_answered,
    choose_up_to,
    no_personal_data,
    at_most_characters,
    error_title,
    error_invalid,
    error_too_many,
    error_too_long,
    error_not_shown,
    error_missing,
    error_link,
    thanks_title,
    thanks_body,
    thanks_more,
    not_found_title,
    not_found_body,
    expired_title,
    expired_body,
    busy_title,
    rate_limited_body,
    unavailable_body,
}

pub static VI: Strings = Strings {
    languages: Cow::Borrowed("Ngôn ngữ"),
    reply_heading: Cow::Borrowed("Trả lời của cơ quan"),
    reply_date: Cow::Borrowed("Ngày"),
    brand: Cow::Borrowed("Phiếu đánh giá sự hài lòng"),
    big_text_on: Cow::Borrowed("Chữ to"),
    big_text_off: Cow::Borrowed("Chữ thường"),
    quick_hint: Cow::Borrowed("Chạm một lựa chọn là đã gửi ý kiến. Các câu sau không bắt buộc."),
    privacy: Cow::Borrowed("Phiếu không hỏi họ tên, số điện thoại hay giấy tờ của Ông/Bà."),
    page: Cow::Borrowed("Bước"),
    saved_note: Cow::Borrowed("Các câu đã trả lời đã được lưu. Ông/Bà có thể dừng bất cứ lúc nào."),
    thanks_next_title: Cow::Borrowed("Tiếp theo"),
    thanks_next: Cow::Borrowed(
        "Ý kiến được tổng hợp cùng ý kiến của những người dân khác, không kèm tên ai, để lãnh đạo xã xem xét, cải thiện và báo cáo lên tỉnh hằng quý.",
    ),
    read_aloud: Cow::Borrowed("Nghe đọc"),
    skip_statement: Cow::Borrowed("Bỏ qua câu này"),
    reply_awaited: Cow::Borrowed(
        "Cơ quan đang xem xét ý kiến của Ông/Bà. Câu trả lời sẽ hiện tại chính địa chỉ này: xin giữ lại giấy có mã QR.",
    ),
    next: Cow::Borrowed("Gửi và tiếp tục"),
    finish: Cow::Borrowed("Kết thúc"),
    skip: Cow::Borrowed("Bỏ qua trang này"),
    intro_title: Cow::Borrowed("Xin thêm vài phút nữa?"),
    intro_body: Cow::Borrowed(
        "Ông/Bà có thể đánh giá thêm 19 nội dung về việc cung ứng dịch vụ hành chính công, theo phiếu khảo sát của Bộ Nội vụ (5 nhóm, mỗi nhóm một trang). Không bắt buộc: có thể bỏ qua bất cứ trang nào.",
    ),
    intro_continue: Cow::Borrowed("Trả lời tiếp"),
    intro_skip: Cow::Borrowed("Bỏ qua phần này"),
    already_answered: Cow::Borrowed("Đã ghi nhận:"),
    choose_up_to: Cow::Borrowed("Chọn tối đa"),
    no_personal_data: Cow::Borrowed("Xin đừng ghi họ tên, số điện thoại, số CCCD hay địa chỉ."),
    at_most_characters: Cow::Borrowed("ký tự tối đa"),
    error_title: Cow::Borrowed("Chưa ghi được câu trả lời"),
    error_invalid: Cow::Borrowed("Câu trả lời được đánh dấu bên dưới không hợp lệ. Xin chọn lại."),
    error_too_many: Cow::Borrowed(
        "Câu được đánh dấu bên dưới chỉ chọn được một số mục nhất định. Xin bỏ bớt.",
    ),
    error_too_long: Cow::Borrowed("Ý kiến dài quá mức cho phép. Xin viết ngắn lại."),
    error_not_shown: Cow::Borrowed(
        "Câu được đánh dấu bên dưới chỉ dành cho người đã trả lời “Có” ở câu trước.",
    ),
    error_missing: Cow::Borrowed("Xin chọn một mức hài lòng."),
    error_link: Cow::Borrowed("Đến câu cần sửa"),
    thanks_title: Cow::Borrowed("Cảm ơn Ông/Bà!"),
    thanks_body: Cow::Borrowed("Ý kiến của Ông/Bà đã được ghi nhận. Mỗi phiếu chỉ được trả lời một lần."),
    thanks_more: Cow::Borrowed("Ông/Bà có thể đóng trang này."),
    not_found_title: Cow::Borrowed("Không tìm thấy phiếu khảo sát"),
    not_found_body: Cow::Borrowed(
        "Đường dẫn này không đúng. Xin quét lại mã QR trên giấy hẹn trả kết quả, hoặc hỏi cán bộ tại Bộ phận Một cửa.",
    ),
    expired_title: Cow::Borrowed("Phiếu khảo sát đã hết hạn"),
    expired_body: Cow::Borrowed("Thời hạn trả lời phiếu này đã qua. Cảm ơn Ông/Bà đã quan tâm."),
    busy_title: Cow::Borrowed("Xin thử lại sau"),
    rate_limited_body: Cow::Borrowed("Có quá nhiều lượt gửi từ mạng này. Xin thử lại sau ít phút."),
    unavailable_body: Cow::Borrowed("Hệ thống đang bận. Câu trả lời chưa được ghi; xin thử lại sau ít phút."),
};

pub static EN: Strings = Strings {
    languages: Cow::Borrowed("Languages"),
    reply_heading: Cow::Borrowed("The office's reply"),
    reply_date: Cow::Borrowed("Date"),
    brand: Cow::Borrowed("Satisfaction survey"),
    big_text_on: Cow::Borrowed("Larger text"),
    big_text_off: Cow::Borrowed("Normal text"),
    quick_hint: Cow::Borrowed("One tap sends your answer. The questions after it are optional."),
    privacy: Cow::Borrowed("This survey never asks for your name, phone number or papers."),
    page: Cow::Borrowed("Step"),
    saved_note: Cow::Borrowed("What you answered is already saved. You may stop at any time."),
    thanks_next_title: Cow::Borrowed("What happens next"),
    thanks_next: Cow::Borrowed(
        "Your answers are added up with other residents' answers, without anyone's name, for the commune's leaders to review, improve and report to the province every quarter.",
    ),
    read_aloud: Cow::Borrowed("Read aloud"),
    skip_statement: Cow::Borrowed("Skip this statement"),
    reply_awaited: Cow::Borrowed(
        "The office is looking into your comment. The reply will appear at this same address: please keep the slip with the QR code.",
    ),
    next: Cow::Borrowed("Save and continue"),
    finish: Cow::Borrowed("Finish"),
    skip: Cow::Borrowed("Skip this page"),
    intro_title: Cow::Borrowed("A few more minutes?"),
    intro_body: Cow::Borrowed(
        "You can also rate 19 statements on public administrative services, from the Ministry of Home Affairs' survey (5 groups, one page each). It is optional: skip any page you like.",
    ),
    intro_continue: Cow::Borrowed("Continue"),
    intro_skip: Cow::Borrowed("Skip this part"),
    already_answered: Cow::Borrowed("Recorded:"),
    choose_up_to: Cow::Borrowed("Choose up to"),
    no_personal_data: Cow::Borrowed("Please do not write names, phone numbers, ID numbers or addresses."),
    at_most_characters: Cow::Borrowed("characters at most"),
    error_title: Cow::Borrowed("Your answer was not saved"),
    error_invalid: Cow::Borrowed("The answer marked below is not valid. Please choose again."),
    error_too_many: Cow::Borrowed("The question marked below takes only a few choices. Please untick some."),
    error_too_long: Cow::Borrowed("The comment is too long. Please shorten it."),
    error_not_shown: Cow::Borrowed("The question marked below is only for those who answered “Yes” before."),
    error_missing: Cow::Borrowed("Please choose how satisfied you are."),
    error_link: Cow::Borrowed("Go to the question"),
    thanks_title: Cow::Borrowed("Thank you!"),
    thanks_body: Cow::Borrowed("Your answers have been recorded. Each survey can be answered once."),
    thanks_more: Cow::Borrowed("You can close this page."),
    not_found_title: Cow::Borrowed("Survey not found"),
    not_found_body: Cow::Borrowed(
        "This address is not right. Please scan the QR code on your receipt again, or ask at the one-stop desk.",
    ),
    expired_title: Cow::Borrowed("This survey has expired"),
    expired_body: Cow::Borrowed("The time to answer this survey is over. Thank you for your interest."),
    busy_title: Cow::Borrowed("Please try again later"),
    rate_limited_body: Cow::Borrowed(
        "Too many answers were sent from this network. Please try again in a few minutes.",
    ),
    unavailable_body: Cow::Borrowed(
        "The service is busy. Your answer was not saved; please try again in a few minutes.",
    ),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_unless_the_resident_chooses_another_language() {
        assert_eq!(Lang::choose(None, None, &[]), Lang::Vi);
        assert_eq!(Lang::choose(Some("xx"), None, &[]), Lang::Vi);
        assert_eq!(Lang::choose(Some("en"), Some("vi"), &[]), Lang::En);
        assert_eq!(Lang::choose(Some(" EN "), None, &[]), Lang::En);
        assert_eq!(Lang::choose(None, Some("en"), &[]), Lang::En, "remembered on the token");
        assert_eq!(Lang::choose(Some("vi"), Some("en"), &[]), Lang::Vi, "a tap wins");
        assert_eq!(Lang::choose(Some("tay"), None, &[]), Lang::Vi, "not offered by this version");
    }

    #[test]
    fn a_translation_may_give_every_word_of_the_survey() {
        let mut keys: Vec<&str> = Strings::KEYS.to_vec();
        let mut ui: Vec<&str> = crate::instrument::translation::UI_KEYS.to_vec();
        keys.sort_unstable();
        ui.sort_unstable();
        assert_eq!(keys, ui);
        let mut words = VI.clone();
        assert!(words.set("next", "Gửi tiếp (TEST)"));
        assert_eq!(words.next, "Gửi tiếp (TEST)");
        assert!(!words.set("nope", "x"));
    }
}
