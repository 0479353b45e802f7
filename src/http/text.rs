//! Sentences the staff pages show that come from code rather than from a template, in one
//! place. Staff pages are in Vietnamese only.

pub const FORBIDDEN_TITLE: &str = "Không có quyền truy cập";
pub const FORBIDDEN: &str = "Vai trò của bạn không được xem trang này hoặc thực hiện thao tác này.";
pub const CSRF_TITLE: &str = "Biểu mẫu đã hết hạn";
pub const CSRF: &str =
    "Biểu mẫu không hợp lệ hoặc đã hết hạn. Vui lòng tải lại trang, đăng nhập lại nếu cần, rồi thử lại.";
pub const NOT_FOUND_TITLE: &str = "Không tìm thấy";
pub const NOT_FOUND: &str = "Không có nội dung tại địa chỉ này.";
pub const ERROR_TITLE: &str = "Có lỗi xảy ra";

pub const LOGIN_TITLE: &str = "Đăng nhập";
pub const LOGIN_REFUSED: &str = "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đang tạm khóa do nhập sai \
                                 nhiều lần. Vui lòng kiểm tra lại hoặc thử lại sau ít phút.";
pub const LOGIN_BLOCKED: &str =
    "Máy này đã nhập sai mật khẩu quá nhiều lần. Vui lòng thử lại sau 15 phút hoặc liên hệ quản trị viên.";
pub const LOGIN_MISSING: &str = "Vui lòng nhập tên đăng nhập và mật khẩu.";

pub const USERS_TITLE: &str = "Tài khoản";
pub const USER_CREATED: &str = "Đã tạo tài khoản.";
pub const USER_SAVED: &str = "Đã lưu thay đổi.";
pub const USER_PASSWORD_RESET: &str =
    "Đã đặt lại mật khẩu; các phiên đăng nhập cũ của tài khoản đã kết thúc.";
pub const USER_UNLOCKED: &str = "Đã mở khóa tài khoản.";
pub const BAD_ROLE: &str = "Vai trò không hợp lệ.";

pub const MASTERDATA_TITLE: &str = "Danh mục";
pub const AUDIT_TITLE: &str = "Nhật ký thao tác";
pub const DASHBOARD_TITLE: &str = "Bảng theo dõi mức độ hài lòng";
pub const OFFICER_TITLE: &str = "Kết quả của cán bộ";

/// The Vietnamese name of an audit action, for the audit page (the code is shown as well).
pub fn action_label(action: &str) -> &'static str {
    match action {
        "login.success" => "Đăng nhập",
        "login.failed" => "Đăng nhập thất bại",
        "login.blocked_client" => "Máy bị chặn đăng nhập",
        "logout" => "Đăng xuất",
        "user.create" => "Tạo tài khoản",
        "user.change_role" => "Đổi vai trò / phạm vi",
        "user.activate" => "Mở lại tài khoản",
        "user.deactivate" => "Khóa tài khoản",
        "user.reset_password" => "Đặt lại mật khẩu",
        "user.unlock" => "Mở khóa đăng nhập",
        "api_key.create" => "Tạo khóa API",
        "api_key.revoke" => "Thu hồi khóa API",
        "officer.activate" => "Kích hoạt cán bộ",
        "officer.deactivate" => "Ngừng kích hoạt cán bộ",
        a if a.starts_with("import.") || a.starts_with("masterdata.") => "Nhập danh mục",
        a if a.starts_with("invitation") => "Phát phiếu khảo sát",
        a if a.starts_with("followup") => "Trả lời phản ánh",
        a if a.starts_with("review") || a.starts_with("integrity") => "Xem xét phiếu bị gắn cờ",
        _ => "Thao tác khác",
    }
}
