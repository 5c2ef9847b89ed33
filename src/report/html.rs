//! `report.html`: one self-contained page (inline CSS and SVG, no script, nothing
//! fetched) with the run's charts and tables, readable offline and attachable to CI.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::comparison::{Comparison, HistoryGate, RowVerdict};
use super::console::{ms, observed};
use super::infra_text;
use super::summary::{RunVerdict, Summary};
use super::svg::{escape, Chart, Line, Threshold};
use crate::autoscale::Infrastructure;
use crate::policy;
use crate::telemetry::{SeriesName, Telemetry};

const COLORS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

pub fn render(summary: &Summary) -> String {
    let mut body = header(summary);
    if let Some(open) = &summary.open_model {
        let _ = write!(
            body,
            "<p class=\"meta\">Open model: {}</p>",
            escape(&super::infra_text::open_model(open))
        );
    }
    for warning in &summary.warnings {
        let _ = write!(
            body,
            "<p class=\"fail\"><strong>Warning:</strong> {}</p>",
            escape(warning)
        );
    }
    body.push_str(&super::requests_html::failed_steps(summary));
    body.push_str(&slo_table(summary));
    if let Some(comparison) = &summary.comparison {
        body.push_str(&comparison_table(comparison));
    }
    body.push_str("<h2>Latency per step</h2><div class=\"grid\">");
    for (i, step) in summary.steps.iter().enumerate() {
        body.push_str(&latency_chart(&step.name, &step.series, i));
    }
    body.push_str("</div><h2>Throughput and errors</h2><div class=\"grid\">");
    let marks = fault_marks(summary);
    body.push_str(&throughput_chart(summary, &marks));
    body.push_str(&marks_legend(&marks));
    body.push_str("</div>");
    body.push_str(&super::requests_html::failure_table(summary));
    body.push_str(&super::requests_html::exemplar_table(summary));
    if let (Some(infra), Some(telemetry)) = (&summary.infrastructure, &summary.telemetry) {
        body.push_str(&infrastructure(infra, telemetry, &summary.faults));
    }
    page(&summary.scenario, &body)
}

fn header(summary: &Summary) -> String {
    let (label, class) = match summary.verdict {
        RunVerdict::Pass | RunVerdict::Fail if summary.regressed() => ("regression", "fail"),
        RunVerdict::Pass => ("pass", "pass"),
        RunVerdict::Fail => ("fail", "fail"),
        RunVerdict::Interrupted => ("interrupted", "warn"),
        RunVerdict::Incomplete => ("incomplete: a load generator was lost", "warn"),
    };
    format!(
        "<h1>{} <span class=\"badge {class}\">{label}</span></h1>\
         <p class=\"meta\">Run <code>{}</code> against {} ({} stack) · {} users · {:.1}s · {} requests, {} errors · started {}</p>",
        escape(&summary.scenario),
        escape(&summary.run_id),
        escape(&summary.target.backend),
        escape(&summary.target.stack),
        summary.load.users,
        summary.duration_s,
        summary.totals.count,
        summary.totals.errors,
        escape(&summary.started_at)
    ) + &http_lines(&summary.target.http)
}

/// How requests reached the target; an `--insecure` run's first line is a warning.
fn http_lines(lines: &[String]) -> String {
    lines
        .iter()
        .map(|line| {
            let class = if line.starts_with("INSECURE") {
                "meta warn"
            } else {
                "meta"
            };
            format!("<p class=\"{class}\">HTTP: {}</p>", escape(line))
        })
        .collect()
}

fn slo_table(summary: &Summary) -> String {
    let mut out = summary
        .aborted
        .as_ref()
        .map(|reason| {
            format!(
                "<p class=\"fail\"><strong>Stopped early:</strong> {}</p>",
                escape(reason)
            )
        })
        .unwrap_or_default();
    out.push_str("<h2>SLOs</h2><table><tr><th>SLO</th><th>observed</th><th>result</th></tr>");
    for slo in &summary.slos {
        let (text, class) = if slo.pass {
            ("pass", "pass")
        } else {
            ("fail", "fail")
        };
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"{class}\">{text}</td></tr>",
            escape(&slo.expr),
            escape(&observed(slo))
        );
    }
    out.push_str("</table>");
    out
}

fn comparison_table(comparison: &Comparison) -> String {
    if let Some(history) = &comparison.history {
        return history_table(history);
    }
    let mut out = format!(
        "<h2>Compared with baseline <code>{}</code></h2><table><tr><th>step</th><th>per-second</th>\
         <th>baseline</th><th>new</th><th>change</th><th>p (slower)</th><th>verdict</th></tr>",
        escape(&comparison.baseline_run)
    );
    for row in &comparison.rows {
        let (verdict, class) = verdict_cell(row.verdict);
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{verdict}</td></tr>",
            escape(&row.step),
            row.metric,
            row.base_us.map_or("-".into(), |v| ms(v as u64)),
            row.new_us.map_or("-".into(), |v| ms(v as u64)),
            row.change.map_or("-".into(), |c| format!("{:+.1}%", c * 100.0)),
            row.p_slower.map_or("-".into(), |p| format!("{p:.4}"))
        );
    }
    out.push_str("</table>");
    out
}

/// Against a history: each figure's level, spread, the new run, the boundary and the
/// smallest change the history detects.
fn history_table(history: &HistoryGate) -> String {
    use super::comparison_markdown::history_cells;
    let mut out = format!(
        "<h2>Compared with a history of {} runs</h2><p class=\"meta\">A gated figure regresses beyond the one-sided {:.1}% \
         prediction interval (Student's t) and by at least {:.0}%.</p><table><tr><th>step</th><th>figure</th><th>history mean</th>\
         <th>sd</th><th>new</th><th>change</th><th>boundary</th><th>detects</th><th>verdict</th></tr>",
        history.runs.len(),
        history.confidence * 100.0,
        history.min_effect * 100.0
    );
    for row in &history.rows {
        let (verdict, class) = verdict_cell(row.verdict);
        out.push_str("<tr>");
        for cell in history_cells(row) {
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        let _ = write!(out, "<td class=\"{class}\">{verdict}</td></tr>");
    }
    out.push_str("</table>");
    out
}

fn verdict_cell(verdict: RowVerdict) -> (&'static str, &'static str) {
    match verdict {
        RowVerdict::Regression => ("regression", "fail"),
        RowVerdict::Improvement => ("improvement", "pass"),
        RowVerdict::Unchanged => ("unchanged", ""),
        RowVerdict::InsufficientData => ("too little data", "warn"),
    }
}

fn latency_chart(name: &str, series: &[crate::metrics::SecondStats], index: usize) -> String {
    let seed_line = format!("seed: {} ms", policy::RESPONSE_MS);
    let line = |label, color, pick: fn(&crate::metrics::SecondStats) -> u64| Line {
        label,
        color,
        points: series
            .iter()
            .map(|s| (s.second as f64, pick(s) as f64 / 1000.0))
            .collect(),
        dots: false,
    };
    let title = format!("{name}: latency per second");
    Chart {
        title: &title,
        unit: "ms",
        x_unit: "s",
        lines: vec![
            line("p50", COLORS[index % 3 + 2], |s| s.p50_us),
            line("p95", COLORS[0], |s| s.p95_us),
            line("p99", COLORS[1], |s| s.p99_us),
        ],
        thresholds: vec![Threshold {
            label: &seed_line,
            value: policy::RESPONSE_MS,
        }],
        y_floor_max: 0.0,
        marks: Vec::new(),
    }
    .render()
}

fn throughput_chart(summary: &Summary, marks: &[(f64, String)]) -> String {
    let mut requests = BTreeMap::<u64, (f64, f64)>::new();
    for step in &summary.steps {
        for s in &step.series {
            let slot = requests.entry(s.second).or_default();
            slot.0 += s.requests as f64;
            slot.1 += s.errors as f64;
        }
    }
    Chart {
        title: "requests and errors per second",
        unit: "req/s",
        x_unit: "s",
        lines: vec![
            Line {
                label: "requests",
                color: COLORS[0],
                points: requests.iter().map(|(s, v)| (*s as f64, v.0)).collect(),
                dots: false,
            },
            Line {
                label: "errors",
                color: COLORS[1],
                points: requests.iter().map(|(s, v)| (*s as f64, v.1)).collect(),
                dots: false,
            },
        ],
        thresholds: Vec::new(),
        y_floor_max: 0.0,
        marks: marks.to_vec(),
    }
    .render()
}

/// Each fault, and each step of each deploy, on the run's clock.
fn fault_marks(summary: &Summary) -> Vec<(f64, String)> {
    let mut marks = Vec::new();
    for fault in &summary.faults {
        marks.push((fault.at_s, format!("{} {}", fault.action.name(), fault.target)));
        if let Some(back) = fault.restored_s {
            marks.push((back, format!("{} back", fault.target)));
        }
        for mark in fault.deploy.iter().flat_map(|d| &d.marks) {
            marks.push((mark.at_s, mark.what.clone()));
        }
    }
    marks
}

/// The numbered marks of a chart, spelt out.
pub fn marks_legend(marks: &[(f64, String)]) -> String {
    if marks.is_empty() {
        return String::new();
    }
    let items: String = marks
        .iter()
        .map(|(at, what)| format!("<li>{at:.1}s: {}</li>", escape(what)))
        .collect();
    format!("<ol class=\"marks\">{items}</ol>")
}

/// One telemetry chart: a series, scaled for display, and the line it must stay under.
struct TelemetryChart {
    title: &'static str,
    unit: &'static str,
    series: SeriesName,
    scale: f64,
    /// The seed's line: what it is called, its value and the value's unit.
    threshold: Option<(&'static str, f64, &'static str)>,
    /// The y axis reaches at least this.
    floor: f64,
}

const TELEMETRY_CHARTS: [TelemetryChart; 6] = [
    TelemetryChart {
        title: "backend CPU",
        unit: "% of limit",
        series: SeriesName::BackendCpu,
        scale: 100.0,
        threshold: Some(("scale out >", policy::CPU_TRIGGER * 100.0, "%")),
        floor: 100.0,
    },
    TelemetryChart {
        title: "backend memory",
        unit: "% of limit",
        series: SeriesName::BackendMemory,
        scale: 100.0,
        threshold: Some(("scale out >", policy::MEMORY_TRIGGER * 100.0, "%")),
        floor: 100.0,
    },
    TelemetryChart {
        title: "DB connections per instance",
        unit: "connections",
        series: SeriesName::DbConnections,
        scale: 1.0,
        threshold: Some(("pool max", policy::DB_CONNECTIONS_PER_INSTANCE as f64, "")),
        floor: 0.0,
    },
    TelemetryChart {
        title: "Redis memory",
        unit: "% of maxmemory",
        series: SeriesName::RedisMemory,
        scale: 100.0,
        threshold: None,
        floor: 1.0,
    },
    TelemetryChart {
        title: "requests in flight",
        unit: "requests",
        series: SeriesName::InFlight,
        scale: 1.0,
        threshold: Some(("queue >", policy::QUEUE_DEPTH, "")),
        floor: 0.0,
    },
    TelemetryChart {
        title: "/health latency under load",
        unit: "ms",
        series: SeriesName::Health,
        scale: 0.001,
        threshold: None,
        floor: 0.0,
    },
];

fn infrastructure(
    infra: &Infrastructure,
    telemetry: &Telemetry,
    faults: &[crate::faults::FaultReport],
) -> String {
    let mut out = String::from("<h2>Infrastructure</h2><div class=\"grid\">");
    for spec in &TELEMETRY_CHARTS {
        let points = telemetry
            .points(spec.series)
            .into_iter()
            .map(|(s, v)| (s as f64, v * spec.scale))
            .collect::<Vec<_>>();
        if points.is_empty() {
            continue;
        }
        out.push_str(&single_line_chart(
            spec.title,
            spec.unit,
            points,
            spec.threshold,
            spec.floor,
        ));
    }
    out.push_str(&replica_chart(infra));
    if !infra.not_measured.is_empty() {
        let _ = write!(
            out,
            "</div><p class=\"meta\">Not measured: {}.</p><div class=\"grid\">",
            escape(&infra.not_measured.join(", "))
        );
    }
    out.push_str("</div><table>");
    for (label, text) in infra_text::lines(infra, faults) {
        let _ = write!(
            out,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(label),
            escape(&text)
        );
    }
    out.push_str("</table>");
    out
}

/// The simulated HPA's replicas, and beside them those the deployment really ran.
fn replica_chart(infra: &Infrastructure) -> String {
    let as_points = |replicas: &[(u64, u32)]| -> Vec<(f64, f64)> {
        replicas.iter().map(|(s, r)| (*s as f64, f64::from(*r))).collect()
    };
    let mut lines = Vec::new();
    if let Some(hpa) = &infra.hpa {
        lines.push(Line {
            label: "simulated",
            color: COLORS[0],
            points: as_points(&hpa.replicas),
            dots: false,
        });
    }
    if !infra.replicas_observed.is_empty() {
        lines.push(Line {
            label: "observed",
            color: COLORS[1],
            points: as_points(&infra.replicas_observed),
            dots: false,
        });
    }
    if lines.is_empty() {
        return String::new();
    }
    let max = f64::from(policy::HPA_MAX_REPLICAS);
    let label = format!("max {}", policy::HPA_MAX_REPLICAS);
    Chart {
        title: "HPA replicas",
        unit: "replicas",
        x_unit: "s",
        lines,
        thresholds: vec![Threshold {
            label: &label,
            value: max,
        }],
        y_floor_max: max,
        marks: Vec::new(),
    }
    .render()
}

fn single_line_chart(
    title: &str,
    unit: &str,
    points: Vec<(f64, f64)>,
    threshold: Option<(&str, f64, &str)>,
    floor: f64,
) -> String {
    let label = threshold.map(|(name, value, unit)| format!("{name} {value}{unit}"));
    Chart {
        title,
        unit,
        x_unit: "s",
        lines: vec![Line {
            label: unit,
            color: COLORS[0],
            points,
            dots: false,
        }],
        thresholds: threshold
            .zip(label.as_deref())
            .map(|((_, value, _), label)| Threshold { label, value })
            .into_iter()
            .collect(),
        y_floor_max: floor,
        marks: Vec::new(),
    }
    .render()
}

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — karigar-perf</title>\
         <style>{STYLE}</style></head><body>{body}</body></html>\n",
        escape(title)
    )
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px}code{background:#f3f3f3;padding:1px 4px}\
.meta{color:#555}.badge{font-size:13px;padding:2px 8px;border-radius:10px;color:#fff;vertical-align:middle}\
.badge.pass{background:#2ca02c}.badge.fail{background:#d62728}.badge.warn{background:#ff7f0e}\
td.pass{color:#2ca02c}td.fail{color:#d62728;font-weight:bold}td.warn{color:#ff7f0e}p.meta.warn{color:#d62728;font-weight:bold}\
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}\
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px}\
.chart{width:100%;height:auto;border:1px solid #eee}\
.chart .title{font-size:13px;font-weight:600}.chart .tick{font-size:10px;fill:#666}\
.chart .legend{font-size:11px}.chart .axis{stroke:#999}.chart .grid{stroke:#eee}\
.chart .threshold{stroke:#d62728;stroke-dasharray:5 4}.chart .threshold-label{font-size:10px;fill:#d62728}\
.chart .mark{stroke:#9467bd;stroke-dasharray:2 3}.chart .mark-label{font-size:10px;fill:#9467bd}\
tr.log pre{margin:0;font-size:12px;white-space:pre-wrap;word-break:break-all;color:#444}";
