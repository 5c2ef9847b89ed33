//! `trends.html`: a history of runs on one self-contained page (inline CSS and SVG, no
//! script): per step a chart for each figure with one dot per run, the history's band,
//! the runs the gate flagged marked; the runs with their verdicts; the change points.

use std::fmt::Write;

use super::svg::{escape, Chart, Line, Threshold};
use super::trends::{FigureTrend, Trends};

pub fn render(trends: &Trends) -> String {
    let mut body = format!(
        "<h1>{}: trends over {} runs</h1><p class=\"meta\">One dot per run, oldest first (run 1 is \
         <code>{}</code>); dashed, the band the next run is judged against; a vertical line, a run the gate \
         flagged against the runs before it.</p>",
        escape(&trends.scenario),
        trends.runs.len(),
        escape(trends.runs.first().map_or("", |r| r.run_id.as_str()))
    );
    for step in &trends.steps {
        let _ = write!(body, "<h2>{}</h2><div class=\"grid\">", escape(&step.step));
        for figure in &step.figures {
            body.push_str(&chart(trends, &step.step, figure));
        }
        body.push_str("</div>");
    }
    body.push_str(&runs_table(trends));
    body.push_str(&change_points(trends));
    super::html::page(&format!("{} trends", trends.scenario), &body)
}

/// One figure of one step: its dots, its band, the flagged runs.
fn chart(trends: &Trends, step: &str, figure: &FigureTrend) -> String {
    let (unit, scale) = match figure.metric.as_str() {
        "throughput" => ("requests/s", 1.0),
        "error_rate" => ("%", 100.0),
        _ => ("ms", 1.0),
    };
    let points: Vec<(f64, f64)> = figure
        .values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some(((i + 1) as f64, (*v)? * scale)))
        .collect();
    // The band's edges, each with its label (the labels outlive the chart's borrow).
    let edges: Vec<(String, f64)> = figure
        .band
        .map(|(low, high)| [("band low", low.max(0.0) * scale), ("band high", high * scale)])
        .into_iter()
        .flatten()
        .map(|(name, value)| (format!("{name} {value:.2}"), value))
        .collect();
    let thresholds = edges
        .iter()
        .map(|(label, value)| Threshold { label, value: *value })
        .collect();
    let title = format!("{step}: {}", figure.metric);
    Chart {
        title: &title,
        unit,
        x_unit: "",
        lines: vec![Line {
            label: "run",
            color: "#1f77b4",
            points,
            dots: true,
        }],
        thresholds,
        y_floor_max: 0.0,
        marks: trends
            .runs
            .iter()
            .enumerate()
            .filter(|(_, run)| run.flagged())
            .map(|(i, run)| ((i + 1) as f64, format!("flagged: {}", run.run_id)))
            .collect(),
    }
    .render()
}

fn runs_table(trends: &Trends) -> String {
    let mut rows = String::new();
    for (i, run) in trends.runs.iter().enumerate() {
        let (class, verdict) = match (run.judged, run.flagged()) {
            (false, _) => ("", "too few runs before it".to_owned()),
            (true, false) => ("pass", "held".to_owned()),
            (true, true) => ("fail", format!("regressed: {}", run.regressed.join(", "))),
        };
        let _ = write!(
            rows,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"{class}\">{}</td></tr>",
            i + 1,
            escape(&run.run_id),
            escape(&run.started_at),
            escape(&verdict)
        );
    }
    format!(
        "<h2>Runs</h2><table><tr><th>#</th><th>run</th><th>started</th><th>against the runs before it</th></tr>{rows}</table>"
    )
}

fn change_points(trends: &Trends) -> String {
    if trends.change_points.is_empty() {
        return "<h2>Change points</h2><p class=\"meta\">No step's level shifted beyond noise.</p>".into();
    }
    let mut rows = String::new();
    for point in &trends.change_points {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:+.1}%</td></tr>",
            point.at + 1,
            escape(&point.run_id),
            escape(&point.step),
            escape(&point.metric),
            super::comparison_markdown::figure(&point.metric, Some(point.before)),
            super::comparison_markdown::figure(&point.metric, Some(point.after)),
            point.change * 100.0
        );
    }
    format!(
        "<h2>Change points</h2><table><tr><th>#</th><th>run</th><th>step</th><th>figure</th><th>before</th>\
         <th>after</th><th>change</th></tr>{rows}</table>"
    )
}
