//! A line chart on logarithmic axes, as a self-contained SVG (no script, no external font, a white
//! background), for measurements that span orders of magnitude: one wait among 10 to 10,000
//! descriptors costs from under a microsecond to hundreds.

use std::fmt::Write as _;

use crate::chart::{self, escape};

/// One line: a name for the legend, a colour, and its points (x, y), both positive.
#[derive(Clone, Debug)]
pub struct Line {
    pub name: String,
    pub color: &'static str,
    pub points: Vec<(f64, f64)>,
}

/// A chart of lines on log-log axes.
#[derive(Clone, Debug)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub lines: Vec<Line>,
    /// Small lines under the chart: where the numbers come from.
    pub notes: Vec<String>,
}

const WIDTH: f64 = 760.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 48.0;
const PLOT_HEIGHT: f64 = 300.0;

/// The powers of ten from below `low` to above `high`.
fn decades(low: f64, high: f64) -> (i32, i32) {
    (low.log10().floor() as i32, high.log10().ceil().max(low.log10().floor() + 1.0) as i32)
}

/// `1`, `10`, `0.1`, `10,000`: a power of ten as the axes label it.
fn power_label(exponent: i32) -> String {
    if exponent < 0 {
        return format!("{}", 10f64.powi(exponent));
    }
    let digits = 10u64.pow(exponent as u32).to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The chart's SVG text.
pub fn svg(chart: &LineChart) -> String {
    let points = || chart.lines.iter().flat_map(|l| l.points.iter().copied());
    let (x_min, x_max) = points().fold((f64::INFINITY, 0.0f64), |(lo, hi), (x, _)| (lo.min(x), hi.max(x)));
    let (y_min, y_max) = points().fold((f64::INFINITY, 0.0f64), |(lo, hi), (_, y)| (lo.min(y), hi.max(y)));
    let (x_low, x_high) = decades(x_min.max(f64::MIN_POSITIVE), x_max.max(f64::MIN_POSITIVE));
    let (y_low, y_high) = decades(y_min.max(f64::MIN_POSITIVE), y_max.max(f64::MIN_POSITIVE));
    let plot_width = WIDTH - LEFT - RIGHT;
    let x = |v: f64| LEFT + plot_width * (v.log10() - f64::from(x_low)) / f64::from(x_high - x_low);
    let y = |v: f64| TOP + PLOT_HEIGHT * (1.0 - (v.log10() - f64::from(y_low)) / f64::from(y_high - y_low));
    let axis_y = TOP + PLOT_HEIGHT;
    let height = axis_y + 44.0 + chart::NOTE_LINE * chart.notes.len() as f64 + 8.0;

    let mut out = chart::open_svg(WIDTH, height, LEFT, &chart.title);
    // The grid: a line per power of ten on each axis.
    for e in x_low..=x_high {
        let tx = x(10f64.powi(e));
        let _ =
            writeln!(out, r##"<line x1="{tx:.1}" y1="{TOP}" x2="{tx:.1}" y2="{axis_y}" stroke="#dddddd"/>"##);
        let _ = writeln!(
            out,
            r#"<text x="{tx:.1}" y="{}" text-anchor="middle">{}</text>"#,
            axis_y + 16.0,
            power_label(e)
        );
    }
    for e in y_low..=y_high {
        let ty = y(10f64.powi(e));
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="#dddddd"/>"##,
            LEFT + plot_width
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            ty + 4.0,
            power_label(e)
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
        LEFT + plot_width / 2.0,
        axis_y + 34.0,
        escape(&chart.x_label)
    );
    let _ = writeln!(
        out,
        r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#,
        TOP + PLOT_HEIGHT / 2.0,
        TOP + PLOT_HEIGHT / 2.0,
        escape(&chart.y_label)
    );
    // The lines, each named at its last point.
    for line in &chart.lines {
        let path: Vec<String> =
            line.points.iter().map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py))).collect();
        let _ = writeln!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
            path.join(" "),
            line.color
        );
        for &(px, py) in &line.points {
            let _ =
                writeln!(out, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#, x(px), y(py), line.color);
        }
        if let Some(&(px, py)) = line.points.last() {
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" fill="{}">{}</text>"#,
                x(px) + 8.0,
                y(py) + 4.0,
                line.color,
                escape(&line.name)
            );
        }
    }
    chart::close_svg(out, 8.0, axis_y + 52.0, &chart.notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_of_ten_are_labelled_as_a_reader_writes_them() {
        assert_eq!(power_label(0), "1");
        assert_eq!(power_label(4), "10,000");
        assert_eq!(power_label(-1), "0.1");
    }

    #[test]
    fn a_line_is_drawn_through_every_point_and_named() {
        let chart = LineChart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            lines: vec![Line {
                name: "poll".into(),
                color: "#000000",
                points: vec![(10.0, 1.0), (1000.0, 30.0)],
            }],
            notes: vec![],
        };
        let svg = svg(&chart);
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains(">poll</text>"));
        assert!(svg.contains("<polyline"));
    }
}
