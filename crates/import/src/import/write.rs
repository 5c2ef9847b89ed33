//! The draft steps as a scenario file: the seed's thresholds, a small load, `[vars]`,
//! one `[[steps]]` per request, each line as a user would write it.

use std::fmt::Write as _;

use super::draft::{Draft, DraftBody};
use super::params::Var;

/// The scenario file's text; `header` lines become its opening comment.
pub(super) fn scenario(name: &str, header: &[String], vars: &[Var], drafts: &[Draft]) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    let flow: Vec<&str> = drafts.iter().map(|d| d.name.as_str()).collect();
    let _ = writeln!(out, "name = {}", quoted(name));
    let _ = writeln!(out, "description = {}", quoted(&flow.join(" -> ")));
    out.push_str(
        "\n# The seed's thresholds: responses under 500 ms, no failed requests.\n\
         slos = [\n    \"p95 < 500ms\",\n    \"error_rate < 1%\",\n    \"rate_limited == 0\",\n]\n\
         \n[load]\nusers = 5\nduration = \"1m\"\ntimeout = \"10s\"\n",
    );
    if !vars.is_empty() {
        out.push_str("\n# Values of each iteration.\n[vars]\n");
        for var in vars {
            let _ = writeln!(out, "{} = {}", var.name, quoted(&var.value));
        }
    }
    for draft in drafts {
        out.push('\n');
        step(draft, &mut out);
    }
    out
}

fn step(draft: &Draft, out: &mut String) {
    if draft.assets > 0 {
        let _ = writeln!(
            out,
            "# The page's static assets ({}) are not replayed: a browser caches them.",
            draft.assets
        );
    }
    out.push_str("[[steps]]\n");
    let _ = writeln!(out, "name = {}", quoted(&draft.name));
    if draft.method != "GET" {
        let _ = writeln!(out, "method = {}", quoted(&draft.method));
    }
    if draft.frontend {
        out.push_str("target = \"frontend\"\n");
    }
    let _ = writeln!(out, "path = {}", quoted(&draft.path));
    if !draft.headers.is_empty() {
        let table: toml::Table = draft
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), toml::Value::String(v.clone())))
            .collect();
        let _ = writeln!(out, "headers = {}", toml::Value::Table(table));
    }
    match &draft.body {
        Some(DraftBody::Json(json)) => {
            let _ = writeln!(out, "json = {}", toml_of(json));
        }
        Some(DraftBody::Raw(text)) => {
            let _ = writeln!(out, "body = {}", quoted(text));
        }
        None => {}
    }
    if let Some(status) = draft.expect {
        let _ = writeln!(out, "expect = [{status}]");
    }
    if !draft.capture.is_empty() {
        let table: toml::Table = draft
            .capture
            .iter()
            .map(|(k, v)| (k.clone(), toml::Value::String(v.clone())))
            .collect();
        let _ = writeln!(out, "capture = {}", toml::Value::Table(table));
    }
    if let Some(ms) = draft.think_ms {
        let _ = writeln!(out, "think_time = \"{ms}ms\"");
    }
}

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// JSON as a TOML value (a body with a null stays raw text, see `Draft::of`).
fn toml_of(json: &serde_json::Value) -> toml::Value {
    use serde_json::Value as J;
    match json {
        J::Null => toml::Value::String(String::new()),
        J::Bool(b) => toml::Value::Boolean(*b),
        J::Number(n) => n
            .as_i64()
            .map(toml::Value::Integer)
            .unwrap_or_else(|| toml::Value::Float(n.as_f64().unwrap_or_default())),
        J::String(s) => toml::Value::String(s.clone()),
        J::Array(items) => toml::Value::Array(items.iter().map(toml_of).collect()),
        J::Object(fields) => {
            toml::Value::Table(fields.iter().map(|(k, v)| (k.clone(), toml_of(v))).collect())
        }
    }
}
