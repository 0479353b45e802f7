//! Charts drawn on the server as SVG: no script, no third-party library, nothing to download.
//! Readable without colour: the two lines differ by stroke (solid / dashed) and marker (filled
//! dot / hollow square), every point and bar carries its value as text, and a legend names each.
//! Styling comes from classes in the stylesheet (the CSP forbids inline styles).

use std::fmt::Write as _;

use crate::http::format::{count, decimal};

/// One step of a trend.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    /// Short axis label, e.g. `11/2026` or `Q4/2026`.
    pub label: String,
    pub responses: u64,
    /// Overall satisfaction (`CASE.OVERALL`), `None` when suppressed or without data.
    pub overall: Option<f64>,
    /// Its 95% interval, drawn as a whisker through the dot.
    pub ci: Option<(f64, f64)>,
    /// SIPAS index, `None` when suppressed or without data.
    pub sipas: Option<f64>,
}

/// Escapes text for SVG/XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const W: f64 = 880.0;
const TOP: f64 = 24.0;
const PLOT_H: f64 = 220.0;
const BARS_H: f64 = 60.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;

/// The trend chart: satisfaction lines on a 0–100% scale above, response counts as bars below.
pub fn trend_svg(points: &[TrendPoint], title: &str) -> String {
    let n = points.len().max(1) as f64;
    let step = (W - LEFT - RIGHT) / n;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    let y = |v: f64| TOP + PLOT_H * (1.0 - v.clamp(0.0, 100.0) / 100.0);
    let bars_top = TOP + PLOT_H + 46.0;
    let h = bars_top + BARS_H + 22.0;
    let max_n = points.iter().map(|p| p.responses).max().unwrap_or(0).max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" role="img" aria-labelledby="trend-title"><title id="trend-title">{}</title>"#,
        escape(title)
    );
    // grid and left axis, every 20%
    for v in (0..=100).step_by(20) {
        let yy = y(f64::from(v));
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{yy:.1}" y2="{yy:.1}"/><text class="small" x="{}" y="{:.1}" text-anchor="end">{v}%</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0
        );
    }
    let _ = write!(s, r#"<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{:.1}"/>"#, TOP + PLOT_H);
    // lines, broken where a step has no figure
    for (class, get) in [("overall", 0usize), ("sipas", 1usize)] {
        let value = |p: &TrendPoint| if get == 0 { p.overall } else { p.sipas };
        let mut path = String::new();
        let mut pen_down = false;
        for (i, p) in points.iter().enumerate() {
            match value(p) {
                Some(v) => {
                    let _ = write!(path, "{}{:.1} {:.1} ", if pen_down { "L" } else { "M" }, x(i), y(v));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            let _ = write!(s, r#"<path class="line-{class}" d="{}"/>"#, path.trim_end());
        }
        for (i, p) in points.iter().enumerate() {
            let Some(v) = value(p) else { continue };
            let (cx, cy) = (x(i), y(v));
            if get == 0 {
                if let Some((lo, hi)) = p.ci {
                    let _ = write!(
                        s,
                        r##"<g class="ci"><title>Khoảng tin cậy 95%: {}–{}%</title><line x1="{cx:.1}" x2="{cx:.1}" y1="{:.1}" y2="{:.1}" stroke="#444" stroke-width="1.5"/><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#444" stroke-width="1.5"/><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#444" stroke-width="1.5"/></g>"##,
                        decimal(lo, 2),
                        decimal(hi, 2),
                        y(lo),
                        y(hi),
                        cx - 4.0,
                        cx + 4.0,
                        y(lo),
                        y(lo),
                        cx - 4.0,
                        cx + 4.0,
                        y(hi),
                        y(hi)
                    );
                }
                let _ = write!(s, r#"<circle class="dot-overall" cx="{cx:.1}" cy="{cy:.1}" r="4"/>"#);
                let _ = write!(
                    s,
                    r#"<text class="value" x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                    cy - 9.0,
                    decimal(v, 1)
                );
            } else {
                let _ = write!(
                    s,
                    r#"<rect class="dot-sipas" x="{:.1}" y="{:.1}" width="8" height="8"/>"#,
                    cx - 4.0,
                    cy - 4.0
                );
                // beside the marker, so it never sits on the overall line's label above its dot
                let _ = write!(
                    s,
                    r#"<text class="small" x="{:.1}" y="{:.1}" text-anchor="start">{}</text>"#,
                    cx + 7.0,
                    cy + 4.0,
                    decimal(v, 1)
                );
            }
        }
    }
    // period labels
    for (i, p) in points.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text class="small" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x(i),
            TOP + PLOT_H + 16.0,
            escape(&p.label)
        );
    }
    // response counts
    let _ = write!(s, r#"<text class="small" x="{LEFT}" y="{:.1}">Số phiếu trả lời</text>"#, bars_top - 6.0);
    let bar_w = (step * 0.6).max(2.0);
    for (i, p) in points.iter().enumerate() {
        let bh = BARS_H * (p.responses as f64 / max_n);
        let by = bars_top + BARS_H - bh;
        let _ = write!(
            s,
            r#"<rect class="bar" x="{:.1}" y="{by:.1}" width="{bar_w:.1}" height="{bh:.1}"/><text class="small" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x(i) - bar_w / 2.0,
            x(i),
            bars_top + BARS_H + 14.0,
            count(p.responses)
        );
    }
    s.push_str("</svg>");
    s
}

/// One bar of a side-by-side chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub code: String,
    pub label: String,
    pub value: Option<f64>,
    pub n: u64,
}

/// Horizontal bars on a 0–100% scale, each with its code, name, value and n written out.
pub fn bars_svg(bars: &[Bar], title: &str) -> String {
    let row = 34.0;
    let label_w = 330.0;
    let plot_w = W - label_w - 120.0;
    let h = row * bars.len() as f64 + 30.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h:.0}" role="img" aria-labelledby="bars-title"><title id="bars-title">{}</title>"#,
        escape(title)
    );
    for v in (0..=100).step_by(25) {
        let xx = label_w + plot_w * f64::from(v) / 100.0;
        let _ = write!(
            s,
            r#"<line class="grid" x1="{xx:.1}" x2="{xx:.1}" y1="4" y2="{:.1}"/><text class="small" x="{xx:.1}" y="{:.1}" text-anchor="middle">{v}%</text>"#,
            h - 22.0,
            h - 8.0
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let top = 6.0 + row * i as f64;
        let name: String = b.label.chars().take(44).collect();
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{} · {}</text>"#,
            label_w - 8.0,
            top + 17.0,
            escape(&b.code),
            escape(&name)
        );
        match b.value {
            Some(v) => {
                let w = plot_w * v.clamp(0.0, 100.0) / 100.0;
                let _ = write!(
                    s,
                    r#"<rect class="bar-e p{}" x="{label_w}" y="{top:.1}" width="{w:.1}" height="22"/><text class="value" x="{:.1}" y="{:.1}">{}% (n={})</text>"#,
                    i % 5 + 1,
                    label_w + w + 6.0,
                    top + 16.0,
                    decimal(v, 2),
                    count(b.n)
                );
            }
            None => {
                let _ = write!(
                    s,
                    r#"<text class="small" x="{:.1}" y="{:.1}">chưa có dữ liệu (n={})</text>"#,
                    label_w + 6.0,
                    top + 16.0,
                    count(b.n)
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(label: &str, n: u64, overall: Option<f64>) -> TrendPoint {
        TrendPoint {
            label: label.into(),
            responses: n,
            overall,
            ci: overall.map(|v| (v - 3.0, v + 2.5)),
            sipas: overall.map(|v| v - 5.0),
        }
    }

    #[test]
    fn a_trend_has_labelled_points_and_breaks_where_data_is_missing() {
        let svg = trend_svg(
            &[point("1/2026", 40, Some(84.45)), point("2/2026", 2, None), point("3/2026", 1234, Some(90.0))],
            "Xu hướng <test>",
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("84,5") && svg.contains("1.234") && svg.contains("3/2026"));
        assert!(svg.contains("&lt;test&gt;") && !svg.contains("<test>"));
        // two separate runs: the line lifts its pen over the missing month
        let overall = svg.split("class=\"line-overall\" d=\"").nth(1).unwrap_or("");
        assert_eq!(overall.split('"').next().unwrap_or("").matches('M').count(), 2);
        assert!(!svg.contains("style="));
        // each month's interval is drawn
        assert_eq!(svg.matches(r#"<g class="ci">"#).count(), 2);
        assert!(svg.contains("Khoảng tin cậy 95%: 81,45–86,95%"));
    }

    #[test]
    fn bars_show_values_and_missing_data_in_words() {
        let svg = bars_svg(
            &[
                Bar { code: "E1".into(), label: "Tiếp cận".into(), value: Some(75.0), n: 8 },
                Bar { code: "E5".into(), label: "Phản ánh".into(), value: None, n: 0 },
            ],
            "Năm yếu tố",
        );
        assert!(svg.contains("75,00% (n=8)") && svg.contains("chưa có dữ liệu"));
    }
}
