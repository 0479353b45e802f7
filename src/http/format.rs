//! Numbers as Vietnamese readers expect them: a decimal comma (84,45%) and a dot between thousands
//! (12.345). Dates and times in local time are `kernel::time::{local_date, local_datetime}`.

/// A decimal with a comma and `decimals` places: `84,45`.
pub fn decimal(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let grouped = group_thousands(digits);
    if frac.is_empty() { format!("{sign}{grouped}") } else { format!("{sign}{grouped},{frac}") }
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A whole number with dots between thousands: `12.345`.
pub fn count(n: u64) -> String {
    group_thousands(&n.to_string())
}

/// A percentage with 2 decimals, `84,45%`, or `—` when there is no data.
pub fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), |x| format!("{}%", decimal(x, 2)))
}

/// A change in percentage points with its sign: `+1,25`, `−0,50`, `0,00`; `—` without data.
pub fn delta(x: Option<f64>) -> String {
    match x {
        None => "—".into(),
        Some(x) if x.abs() < 0.005 => "0,00".into(),
        Some(x) if x > 0.0 => format!("+{}", decimal(x, 2)),
        Some(x) => format!("−{}", decimal(-x, 2)),
    }
}

/// A 95% interval: `80,12–88,03%`.
pub fn interval(ci: Option<(f64, f64)>) -> String {
    ci.map_or_else(|| "—".to_string(), |(lo, hi)| format!("{}–{}%", decimal(lo, 2), decimal(hi, 2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_use_a_decimal_comma_and_dotted_thousands() {
        assert_eq!(percent(Some(84.449_999)), "84,45%");
        assert_eq!(percent(Some(100.0)), "100,00%");
        assert_eq!(percent(None), "—");
        assert_eq!(count(1_234_567), "1.234.567");
        assert_eq!(count(12), "12");
        assert_eq!(decimal(12345.5, 1), "12.345,5");
        assert_eq!(delta(Some(-0.5)), "−0,50");
        assert_eq!(delta(Some(1.254)), "+1,25");
        assert_eq!(interval(Some((80.123, 88.031))), "80,12–88,03%");
    }
}
