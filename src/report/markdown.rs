//! `summary.md`: the summary as a Markdown page, ready to paste into a PR comment.

use std::fmt::Write;

use super::console::{error_classes, failure_lines, ms, observed};
use super::infra_text;
use super::summary::{RunVerdict, Summary};

pub fn render(summary: &Summary) -> String {
    let mut out = header(summary);
    out.push_str("| step | count | errors | 429 | rps | p50 | p95 | p99 | p99.9 | max |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for step in summary.steps.iter().chain(std::iter::once(&summary.totals)) {
        let l = &step.latency_us;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.1} | {} | {} | {} | {} | {} |",
            step.name,
            step.count,
            step.errors,
            step.outcomes.rate_limited,
            step.rps,
            ms(l.p50),
            ms(l.p95),
            ms(l.p99),
            ms(l.p999),
            ms(l.max)
        );
    }
    out.push_str(&errors_and_warnings(summary));
    out.push_str(&exemplar_table(summary));
    if let Some(infra) = &summary.infrastructure {
        out.push_str("\n| infrastructure | |\n|---|---|\n");
        for (label, text) in infra_text::lines(infra, &summary.faults) {
            let _ = writeln!(out, "| {label} | {text} |");
        }
    }
    if !summary.slos.is_empty() {
        out.push_str("\n| SLO | observed | result |\n|---|---:|---|\n");
        for slo in &summary.slos {
            let result = if slo.pass { "pass" } else { "**fail**" };
            let _ = writeln!(out, "| `{}` | {} | {result} |", slo.expr, observed(slo));
        }
    }
    if let Some(comparison) = &summary.comparison {
        out.push('\n');
        out.push_str(&super::comparison_markdown::render(comparison));
    }
    out
}

/// The title with the verdict, why the run stopped early, what ran against what, and
/// how requests reached the target.
fn header(summary: &Summary) -> String {
    let mut out = String::new();
    let verdict = match summary.verdict {
        RunVerdict::Pass => "✅ pass",
        RunVerdict::Fail => "❌ fail",
        RunVerdict::Interrupted => "⚠️ interrupted (partial results)",
        RunVerdict::Incomplete => "⚠️ incomplete (a load generator was lost)",
    };
    let _ = writeln!(out, "# {}: {verdict}\n", summary.scenario);
    if let Some(reason) = &summary.aborted {
        let _ = writeln!(out, "**Stopped early:** {reason}.\n");
    }
    let _ = writeln!(
        out,
        "Run `{}` against {} ({} stack), {} users, {:.1}s, started {}.\n",
        summary.run_id,
        summary.target.backend,
        summary.target.stack,
        summary.load.users,
        summary.duration_s,
        summary.started_at
    );
    for line in &summary.target.http {
        let _ = writeln!(out, "- **HTTP:** {line}");
    }
    if !summary.target.http.is_empty() {
        out.push('\n');
    }
    out
}

/// The requests to look up in the server's logs: each step's slowest and first failed.
fn exemplar_table(summary: &Summary) -> String {
    let rows = super::exemplars::rows(summary);
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nRequests to look up in the server's logs:\n\n\
         | step | why | request id | sent at | response time | answer |\n|---|---|---|---:|---:|---|\n",
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} | {} | {} |",
            row.step,
            row.why,
            row.request_id,
            row.sent,
            row.response_time,
            row.answer.replace('|', "\\|")
        );
    }
    out.push_str(&server_log_lines(summary));
    out
}

/// The stack's log lines of each named request, or why there are none.
fn server_log_lines(summary: &Summary) -> String {
    let Some(logs) = &summary.server_logs else {
        return "\nSearch the server's logs for these ids.\n".into();
    };
    if !logs.carries_ids {
        return format!("\n{}\n", super::exemplars::no_ids_note(logs));
    }
    let mut out = String::from("\nTheir lines in the stack's logs:\n\n");
    for request in &logs.requests {
        let _ = writeln!(out, "- `{}`:\n\n  ```", request.request_id);
        for line in &request.lines {
            let _ = writeln!(out, "  {}: {}", line.file, line.text.replace("```", "'''"));
        }
        out.push_str("  ```\n");
    }
    out
}

/// Error classes and the failures themselves, the open model's schedule, and what the
/// figures may hide.
fn errors_and_warnings(summary: &Summary) -> String {
    let mut out = String::new();
    if summary.totals.errors > 0 {
        let _ = writeln!(out, "\nErrors by class: {}.\n", error_classes(&summary.totals));
        for line in failure_lines(summary) {
            let _ = writeln!(out, "- {}", line.replace('`', "'").replace('|', "\\|"));
        }
    }
    if let Some(open) = &summary.open_model {
        let _ = writeln!(out, "\nOpen model: {}.", infra_text::open_model(open));
    }
    for warning in &summary.warnings {
        let _ = writeln!(out, "\n**Warning:** {warning}");
    }
    out
}
