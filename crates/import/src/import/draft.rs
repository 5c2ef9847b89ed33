//! A step as the import builds it: the recorded request, literal at first, then
//! rewritten into templates by the passes that find variables.

use std::collections::HashSet;

use serde_json::Value;

use super::classify::{Kept, Role};
use super::recording::Exchange;

#[derive(Debug)]
pub(super) struct Draft {
    pub name: String,
    pub method: String,
    pub frontend: bool,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<DraftBody>,
    pub expect: Option<u16>,
    /// Variable -> where in this step's answer it is (`/access_token`, `cookie:sid`).
    pub capture: Vec<(String, String)>,
    pub think_ms: Option<u64>,
    /// Static assets the page loaded, not replayed.
    pub assets: usize,
}

#[derive(Debug)]
pub(super) enum DraftBody {
    Json(Value),
    Raw(String),
}

/// Headers a browser or curl sets for itself, or that would make a replay wrong
/// (cache validators, a recorded length): the harness's client sets its own.
const DROPPED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "accept-encoding",
    "accept-language",
    "user-agent",
    "origin",
    "referer",
    "cache-control",
    "pragma",
    "priority",
    "dnt",
    "te",
    "upgrade-insecure-requests",
    "if-none-match",
    "if-modified-since",
    "accept",
];

impl Draft {
    pub(super) fn of(exchange: &Exchange, kept: &Kept) -> Self {
        let mut headers: Vec<(String, String)> = exchange
            .headers
            .iter()
            .filter(|(name, _)| {
                let lower = name.to_ascii_lowercase();
                !lower.starts_with(':')
                    && !lower.starts_with("sec-")
                    && !DROPPED_HEADERS.contains(&lower.as_str())
            })
            .cloned()
            .collect();
        let body = exchange.body.as_ref().map(|text| {
            let json = exchange
                .header("content-type")
                .is_some_and(|t| t.to_ascii_lowercase().contains("json"));
            match serde_json::from_str::<Value>(text) {
                // TOML has no null: a body with one stays raw text.
                Ok(value) if json && !has_null(&value) => DraftBody::Json(value),
                _ => DraftBody::Raw(text.clone()),
            }
        });
        if matches!(body, Some(DraftBody::Json(_))) {
            headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
        }
        Self {
            name: String::new(),
            method: exchange.method.to_ascii_uppercase(),
            frontend: kept.frontend,
            path: exchange.path(),
            headers,
            body,
            expect: exchange.answer.as_ref().map(|a| a.status),
            capture: Vec::new(),
            think_ms: None,
            assets: kept.assets,
        }
        .named(kept.role)
    }

    fn named(mut self, role: Role) -> Self {
        self.name = step_name(&self.method, &self.path, role == Role::Page);
        self
    }

    /// Every text a template may replace a value in: the path, header values, the
    /// body's strings.
    pub(super) fn texts_mut(&mut self, f: &mut impl FnMut(&mut String)) {
        f(&mut self.path);
        for (_, value) in &mut self.headers {
            f(value);
        }
        match &mut self.body {
            Some(DraftBody::Json(json)) => strings_mut(json, f),
            Some(DraftBody::Raw(text)) => f(text),
            None => {}
        }
    }

    /// The body's named string fields, `(key, value)`, whatever its kind: JSON, JSON
    /// sent as text, a form, a multipart form.
    pub(super) fn body_fields_mut(&mut self, f: &mut impl FnMut(&str, &mut String)) {
        match &mut self.body {
            Some(DraftBody::Json(json)) => super::fields::json_fields_mut(json, None, f),
            Some(DraftBody::Raw(text)) => {
                let content_type = super::recording::find_header(&self.headers, "content-type");
                super::fields::fields_mut(text, content_type, f);
            }
            None => {}
        }
    }
}

fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(fields) => fields.values().any(has_null),
        _ => false,
    }
}

fn strings_mut(value: &mut Value, f: &mut impl FnMut(&mut String)) {
    match value {
        Value::String(text) => f(text),
        Value::Array(items) => items.iter_mut().for_each(|v| strings_mut(v, f)),
        Value::Object(fields) => fields.values_mut().for_each(|v| strings_mut(v, f)),
        _ => {}
    }
}

/// `post_auth_register` for `POST /api/v1/auth/register`, `page_auth_email` for the
/// page `/auth/email`, `page_home` for `/`: the API's version prefix and ids left out.
pub(super) fn step_name(method: &str, path: &str, page: bool) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let mut segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty() && !is_id(s))
        .map(identifier)
        .filter(|s| !s.is_empty())
        .collect();
    if segments.first().is_some_and(|s| s == "api") {
        segments.remove(0);
    }
    if segments.first().is_some_and(|s| is_version(s)) {
        segments.remove(0);
    }
    let head = if page {
        "page".to_owned()
    } else {
        method.to_ascii_lowercase()
    };
    if segments.is_empty() {
        return format!("{head}_{}", if page { "home" } else { "root" });
    }
    format!("{head}_{}", segments.join("_"))
}

fn is_version(segment: &str) -> bool {
    segment.len() >= 2 && segment.starts_with('v') && segment[1..].chars().all(|c| c.is_ascii_digit())
}

/// A segment that names one record: digits, a UUID, a long token, a template.
fn is_id(segment: &str) -> bool {
    segment.contains("{{")
        || segment.chars().all(|c| c.is_ascii_digit())
        || (segment.len() >= 16 && segment.chars().any(|c| c.is_ascii_digit()))
}

/// Lower-case letters, digits and `_`, as step and variable names want.
pub(super) fn identifier(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_owned()
}

/// Names given so far (steps and variables share none): `fresh("email")` is `email`,
/// then `email_2`, ...
#[derive(Default)]
pub(super) struct Names {
    taken: HashSet<String>,
}

impl Names {
    pub(super) fn fresh(&mut self, base: &str) -> String {
        let base = if base.is_empty() { "value" } else { base };
        let mut name = base.to_owned();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_method_and_path() {
        assert_eq!(
            step_name("POST", "/api/v1/auth/register", false),
            "post_auth_register"
        );
        assert_eq!(step_name("GET", "/api/v1/services?lat=1", false), "get_services");
        assert_eq!(
            step_name(
                "GET",
                "/api/v1/requests/8c0f5f3e-7d1a-4b7e-9a65-2f1c3e4d5a6b/cancel",
                false
            ),
            "get_requests_cancel"
        );
        assert_eq!(
            step_name("GET", "/auth/forgot-password", true),
            "page_auth_forgot_password"
        );
        assert_eq!(step_name("GET", "/", true), "page_home");
        assert_eq!(step_name("DELETE", "/items/42", false), "delete_items");
    }
}
