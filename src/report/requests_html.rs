//! `report.html`'s requests: each step's failures and the requests to look up, each
//! with the stack's log lines of its id beneath it, and the links from the top of the
//! page to each failed step's first failure.

use std::fmt::Write;

use super::summary::Summary;
use super::svg::escape;

/// The first distinct failures of each step, with what the server answered and, under
/// each, the stack's log lines of its first request; each step's first row is the
/// anchor `failures-N` the steps link to.
pub(super) fn failure_table(summary: &Summary) -> String {
    let mut rows = String::new();
    for (index, step) in summary.steps.iter().enumerate() {
        for (k, f) in step.failures.kinds.iter().enumerate() {
            let anchor = match k {
                0 => format!(" id=\"failures-{index}\""),
                _ => String::new(),
            };
            let id = f.request_id.as_deref().unwrap_or("");
            let _ = write!(
                rows,
                "<tr{anchor}><td>{}</td><td>{}</td><td>{}</td><td>{:.1}s</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                escape(&step.name),
                escape(&f.kind),
                f.count,
                f.first_seen_s,
                escape(id),
                escape(&f.snippet)
            );
            rows.push_str(&log_row(summary, id));
        }
        if step.failures.other > 0 {
            let _ = write!(
                rows,
                "<tr><td>{}</td><td>other kinds</td><td>{}</td><td></td><td></td><td></td></tr>",
                escape(&step.name),
                step.failures.other
            );
        }
    }
    if rows.is_empty() {
        return rows;
    }
    format!(
        "<h2>Failures</h2>{}<table><tr><th>step</th><th>kind</th><th>count</th><th>first seen</th>\
         <th>its request id</th><th>answer (first bytes)</th></tr>{rows}</table>",
        logs_note(summary)
    )
}

/// Links from each step with failures to its first failure, the server's lines under it.
pub(super) fn failed_steps(summary: &Summary) -> String {
    let links: Vec<String> = summary
        .steps
        .iter()
        .enumerate()
        .filter(|(_, step)| !step.failures.kinds.is_empty())
        .map(|(index, step)| format!("<a href=\"#failures-{index}\">{}</a>", escape(&step.name)))
        .collect();
    match links.is_empty() {
        true => String::new(),
        false => format!("<p class=\"meta\">Steps that failed: {}</p>", links.join(", ")),
    }
}

/// The stack's log lines of request `id`, as a row under its own; none when none.
fn log_row(summary: &Summary, id: &str) -> String {
    let lines = summary.server_logs.as_ref().and_then(|logs| logs.lines_of(id));
    let Some(lines) = lines.filter(|_| !id.is_empty()) else {
        return String::new();
    };
    let text: Vec<String> = lines
        .iter()
        .map(|line| format!("{}: {}", escape(&line.file), escape(&line.text)))
        .collect();
    format!(
        "<tr class=\"log\"><td colspan=\"6\"><pre>{}</pre></td></tr>",
        text.join("\n")
    )
}

/// What the stack's logs said of the ids, when they carry none: search by time.
fn logs_note(summary: &Summary) -> String {
    match &summary.server_logs {
        Some(logs) if !logs.carries_ids => format!(
            "<p class=\"meta\">{}</p>",
            escape(&super::exemplars::no_ids_note(logs))
        ),
        _ => String::new(),
    }
}

/// The requests to look up in the server's logs: each step's slowest and first failed,
/// each with the stack's log lines under it.
pub(super) fn exemplar_table(summary: &Summary) -> String {
    let mut rows = String::new();
    for row in super::exemplars::rows(summary) {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row.step),
            row.why,
            escape(&row.request_id),
            row.sent,
            row.response_time,
            escape(&row.answer)
        );
        rows.push_str(&log_row(summary, &row.request_id));
    }
    if rows.is_empty() {
        return rows;
    }
    format!(
        "<h2 id=\"requests\">Requests to look up</h2>{}<table><tr><th>step</th><th>why</th><th>request id</th>\
         <th>sent at</th><th>response time</th><th>answer</th></tr>{rows}</table>",
        logs_note(summary)
    )
}
