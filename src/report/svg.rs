//! Line charts as inline SVG, drawn here so that a report needs no script and no
//! network: axes with round ticks, one polyline per series, dashed threshold lines.

use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 32.0;

/// One line of a chart.
pub struct Line<'a> {
    pub label: &'a str,
    pub color: &'a str,
    /// `(x, y)` points, in the chart's x unit.
    pub points: Vec<(f64, f64)>,
    /// Draw each point as a dot instead of joining them (measured points over a curve).
    pub dots: bool,
}

/// A horizontal reference line, e.g. an SLO or a scale-out trigger.
pub struct Threshold<'a> {
    pub label: &'a str,
    pub value: f64,
}

pub struct Chart<'a> {
    pub title: &'a str,
    /// Unit of the y axis, shown in the title.
    pub unit: &'a str,
    /// Unit of the x axis, after each tick: `s` for time.
    pub x_unit: &'a str,
    pub lines: Vec<Line<'a>>,
    pub thresholds: Vec<Threshold<'a>>,
    /// Draw the y axis from 0 up to at least this (e.g. 100 for percentages).
    pub y_floor_max: f64,
    /// Moments to mark with a vertical line, e.g. a drill's phases: `(x, label)`.
    pub marks: Vec<(f64, String)>,
}

impl Chart<'_> {
    pub fn render(&self) -> String {
        let x_max = self
            .lines
            .iter()
            .flat_map(|l| &l.points)
            .map(|p| p.0)
            .chain(self.marks.iter().map(|m| m.0))
            .fold(1.0, f64::max);
        let data_max = self
            .lines
            .iter()
            .flat_map(|l| &l.points)
            .map(|p| p.1)
            .fold(0.0, f64::max);
        let threshold_max = self.thresholds.iter().map(|t| t.value).fold(0.0, f64::max);
        let y_max = nice_ceiling(data_max.max(threshold_max * 1.1).max(self.y_floor_max));
        let scale = Scale { x_max, y_max };
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" class=\"chart\" role=\"img\">\
             <text x=\"{LEFT}\" y=\"18\" class=\"title\">{} ({})</text>",
            escape(self.title),
            escape(self.unit)
        );
        axes(&mut svg, &scale, self.x_unit);
        for threshold in &self.thresholds {
            let y = scale.y(threshold.value);
            let _ = write!(
                svg,
                "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"threshold\"/>\
                 <text x=\"{}\" y=\"{:.1}\" class=\"threshold-label\" text-anchor=\"end\">{}</text>",
                WIDTH - RIGHT,
                WIDTH - RIGHT,
                y - 3.0,
                escape(threshold.label)
            );
        }
        for (i, (x, label)) in self.marks.iter().enumerate() {
            let at = scale.x(*x);
            let _ = write!(
                svg,
                "<line x1=\"{at:.1}\" x2=\"{at:.1}\" y1=\"{TOP}\" y2=\"{}\" class=\"mark\"><title>{}</title></line>\
                 <text x=\"{:.1}\" y=\"{:.1}\" class=\"mark-label\">{}</text>",
                HEIGHT - BOTTOM,
                escape(label),
                at + 2.0,
                TOP + 24.0 + 10.0 * (i % 8) as f64,
                i + 1
            );
        }
        for (i, line) in self.lines.iter().enumerate() {
            polyline(&mut svg, &scale, line);
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" fill=\"{}\" class=\"legend\">{}</text>",
                LEFT + 8.0 + 110.0 * i as f64,
                TOP + 12.0,
                line.color,
                escape(line.label)
            );
        }
        svg.push_str("</svg>");
        svg
    }
}

struct Scale {
    x_max: f64,
    y_max: f64,
}

impl Scale {
    fn x(&self, x: f64) -> f64 {
        LEFT + x / self.x_max * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, y: f64) -> f64 {
        HEIGHT - BOTTOM - (y / self.y_max).clamp(0.0, 1.0) * (HEIGHT - TOP - BOTTOM)
    }
}

fn axes(svg: &mut String, scale: &Scale, x_unit: &str) {
    let bottom = HEIGHT - BOTTOM;
    let _ = write!(
        svg,
        "<line x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{bottom}\" class=\"axis\"/>\
         <line x1=\"{LEFT}\" x2=\"{}\" y1=\"{bottom}\" y2=\"{bottom}\" class=\"axis\"/>",
        WIDTH - RIGHT
    );
    for i in 0..=4 {
        let value = scale.y_max * f64::from(i) / 4.0;
        let y = scale.y(value);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" class=\"tick\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            tick_label(value)
        );
    }
    for i in 0..=5 {
        let value = scale.x_max * f64::from(i) / 5.0;
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" class=\"tick\">{}{}</text>",
            scale.x(value),
            bottom + 16.0,
            tick_label(value),
            escape(x_unit)
        );
    }
}

fn polyline(svg: &mut String, scale: &Scale, line: &Line<'_>) {
    if line.points.is_empty() {
        return;
    }
    if line.dots {
        for (x, y) in &line.points {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{}\"/>",
                scale.x(*x),
                scale.y(*y),
                line.color
            );
        }
        return;
    }
    let points: Vec<String> = line
        .points
        .iter()
        .map(|(x, y)| format!("{:.1},{:.1}", scale.x(*x), scale.y(*y)))
        .collect();
    let _ = write!(
        svg,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"/>",
        points.join(" "),
        line.color
    );
}

/// The smallest of 1, 2, 2.5, 5 x 10^n that is at least `value`.
fn nice_ceiling(value: f64) -> f64 {
    if value <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|candidate| *candidate >= value)
        .unwrap_or(10.0 * magnitude)
}

fn tick_label(value: f64) -> String {
    if value >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_are_round() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(180.0), 200.0);
        assert_eq!(nice_ceiling(510.0), 1000.0);
        assert_eq!(nice_ceiling(2.2), 2.5);
    }

    #[test]
    fn a_chart_draws_its_lines_thresholds_and_labels() {
        let chart = Chart {
            title: "latency <p95>",
            unit: "ms",
            x_unit: "s",
            lines: vec![Line {
                label: "p95",
                color: "#c00",
                points: vec![(0.0, 100.0), (1.0, 300.0), (2.0, 200.0)],
                dots: false,
            }],
            thresholds: vec![Threshold {
                label: "SLO 500 ms",
                value: 500.0,
            }],
            y_floor_max: 0.0,
            marks: vec![(1.5, "backend-1 <drained>".into())],
        };
        let svg = chart.render();
        assert_eq!(svg.matches("class=\"mark\"").count(), 1);
        assert!(svg.contains("backend-1 &lt;drained&gt;"), "marks are escaped");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.contains("class=\"threshold\""));
        assert!(svg.contains("latency &lt;p95&gt;"), "titles are escaped");
        let points = svg.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(points.split(' ').count(), 3);
        // The threshold (500) sets the scale to 1000: the line stays in the lower half.
        assert!(svg.contains(">1000<"), "{svg}");
    }
}
