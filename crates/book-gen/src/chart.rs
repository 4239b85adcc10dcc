//! A horizontal grouped bar chart as a self-contained SVG: no script, no external font, a white
//! background (so it reads the same in mdBook's dark themes).

use std::fmt::Write as _;

/// One kind of bar: a name for the legend, a colour, and one value per label.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub values: Vec<f64>,
}

/// A chart: a group of bars per label, one bar per series.
#[derive(Clone, Debug)]
pub struct BarChart {
    pub title: String,
    /// Appended to every value and tick (`" s"`), or empty.
    pub unit: &'static str,
    /// Decimals of the values written beside the bars.
    pub decimals: usize,
    /// One per group, top to bottom.
    pub labels: Vec<String>,
    pub series: Vec<Series>,
    /// Small lines under the chart: where the numbers come from.
    pub notes: Vec<String>,
}

const WIDTH: f64 = 760.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 80.0;
const TOP: f64 = 62.0;
const BAR: f64 = 11.0;
const GROUP_GAP: f64 = 12.0;
/// The height of a note line under a chart.
pub const NOTE_LINE: f64 = 15.0;

/// Escapes text for an SVG text node or attribute.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A round step for about `ticks` grid lines up to `max` (1, 2 or 5 times a power of ten).
pub fn nice_step(max: f64, ticks: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let raw = max / ticks;
    let power = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|s| *s >= raw).unwrap_or(10.0 * power);
    step.max(f64::MIN_POSITIVE)
}

/// The chart's SVG text.
pub fn svg(chart: &BarChart) -> String {
    let groups = chart.labels.len();
    let group_height = BAR * chart.series.len() as f64 + GROUP_GAP;
    let plot_height = group_height * groups as f64;
    let axis_y = TOP + plot_height;
    let height = axis_y + 30.0 + NOTE_LINE * chart.notes.len() as f64 + 8.0;
    let max = chart.series.iter().flat_map(|s| s.values.iter().copied()).fold(0.0, f64::max);
    let step = nice_step(max, 5.0);
    let top = (max / step).ceil().max(1.0) * step;
    let plot_width = WIDTH - LEFT - RIGHT;
    let x = |value: f64| LEFT + plot_width * value / top;

    let mut out = open_svg(WIDTH, height, LEFT, &chart.title);

    // Legend.
    let mut legend_x = LEFT;
    for series in &chart.series {
        let _ =
            writeln!(out, r#"<rect x="{legend_x}" y="34" width="12" height="12" fill="{}"/>"#, series.color);
        let _ = writeln!(out, r#"<text x="{}" y="44">{}</text>"#, legend_x + 17.0, escape(&series.name));
        legend_x += 30.0 + 7.0 * series.name.len() as f64;
    }

    // Grid and ticks.
    let mut tick = 0.0;
    while tick <= top + step / 2.0 {
        let tx = x(tick);
        let _ =
            writeln!(out, r##"<line x1="{tx:.1}" y1="{TOP}" x2="{tx:.1}" y2="{axis_y}" stroke="#dddddd"/>"##);
        let _ = writeln!(
            out,
            r#"<text x="{tx:.1}" y="{}" text-anchor="middle">{}{}</text>"#,
            axis_y + 16.0,
            trim_number(tick),
            chart.unit
        );
        tick += step;
    }

    // Bars.
    for (g, label) in chart.labels.iter().enumerate() {
        let group_y = TOP + group_height * g as f64 + GROUP_GAP / 2.0;
        let middle = group_y + BAR * chart.series.len() as f64 / 2.0 + 4.0;
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{middle:.1}" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            escape(label)
        );
        for (s, series) in chart.series.iter().enumerate() {
            let value = series.values.get(g).copied().unwrap_or(0.0);
            let y = group_y + BAR * s as f64;
            let bar_width = (x(value) - LEFT).max(0.5);
            let _ = writeln!(
                out,
                r#"<rect x="{LEFT}" y="{y:.1}" width="{bar_width:.1}" height="{}" fill="{}"/>"#,
                BAR - 1.0,
                series.color
            );
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" font-size="10">{:.*}{}</text>"#,
                LEFT + bar_width + 4.0,
                y + BAR - 2.0,
                chart.decimals,
                value,
                chart.unit
            );
        }
    }
    let _ = writeln!(out, r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{axis_y}" stroke="#555555"/>"##);

    close_svg(out, 8.0, axis_y + 38.0, &chart.notes)
}

/// The start of a chart's SVG: its size, a white background (the same in mdBook's dark themes),
/// and its title at `title_x`.
pub fn open_svg(width: f64, height: f64, title_x: f64, title: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="{title_x}" y="22" font-size="15" font-weight="bold">{}</text>"#,
        escape(title)
    );
    out
}

/// The end of a chart's SVG: where the numbers come from, a line each from `(x, y)` down.
pub fn close_svg(mut out: String, x: f64, y: f64, notes: &[String]) -> String {
    for (i, note) in notes.iter().enumerate() {
        let line_y = y + NOTE_LINE * i as f64;
        let _ = writeln!(
            out,
            r##"<text x="{x}" y="{line_y:.1}" font-size="10" fill="#444444">{}</text>"##,
            escape(note)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// A tick value without trailing zeros: 0.5, 2, 10.
fn trim_number(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(7.6, 5.0), 2.0);
        assert_eq!(nice_step(0.9, 5.0), 0.2);
        assert_eq!(nice_step(11.0, 5.0), 5.0);
        assert_eq!(nice_step(0.0, 5.0), 1.0);
    }

    #[test]
    fn a_chart_is_one_svg_with_a_bar_per_value() {
        let chart = BarChart {
            title: "A & B".into(),
            unit: " s",
            decimals: 1,
            labels: vec!["one".into(), "two".into()],
            series: vec![
                Series { name: "wall".into(), color: "#1f77b4", values: vec![1.0, 2.0] },
                Series { name: "cpu".into(), color: "#ff7f0e", values: vec![0.5, 0.1] },
            ],
            notes: vec!["made by <a test>".into()],
        };
        let svg = svg(&chart);
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches(r#"height="10""#).count(), 4, "{svg}");
        assert!(svg.contains("A &amp; B") && svg.contains("made by &lt;a test&gt;"));
        assert!(svg.contains(">2.0 s<"), "{svg}");
    }
}
