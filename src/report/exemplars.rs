//! The requests to look up in the server's logs, as the Markdown and HTML reports list
//! them: per step its slowest answered requests, then its first failed ones, each by
//! its id, when it was sent, its response time and its answer.

use super::summary::Summary;
use crate::metrics::Exemplar;
use crate::server_logs::ServerLogs;

/// One listed request, its cells as text (escaped by the caller).
pub struct Row {
    pub step: String,
    /// `slowest` or `failed`.
    pub why: &'static str,
    /// Its id; `-` when ids were off.
    pub request_id: String,
    /// `12.345s` since the load started.
    pub sent: String,
    /// `1234.5 ms`.
    pub response_time: String,
    /// `200`, `status 500`, `timeout`.
    pub answer: String,
}

/// Every step's exemplars, slowest first, then the failed in the order sent.
pub fn rows(summary: &Summary) -> Vec<Row> {
    let mut rows = Vec::new();
    for step in &summary.steps {
        let listed = step
            .exemplars
            .slowest
            .iter()
            .map(|e| ("slowest", e))
            .chain(step.exemplars.failed.iter().map(|e| ("failed", e)));
        rows.extend(listed.map(|(why, exemplar)| row(&step.name, why, exemplar)));
    }
    rows
}

fn row(step: &str, why: &'static str, exemplar: &Exemplar) -> Row {
    let answer = match (&exemplar.failure, exemplar.status) {
        (Some(failure), _) => failure.clone(),
        (None, Some(status)) => status.to_string(),
        (None, None) => "-".into(),
    };
    Row {
        step: step.to_owned(),
        why,
        request_id: exemplar.request_id.clone().unwrap_or_else(|| "-".into()),
        sent: format!("{:.3}s", exemplar.at_s),
        response_time: format!("{:.1} ms", exemplar.latency_ms),
        answer,
    }
}

/// Said when the stack's logs carry none of the ids: a plain-text access log (Gin's
/// default logger writes no request id) is searched by the time sent instead.
pub fn no_ids_note(logs: &ServerLogs) -> String {
    format!(
        "The stack's logs ({}) carry no request ids: search them by the time each request was sent.",
        logs.files.join(", ")
    )
}
