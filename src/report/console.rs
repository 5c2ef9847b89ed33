//! The results table printed at the end of a run.

use std::fmt::Write;

use super::infra_text;
use super::summary::{RunVerdict, StepSummary, Summary};
use crate::slo::Verdict;

pub fn render(summary: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} — {} requests in {:.1}s ({})",
        summary.scenario, summary.totals.count, summary.duration_s, summary.target.backend
    );
    for line in &summary.target.http {
        let _ = writeln!(out, "http: {line}");
    }
    let _ = writeln!(
        out,
        "{:<16} {:>8} {:>7} {:>6} {:>8} {:>10} {:>10} {:>10} {:>10}",
        "step", "count", "errors", "429", "rps", "p50", "p95", "p99", "max"
    );
    for step in summary.steps.iter().chain(std::iter::once(&summary.totals)) {
        out.push_str(&row(step));
    }
    out.push_str(&errors_and_warnings(summary));
    if let Some(infra) = &summary.infrastructure {
        out.push('\n');
        for (label, text) in infra_text::lines(infra, &summary.faults) {
            let _ = writeln!(out, "{label:<16} {text}");
        }
    }
    if !summary.slos.is_empty() {
        out.push('\n');
    }
    for slo in &summary.slos {
        let mark = if slo.pass { "PASS" } else { "FAIL" };
        let _ = writeln!(out, "  {mark}  {:<36} observed {}", slo.expr, observed(slo));
    }
    if let Some(comparison) = &summary.comparison {
        out.push('\n');
        out.push_str(&super::comparison_markdown::render(comparison));
    }
    let verdict = match summary.verdict {
        RunVerdict::Pass | RunVerdict::Fail if summary.regressed() => "REGRESSION: slower than the baseline",
        RunVerdict::Pass => "PASS",
        RunVerdict::Fail if !summary.faults.iter().all(|f| f.deploy_held()) => {
            "FAIL: a deploy dropped requests or did not finish"
        }
        RunVerdict::Fail => "FAIL: an SLO was breached",
        RunVerdict::Interrupted => "INTERRUPTED: partial results",
        RunVerdict::Incomplete => "INCOMPLETE: a load generator was lost (see generators)",
    };
    if let Some(reason) = &summary.aborted {
        let _ = writeln!(out, "\nABORTED early: {reason}");
    }
    let _ = writeln!(out, "\nverdict: {verdict}");
    out
}

/// Error classes with the failures themselves, the open model's schedule, warnings.
fn errors_and_warnings(summary: &Summary) -> String {
    let mut out = String::new();
    if summary.totals.errors > 0 {
        let _ = writeln!(out, "errors by class: {}", error_classes(&summary.totals));
        for line in failure_lines(summary) {
            let _ = writeln!(out, "  {line}");
        }
    }
    if let Some(open) = &summary.open_model {
        let _ = writeln!(out, "open model: {}", infra_text::open_model(open));
    }
    for warning in &summary.warnings {
        let _ = writeln!(out, "WARNING: {warning}");
    }
    out
}

fn row(step: &StepSummary) -> String {
    let l = &step.latency_us;
    format!(
        "{:<16} {:>8} {:>7} {:>6} {:>8.1} {:>10} {:>10} {:>10} {:>10}\n",
        step.name,
        step.count,
        step.errors,
        step.outcomes.rate_limited,
        step.rps,
        ms(l.p50),
        ms(l.p95),
        ms(l.p99),
        ms(l.max)
    )
}

/// One line per distinct failure of each step: `register: status 404 x357, first at
/// 0.3s: {"error":"not found"}`.
pub fn failure_lines(summary: &Summary) -> Vec<String> {
    let mut lines = Vec::new();
    for step in &summary.steps {
        for failure in &step.failures.kinds {
            let answer = match failure.snippet.is_empty() {
                true => String::new(),
                false => format!(": {}", failure.snippet),
            };
            let id = match &failure.request_id {
                Some(id) => format!(" (request {id})"),
                None => String::new(),
            };
            lines.push(format!(
                "{}: {} x{}, first at {:.1}s{id}{answer}",
                step.name, failure.kind, failure.count, failure.first_seen_s
            ));
        }
        if step.failures.other > 0 {
            lines.push(format!(
                "{}: {} more of other kinds",
                step.name, step.failures.other
            ));
        }
    }
    lines
}

/// What an SLO observed, in its own unit.
pub fn observed(slo: &Verdict) -> String {
    slo.observed
        .map(|v| format!("{v:.2}{}", slo.unit))
        .unwrap_or_else(|| "no data".into())
}

/// Microseconds as milliseconds with one decimal.
pub fn ms(micros: u64) -> String {
    format!("{:.1}ms", micros as f64 / 1000.0)
}

/// Non-zero error classes, e.g. `status_5xx 3, timeout 1`.
pub fn error_classes(step: &StepSummary) -> String {
    let o = &step.outcomes;
    [
        ("status_1xx", o.status_1xx),
        ("status_2xx", o.status_2xx),
        ("status_3xx", o.status_3xx),
        ("status_4xx", o.status_4xx),
        ("status_5xx", o.status_5xx),
        ("rate_limited", o.rate_limited),
        ("timeout", o.timeout),
        ("connect", o.connect),
        ("capture", o.capture),
        ("transport", o.transport),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(name, n)| format!("{name} {n}"))
    .collect::<Vec<_>>()
    .join(", ")
}
