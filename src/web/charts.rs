//! Charts drawn on the server as SVG: no chart script, no CDN, readable on a phone and a projector.

use std::fmt::Write;

/// 18210 → "18.210", as Indonesian writes thousands.
pub fn thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// 87.5 → "87,5": one decimal, with the Indonesian decimal comma.
pub fn percent_id(p: f64) -> String {
    format!("{p:.1}").replace('.', ",")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Green from 80%, amber from 50%, red below: the colours a governor's staff read at a glance.
pub fn colour(percent: f64) -> &'static str {
    match tone(percent) {
        "baik" => "#0b6b2f",
        "sedang" => "#8a5a00",
        _ => "#b3261e",
    }
}

/// The same three bands as CSS class suffixes (`tone-baik`, …): pages carry no inline styles,
/// so the Content-Security-Policy can forbid them.
pub fn tone(percent: f64) -> &'static str {
    if percent >= 80.0 {
        "baik"
    } else if percent >= 50.0 {
        "sedang"
    } else {
        "rendah"
    }
}

pub struct Bar {
    pub label: String,
    /// `None` where the figure is hidden (a small count on a public page).
    pub percent: Option<f64>,
}

/// One horizontal bar per area, with its percentage written at the end of the bar. The chart is
/// a picture of the table beside it, which carries the names, figures and links: links inside
/// the picture would be controls nested in an image.
pub fn bars(rows: &[Bar]) -> String {
    let (width, row_h, label_w) = (700.0, 28.0, 260.0);
    let bar_w = width - label_w - 60.0;
    let height = row_h * rows.len().max(1) as f64 + 8.0;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" aria-hidden=\"true\" focusable=\"false\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (i, row) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * row_h;
        let label: String = if row.label.chars().count() > 32 {
            row.label
                .chars()
                .take(31)
                .chain(std::iter::once('…'))
                .collect()
        } else {
            row.label.clone()
        };
        let percent = row.percent.unwrap_or(0.0);
        let filled = bar_w * percent.clamp(0.0, 100.0) / 100.0;
        let shown = row
            .percent
            .map_or("–".to_string(), |p| format!("{}%", percent_id(p)));
        let _ = write!(
            svg,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"13\" fill=\"#1b1f24\">{label}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{bar_w}\" height=\"{bh}\" fill=\"#e6e9ed\" rx=\"3\"/>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{filled:.1}\" height=\"{bh}\" fill=\"{c}\" rx=\"3\"/>\
             <text x=\"{px}\" y=\"{ty}\" font-size=\"13\" font-weight=\"700\" fill=\"#1b1f24\">{shown}</text>",
            lx = label_w - 8.0,
            ty = y + 15.0,
            label = escape(&label),
            bh = row_h - 8.0,
            c = colour(percent),
            px = label_w + bar_w + 6.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Signings per day as a line with its points labelled by date. When the last day is today
/// (`today_partial`), its point is drawn hollow and labelled as such: the day is not over, and a
/// low last figure is not a fall.
pub fn daily_line(points: &[(String, i64)], today_partial: bool) -> String {
    if points.is_empty() {
        return String::new();
    }
    let (width, height, pad) = (640.0, 200.0, 36.0);
    let max = points.iter().map(|p| p.1).max().unwrap_or(1).max(1) as f64;
    let step = if points.len() > 1 {
        (width - 2.0 * pad) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let xy: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, (_, n))| {
            (
                pad + i as f64 * step,
                height - pad - (height - 2.0 * pad) * *n as f64 / max,
            )
        })
        .collect();
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"Grafik penandatanganan per hari\" xmlns=\"http://www.w3.org/2000/svg\">\
         <line x1=\"{pad}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#9aa3ad\"/>\
         <text x=\"4\" y=\"{t}\" font-size=\"12\" fill=\"#5a636e\">{max}</text>",
        b = height - pad,
        r = width - pad,
        t = pad + 4.0,
        max = thousands(max as i64)
    );
    let path: Vec<String> = xy.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let _ = write!(
        svg,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#8a1c1c\" stroke-width=\"3\"/>",
        path.join(" ")
    );
    let every = points.len().div_ceil(8).max(1);
    for (i, ((label, n), (x, y))) in points.iter().zip(&xy).enumerate() {
        let last = i + 1 == points.len();
        let (label, fill) = if last && today_partial {
            (format!("{label} (hari ini, belum selesai)"), "#fff")
        } else {
            (label.clone(), "#8a1c1c")
        };
        let _ = write!(svg, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{fill}\" stroke=\"#8a1c1c\" stroke-width=\"2\"><title>{}: {n}</title></circle>", escape(&label));
        if i % every == 0 || last {
            let short = if last && today_partial {
                "hari ini*"
            } else {
                &label
            };
            let anchor = if last && points.len() > 1 {
                "end"
            } else {
                "middle"
            };
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{ly}\" font-size=\"12\" text-anchor=\"{anchor}\" fill=\"#5a636e\">{}</text>",
                escape(short),
                ly = height - pad + 18.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}
