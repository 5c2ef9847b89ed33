//! `drill.html`: the checks, each cycle's phases and its timeline (successes, errors
//! and p95 per second, every phase marked), self-contained.

use super::html::{marks_legend, page};
use super::svg::{escape, Chart, Line, Threshold};
use crate::drill::{DrillReport, Timeline};
use crate::policy;

pub fn render(report: &DrillReport) -> String {
    let markdown = super::drill_markdown::render(report);
    let mut body = String::new();
    let badge = if report.pass { "pass" } else { "fail" };
    body.push_str(&format!(
        "<h1>Drill: {} <span class=\"badge {badge}\">{}</span></h1>",
        escape(&report.scenario),
        if report.interrupted { "interrupted" } else { badge }
    ));
    body.push_str("<table><tr><th>check</th><th>observed</th><th>limit</th><th>verdict</th></tr>");
    for check in &report.checks {
        let class = if check.pass { "pass" } else { "fail" };
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{class}</td></tr>",
            escape(&check.name),
            escape(&check.observed),
            escape(&check.limit)
        ));
    }
    body.push_str("</table>");
    for timeline in &report.timelines {
        body.push_str(&format!(
            "<h2>{}</h2><div class=\"grid\">",
            escape(&timeline.label)
        ));
        body.push_str(&outcomes_chart(timeline));
        body.push_str(&latency_chart(timeline));
        body.push_str("</div>");
        body.push_str(&marks_legend(&timeline.marks));
    }
    body.push_str(&format!("<h2>Details</h2><pre>{}</pre>", escape(&markdown)));
    page(&format!("drill {}", report.scenario), &body)
}

fn outcomes_chart(timeline: &Timeline) -> String {
    let line = |label, color, pick: fn(&crate::drill::Second) -> f64| Line {
        label,
        color,
        points: timeline
            .seconds
            .iter()
            .map(|s| (s.second as f64, pick(s)))
            .collect(),
        dots: false,
    };
    Chart {
        title: "successes and errors per second",
        unit: "req/s",
        x_unit: "s",
        lines: vec![
            line("successes", "#2ca02c", |s| s.ok as f64),
            line("errors", "#d62728", |s| s.errors as f64),
        ],
        thresholds: Vec::new(),
        y_floor_max: 0.0,
        marks: timeline.marks.clone(),
    }
    .render()
}

fn latency_chart(timeline: &Timeline) -> String {
    Chart {
        title: "p95 per second (slowest step)",
        unit: "ms",
        x_unit: "s",
        lines: vec![Line {
            label: "p95",
            color: "#1f77b4",
            points: timeline
                .seconds
                .iter()
                .map(|s| (s.second as f64, s.p95_ms))
                .collect(),
            dots: false,
        }],
        thresholds: vec![Threshold {
            label: "seed: 500 ms",
            value: policy::RESPONSE_MS,
        }],
        y_floor_max: 0.0,
        marks: timeline.marks.clone(),
    }
    .render()
}
