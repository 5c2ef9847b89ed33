//! The stack's side of the requests a report names: against the reference stack the
//! harness runs, each listed request's backend log line is in `summary.json`, Markdown
//! and HTML; a backend logging plain text (as Gin's default logger does) is said to
//! carry no ids, the ids still listed.

use serde_json::Value;

use crate::common::harness::{assert_exit, Run};

/// A step that fails about half the time (a 404 for `/missing`, a 200 for `/health`).
const SOMETIMES: &str = "name = \"sometimes\"\n\
    [[steps]]\nname = \"maybe\"\npath = \"/{{random_choice(health|missing)}}\"\nexpect = [200]\n\
    [[steps]]\nname = \"me\"\npath = \"/api/v1/auth/me\"\nexpect = [401]\n";

fn run_sometimes(extra: &[&str], stack: &str) -> (Run, Value) {
    let run = Run::new();
    let path = run.scenario_file("sometimes", &format!("{SOMETIMES}{stack}"));
    let args = [&[&path[..], "--duration", "3s", "--users", "3"][..], extra].concat();
    let output = run.run(&args);
    assert_exit(&output, 0);
    let summary = run.summary();
    crate::reports::assert_matches_schema(&summary);
    (run, summary)
}

fn report(run: &Run, name: &str) -> String {
    std::fs::read_to_string(run.report_dir().join(name)).unwrap()
}

/// Every failed request the step lists has its backend line (a 404 with its id) in the
/// summary, under its row in `report.html` and in `summary.md`; the slowest too.
fn assert_failed_requests_shown_with_their_lines(run: &Run, summary: &Value) {
    let logs = &summary["server_logs"];
    assert_eq!(logs["carries_ids"], true, "{logs}");
    assert!(
        logs["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "backend.log"),
        "{logs}"
    );
    let step = &summary["steps"][0];
    let failed = step["exemplars"]["failed"].as_array().unwrap();
    assert!(
        !failed.is_empty() && step["errors"].as_u64().unwrap() > 0,
        "{step}"
    );
    let (html, markdown) = (report(run, "report.html"), report(run, "summary.md"));
    let requests = logs["requests"].as_array().unwrap();
    let lines_of = |id: &str| {
        requests
            .iter()
            .find(|r| r["request_id"] == id)
            .map(|r| r["lines"].as_array().unwrap().clone())
            .unwrap_or_default()
    };
    for exemplar in failed {
        let id = exemplar["request_id"].as_str().unwrap();
        let lines = lines_of(id);
        assert_eq!(lines.len(), 1, "{id}: {lines:?}");
        let text = lines[0]["text"].as_str().unwrap();
        let line: Value = serde_json::from_str(text).expect("the backend's JSON line");
        assert_eq!(
            (&line["request_id"], &line["status"]),
            (&Value::from(id), &Value::from(404))
        );
        assert!(
            html.contains(&format!("<code>{id}</code>")),
            "{id} in report.html"
        );
        assert!(markdown.contains(&format!("- `{id}`:")), "{id} in summary.md");
    }
    for exemplar in step["exemplars"]["slowest"].as_array().unwrap() {
        let id = exemplar["request_id"].as_str().unwrap();
        assert_eq!(lines_of(id).len(), 1, "slowest {id}");
    }
    // One click from the step: a link to its first failure, whose line is beneath it.
    assert!(
        html.contains("<a href=\"#failures-0\">maybe</a>"),
        "the step links to its failures"
    );
    let first = step["failures"]["kinds"][0]["request_id"].as_str().unwrap();
    let row = html.find("id=\"failures-0\"").expect("the step's first failure");
    let beneath = &html[row..];
    let line_at = beneath.find("<tr class=\"log\">").expect("its log row");
    assert!(beneath[..line_at].contains(first) && beneath[line_at..].contains(first));
}

#[test]
fn a_failed_requests_backend_log_line_is_in_the_report() {
    let (run, summary) = run_sometimes(&[], "");
    assert_failed_requests_shown_with_their_lines(&run, &summary);
}

#[test]
fn through_three_generators_each_failed_request_shows_its_backend_log_line() {
    let (run, summary) = run_sometimes(&["--generators", "3"], "");
    assert_failed_requests_shown_with_their_lines(&run, &summary);
    let ids: Vec<&str> = summary["steps"][0]["exemplars"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    // Sent by the generators (which of them failed first depends on who started first).
    let by_generator = |id: &&str| ["-g0-u", "-g1-u", "-g2-u"].iter().any(|g| id.contains(g));
    assert!(ids.iter().all(by_generator), "each names its generator: {ids:?}");
    assert_eq!(
        summary["generators"].as_array().map(Vec::len),
        Some(3),
        "{summary}"
    );
}

#[test]
fn a_backend_logging_plain_text_is_said_to_carry_no_ids_and_the_ids_are_listed() {
    let (run, summary) = run_sometimes(&[], "[stack]\nbackend_env = { LOG_FORMAT = \"gin\" }\n");
    let logs = &summary["server_logs"];
    assert_eq!(
        (&logs["carries_ids"], logs["requests"].as_array().map(Vec::len)),
        (&Value::Bool(false), Some(0)),
        "{logs}"
    );
    let backend = report(&run, "logs/backend.log");
    assert!(
        backend.contains("[GIN] ") && backend.contains("| 404 |"),
        "Gin's lines"
    );
    let failed = summary["steps"][0]["exemplars"]["failed"].as_array().unwrap();
    assert!(!failed.is_empty());
    let (html, markdown) = (report(&run, "report.html"), report(&run, "summary.md"));
    assert!(markdown.contains("carry no request ids"), "{markdown}");
    assert!(html.contains("carry no request ids"));
    for exemplar in failed {
        let id = exemplar["request_id"].as_str().unwrap();
        assert!(markdown.contains(&format!("`{id}`")), "{id} still listed");
    }
}
