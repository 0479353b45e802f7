//! Every interface string of the survey pages, once per language. Question text comes from the
//! instrument; only the words around it live here.

/// A language the survey speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    /// Vietnamese unless the resident chose another language (`?lang=`, a tap on the switch).
    /// `Accept-Language` is deliberately not read: many residents' phones are set to English
    /// (`en-US,vi;q=0.8` is a common factory setting) by a shop or a relative, not by them.
    pub fn negotiate(explicit: Option<&str>) -> Lang {
        explicit.and_then(Lang::from_code).unwrap_or(Lang::Vi)
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }

    /// A text of the instrument in this language.
    pub fn pick<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

/// The words around the questions.
#[derive(Debug)]
pub struct Strings {
    /// The name of this language, in itself (shown on the switch to it).
    pub own_name: &'static str,
    pub brand: &'static str,
    pub big_text_on: &'static str,
    pub big_text_off: &'static str,
    pub quick_hint: &'static str,
    pub privacy: &'static str,
    /// "Step", before "2/10".
    pub page: &'static str,
    /// Under the step: what was answered is kept, and stopping is fine.
    pub saved_note: &'static str,
    /// What happens next, on the thank-you page.
    pub thanks_next_title: &'static str,
    pub thanks_next: &'static str,
    /// While the reply the resident asked for is being prepared.
    pub reply_awaited: &'static str,
    /// The read-aloud button (added by the script when the phone has a voice).
    pub read_aloud: &'static str,
    pub next: &'static str,
    pub finish: &'static str,
    pub skip: &'static str,
    pub intro_title: &'static str,
    pub intro_body: &'static str,
    pub intro_continue: &'static str,
    pub intro_skip: &'static str,
    pub already_answered: &'static str,
    pub choose_up_to: &'static str,
    pub no_personal_data: &'static str,
    pub at_most_characters: &'static str,
    pub error_title: &'static str,
    pub error_invalid: &'static str,
    pub error_too_many: &'static str,
    pub error_too_long: &'static str,
    pub error_not_shown: &'static str,
    pub error_missing: &'static str,
    pub error_link: &'static str,
    pub thanks_title: &'static str,
    pub thanks_body: &'static str,
    pub thanks_more: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub expired_title: &'static str,
    pub expired_body: &'static str,
    pub busy_title: &'static str,
    pub rate_limited_body: &'static str,
    pub unavailable_body: &'static str,
}

pub static VI: Strings = Strings {
    own_name: "Tiếng Việt",
    brand: "Phiếu đánh giá sự hài lòng",
    big_text_on: "Chữ to",
    big_text_off: "Chữ thường",
    quick_hint: "Chạm một lựa chọn là đã gửi ý kiến. Các câu sau không bắt buộc.",
    privacy: "Phiếu không hỏi họ tên, số điện thoại hay giấy tờ của Ông/Bà.",
    page: "Bước",
    saved_note: "Các câu đã trả lời đã được lưu. Ông/Bà có thể dừng bất cứ lúc nào.",
    thanks_next_title: "Tiếp theo",
    thanks_next: "Ý kiến được tổng hợp cùng ý kiến của những người dân khác, không kèm tên ai, để lãnh đạo xã xem xét, cải thiện và báo cáo lên tỉnh hằng quý.",
    read_aloud: "Nghe đọc",
    reply_awaited: "Cơ quan đang xem xét ý kiến của Ông/Bà. Câu trả lời sẽ hiện tại chính địa chỉ này: xin giữ lại giấy có mã QR.",
    next: "Gửi và tiếp tục",
    finish: "Kết thúc",
    skip: "Bỏ qua trang này",
    intro_title: "Xin thêm vài phút nữa?",
    intro_body: "Ông/Bà có thể đánh giá thêm 19 nội dung về việc cung ứng dịch vụ hành chính công, theo phiếu khảo sát của Bộ Nội vụ (5 nhóm, mỗi nhóm một trang). Không bắt buộc: có thể bỏ qua bất cứ trang nào.",
    intro_continue: "Trả lời tiếp",
    intro_skip: "Bỏ qua phần này",
    already_answered: "Đã ghi nhận:",
    choose_up_to: "Chọn tối đa",
    no_personal_data: "Xin đừng ghi họ tên, số điện thoại, số CCCD hay địa chỉ.",
    at_most_characters: "ký tự tối đa",
    error_title: "Chưa ghi được câu trả lời",
    error_invalid: "Câu trả lời được đánh dấu bên dưới không hợp lệ. Xin chọn lại.",
    error_too_many: "Câu được đánh dấu bên dưới chỉ chọn được một số mục nhất định. Xin bỏ bớt.",
    error_too_long: "Ý kiến dài quá mức cho phép. Xin viết ngắn lại.",
    error_not_shown: "Câu được đánh dấu bên dưới chỉ dành cho người đã trả lời “Có” ở câu trước.",
    error_missing: "Xin chọn một mức hài lòng.",
    error_link: "Đến câu cần sửa",
    thanks_title: "Cảm ơn Ông/Bà!",
    thanks_body: "Ý kiến của Ông/Bà đã được ghi nhận. Mỗi phiếu chỉ được trả lời một lần.",
    thanks_more: "Ông/Bà có thể đóng trang này.",
    not_found_title: "Không tìm thấy phiếu khảo sát",
    not_found_body: "Đường dẫn này không đúng. Xin quét lại mã QR trên giấy hẹn trả kết quả, hoặc hỏi cán bộ tại Bộ phận Một cửa.",
    expired_title: "Phiếu khảo sát đã hết hạn",
    expired_body: "Thời hạn trả lời phiếu này đã qua. Cảm ơn Ông/Bà đã quan tâm.",
    busy_title: "Xin thử lại sau",
    rate_limited_body: "Có quá nhiều lượt gửi từ mạng này. Xin thử lại sau ít phút.",
    unavailable_body: "Hệ thống đang bận. Câu trả lời chưa được ghi; xin thử lại sau ít phút.",
};

pub static EN: Strings = Strings {
    own_name: "English",
    brand: "Satisfaction survey",
    big_text_on: "Larger text",
    big_text_off: "Normal text",
    quick_hint: "One tap sends your answer. The questions after it are optional.",
    privacy: "This survey never asks for your name, phone number or papers.",
    page: "Step",
    saved_note: "What you answered is already saved. You may stop at any time.",
    thanks_next_title: "What happens next",
    thanks_next: "Your answers are added up with other residents' answers, without anyone's name, for the commune's leaders to review, improve and report to the province every quarter.",
    read_aloud: "Read aloud",
    reply_awaited: "The office is looking into your comment. The reply will appear at this same address: please keep the slip with the QR code.",
    next: "Save and continue",
    finish: "Finish",
    skip: "Skip this page",
    intro_title: "A few more minutes?",
    intro_body: "You can also rate 19 statements on public administrative services, from the Ministry of Home Affairs' survey (5 groups, one page each). It is optional: skip any page you like.",
    intro_continue: "Continue",
    intro_skip: "Skip this part",
    already_answered: "Recorded:",
    choose_up_to: "Choose up to",
    no_personal_data: "Please do not write names, phone numbers, ID numbers or addresses.",
    at_most_characters: "characters at most",
    error_title: "Your answer was not saved",
    error_invalid: "The answer marked below is not valid. Please choose again.",
    error_too_many: "The question marked below takes only a few choices. Please untick some.",
    error_too_long: "The comment is too long. Please shorten it.",
    error_not_shown: "The question marked below is only for those who answered “Yes” before.",
    error_missing: "Please choose how satisfied you are.",
    error_link: "Go to the question",
    thanks_title: "Thank you!",
    thanks_body: "Your answers have been recorded. Each survey can be answered once.",
    thanks_more: "You can close this page.",
    not_found_title: "Survey not found",
    not_found_body: "This address is not right. Please scan the QR code on your receipt again, or ask at the one-stop desk.",
    expired_title: "This survey has expired",
    expired_body: "The time to answer this survey is over. Thank you for your interest.",
    busy_title: "Please try again later",
    rate_limited_body: "Too many answers were sent from this network. Please try again in a few minutes.",
    unavailable_body: "The service is busy. Your answer was not saved; please try again in a few minutes.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_unless_the_resident_chooses_english() {
        assert_eq!(Lang::negotiate(None), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("xx")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("vi")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("en")), Lang::En);
        assert_eq!(Lang::negotiate(Some(" EN ")), Lang::En);
    }
}
