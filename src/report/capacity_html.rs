//! `capacity.html`: one self-contained page with the search's charts (throughput,
//! latency and CPU against the offered rate, the USL curve) and its tables.

use std::fmt::Write;

use super::capacity_text::{findings_lines, meta, result_text, sizing_lines};
use super::svg::{escape, Chart, Line, Threshold};
use super::DeploymentTable;
use crate::capacity::CapacityReport;
use crate::capacity::{StepResult, UslFit};
use crate::policy;

/// The whole report as one HTML page.
pub fn render(report: &CapacityReport, deployment: Option<&DeploymentTable>) -> String {
    let mut body = format!(
        "<h1>Capacity: {}</h1><p class=\"verdict\"><strong>{}</strong></p><p class=\"meta\">{}</p>",
        escape(&report.scenario),
        escape(&report.verdict),
        escape(&meta(report))
    );
    body.push_str("<h2>Load against offered rate</h2><div class=\"grid\">");
    for chart in charts(report) {
        body.push_str(&chart);
    }
    body.push_str("</div><h2>Findings</h2><ul>");
    let mut lines = findings_lines(&report.findings);
    if let Some(sizing) = &report.findings.sizing {
        lines.extend(sizing_lines(sizing));
    }
    for line in lines {
        let _ = write!(body, "<li>{}</li>", escape(&line));
    }
    body.push_str("</ul><h2>Steps</h2>");
    body.push_str(&steps_table(report));
    if let Some(deployment) = deployment {
        body.push_str(&deployment_table(deployment));
    }
    super::html::page(&format!("capacity {}", report.scenario), &body)
}

/// The deployment's settings beside the measurements they come from.
fn deployment_table(deployment: &DeploymentTable) -> String {
    let mut out =
        String::from("<h2>Deployment</h2><table><tr><th>setting</th><th>value</th><th>from</th></tr>");
    for [setting, value, from] in &deployment.rows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            escape(setting),
            escape(value),
            escape(from)
        );
    }
    let _ = write!(
        out,
        "</table><p>Database budget: {}.</p><p>Compose: <code>{}</code></p>",
        escape(&deployment.db_budget),
        escape(&deployment.compose)
    );
    out
}

fn steps_table(report: &CapacityReport) -> String {
    let mut out = String::from(
        "<table><tr><th>offered /s</th><th>achieved /s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th>\
         <th>errors</th><th>concurrency</th><th>CPU cores</th><th>DB conns</th><th>result</th></tr>",
    );
    for step in &report.steps {
        let class = if step.sustainable { "pass" } else { "fail" };
        let _ = write!(
            out,
            "<tr><td>{:.1}</td><td>{:.1}</td><td>{:.0}</td><td>{:.0}</td><td>{:.0}</td><td>{:.2}%</td>\
             <td>{:.2}</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td></tr>",
            step.offered,
            step.achieved,
            step.p50_ms,
            step.p95_ms,
            step.p99_ms,
            step.error_rate * 100.0,
            step.concurrency,
            step.backend_cpu_cores.map_or("-".into(), |c| format!("{c:.2}")),
            step.db_connections_max.map_or("-".into(), |c| c.to_string()),
            escape(&result_text(step))
        );
    }
    out.push_str("</table>");
    out
}

/// Latencies past 4x the SLO drawn at 4x: an overloaded step's seconds would flatten
/// everything that held into the axis.
fn capped(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    points
        .into_iter()
        .map(|(x, y)| (x, y.min(4.0 * policy::RESPONSE_MS)))
        .collect()
}

/// Throughput, latency and CPU against the offered rate; the USL curve over the
/// measured (concurrency, throughput) points.
fn charts(report: &CapacityReport) -> Vec<String> {
    let mut steps: Vec<&StepResult> = report.steps.iter().filter(|s| !s.interrupted).collect();
    steps.sort_by(|a, b| a.offered.total_cmp(&b.offered));
    let mut charts = vec![
        throughput_chart(&steps),
        latency_chart(&steps),
        cpu_chart(&steps, report.settings.limit_cores),
    ];
    charts.extend(report.findings.usl.as_ref().map(|usl| usl_chart(usl, &steps)));
    charts
}

/// `(offered, value)` of the steps that have the value.
fn by_offered(steps: &[&StepResult], pick: fn(&StepResult) -> Option<f64>) -> Vec<(f64, f64)> {
    steps.iter().filter_map(|s| Some((s.offered, pick(s)?))).collect()
}

fn line<'a>(label: &'a str, color: &'a str, points: Vec<(f64, f64)>) -> Line<'a> {
    Line {
        label,
        color,
        points,
        dots: false,
    }
}

fn throughput_chart(steps: &[&StepResult]) -> String {
    Chart {
        title: "throughput against offered load",
        unit: "iterations/s",
        x_unit: "/s",
        lines: vec![
            line("achieved", "#1f77b4", by_offered(steps, |s| Some(s.achieved))),
            line("offered", "#999999", by_offered(steps, |s| Some(s.offered))),
        ],
        thresholds: Vec::new(),
        y_floor_max: 0.0,
        marks: Vec::new(),
    }
    .render()
}

fn latency_chart(steps: &[&StepResult]) -> String {
    Chart {
        title: "latency against offered load",
        unit: "ms, drawn up to 4x the SLO",
        x_unit: "/s",
        lines: vec![
            line("p50", "#2ca02c", capped(by_offered(steps, |s| Some(s.p50_ms)))),
            line("p95", "#1f77b4", capped(by_offered(steps, |s| Some(s.p95_ms)))),
            line("p99", "#d62728", capped(by_offered(steps, |s| Some(s.p99_ms)))),
        ],
        thresholds: vec![Threshold {
            label: &format!("SLO p95 {} ms", policy::RESPONSE_MS),
            value: policy::RESPONSE_MS,
        }],
        y_floor_max: 0.0,
        marks: Vec::new(),
    }
    .render()
}

fn cpu_chart(steps: &[&StepResult], limit_cores: f64) -> String {
    Chart {
        title: "backend CPU against offered load",
        unit: "cores",
        x_unit: "/s",
        lines: vec![line(
            "backend",
            "#9467bd",
            by_offered(steps, |s| s.backend_cpu_cores),
        )],
        thresholds: vec![Threshold {
            label: &format!("{}% trigger", policy::percent(policy::CPU_TRIGGER)),
            value: policy::CPU_TRIGGER * limit_cores,
        }],
        y_floor_max: limit_cores,
        marks: Vec::new(),
    }
    .render()
}

/// The fitted curve from 0 to a fifth past the highest measured concurrency, with the
/// measured points as dots.
fn usl_chart(usl: &UslFit, steps: &[&StepResult]) -> String {
    let measured: Vec<(f64, f64)> = steps.iter().map(|s| (s.concurrency, s.achieved)).collect();
    let top = measured.iter().map(|p| p.0).fold(1.0, f64::max) * 1.2;
    let curve = (0..=40)
        .map(|i| top * f64::from(i) / 40.0)
        .map(|n| (n, usl.throughput(n)))
        .collect();
    Chart {
        title: "USL: throughput against concurrency",
        unit: "iterations/s",
        x_unit: "",
        lines: vec![
            line("USL fit", "#ff7f0e", curve),
            Line {
                dots: true,
                ..line("measured", "#1f77b4", measured)
            },
        ],
        thresholds: Vec::new(),
        y_floor_max: 0.0,
        marks: Vec::new(),
    }
    .render()
}
