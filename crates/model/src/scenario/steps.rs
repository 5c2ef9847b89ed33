//! Steps as the load engine runs them, and their compilation from the file's
//! `[[steps]]`: templates resolved against the variables a step may see.

use std::time::Duration;

use http::header::HeaderName;
use http::Method;

use super::model::RawStep;
use super::profile::parse_duration;
use super::template::Template;

#[derive(Debug)]
pub struct Step {
    pub name: String,
    pub method: Method,
    pub target: Target,
    pub path: Template,
    pub headers: Vec<(HeaderName, Template)>,
    pub body: Option<Body>,
    /// Statuses that count as success; empty means any 2xx.
    pub expect: Vec<u16>,
    /// Response headers that must have these values.
    pub expect_headers: Vec<(HeaderName, Template)>,
    /// Times in a row the request is sent.
    pub repeat: u32,
    pub captures: Vec<Capture>,
    pub think_time: Duration,
    /// The first step of its kind: an iteration starts here.
    pub starts_iteration: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Backend,
    Frontend,
}

#[derive(Debug)]
pub enum Body {
    Json(JsonTemplate),
    Raw(Template),
}

/// A JSON value whose strings are templates.
#[derive(Debug)]
pub enum JsonTemplate {
    Literal(serde_json::Value),
    Text(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

/// Copies a value of the response into variable `var`.
#[derive(Debug)]
pub struct Capture {
    pub var: usize,
    pub name: String,
    pub from: CaptureFrom,
}

/// Where in the response a captured value is.
#[derive(Debug)]
pub enum CaptureFrom {
    /// The value at this JSON pointer (RFC 6901) of a JSON body (`/access_token`).
    Pointer(String),
    /// The first group (else the whole match) of a regular expression over the body,
    /// written `~PATTERN`: how a page's asset links are found in its HTML.
    Pattern(regex::Regex),
    /// A response header's value, written `header:NAME` (e.g. `header:Location`).
    Header(HeaderName),
    /// A cookie the response sets, written `cookie:NAME`: the value of its `Set-Cookie`.
    Cookie(String),
}

impl CaptureFrom {
    /// Whether the value is in the response's headers rather than its body.
    pub fn in_headers(&self) -> bool {
        matches!(self, Self::Header(_) | Self::Cookie(_))
    }
}

/// Variable names, in the order they were first defined.
#[derive(Default)]
pub(super) struct VarTable {
    pub(super) names: Vec<String>,
}

impl VarTable {
    pub(super) fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    pub(super) fn define(&mut self, name: &str) -> usize {
        self.index(name).unwrap_or_else(|| {
            self.names.push(name.to_owned());
            self.names.len() - 1
        })
    }
}

/// The variables a step may read: `[vars]`, pool columns, and captures of earlier
/// steps of its own kind.
pub(super) struct Scope {
    pub(super) visible: Vec<usize>,
    /// Whether the step being compiled is its kind's first.
    pub(super) first_step: bool,
}

impl Scope {
    pub(super) fn see(&mut self, var: usize) -> usize {
        if !self.visible.contains(&var) {
            self.visible.push(var);
        }
        var
    }
}

pub(super) fn compile_step(
    raw: &RawStep,
    vars: &mut VarTable,
    scope: &mut Scope,
    earlier: &[Step],
) -> Result<Step, String> {
    let name = raw.name.trim();
    check_identifier(name).map_err(|why| format!("step name: {why}"))?;
    if earlier.iter().any(|s| s.name == name) {
        return Err(format!("step name {name:?} is used twice"));
    }
    let in_step = |why: String| format!("step {name:?}: {why}");
    let method = Method::from_bytes(raw.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| in_step(format!("invalid method {:?}", raw.method)))?;
    let lookup = |n: &str| vars.index(n).filter(|i| scope.visible.contains(i));
    let path = Template::compile(&raw.path, lookup).map_err(|e| in_step(format!("path: {e}")))?;
    // A path starts with / (or is a variable holding one, e.g. a captured asset link).
    if !raw.path.starts_with('/') && !raw.path.starts_with("{{") {
        return Err(in_step(format!("path {:?} must start with /", raw.path)));
    }
    let headers = compile_headers(&raw.headers, "headers", &lookup).map_err(&in_step)?;
    let body = compile_body(raw, &lookup).map_err(in_step)?;
    let expect_headers = compile_headers(&raw.expect_headers, "expect_headers", &lookup).map_err(&in_step)?;
    let repeat = raw.repeat.unwrap_or(1);
    if !(1..=10_000).contains(&repeat) {
        return Err(in_step(format!("repeat must be from 1 to 10000, not {repeat}")));
    }
    let target = match raw.target.as_deref() {
        None | Some("backend") => Target::Backend,
        Some("frontend") => Target::Frontend,
        Some(other) => {
            return Err(in_step(format!(
                "target {other:?} is neither backend nor frontend"
            )))
        }
    };
    if let Some(bad) = raw.expect.iter().find(|s| !(100..=599).contains(*s)) {
        return Err(in_step(format!("expect: {bad} is not an HTTP status")));
    }
    let think_time = raw
        .think_time
        .as_deref()
        .map(|t| parse_duration(t).map_err(|e| in_step(format!("think_time: {e}"))))
        .transpose()?
        .unwrap_or_default();
    let captures = compile_captures(raw, vars, scope).map_err(in_step)?;
    Ok(Step {
        name: name.to_owned(),
        method,
        target,
        path,
        headers,
        body,
        expect: raw.expect.clone(),
        expect_headers,
        repeat,
        captures,
        think_time,
        starts_iteration: scope.first_step,
    })
}

/// Header name -> value template, for `headers` and `expect_headers`.
fn compile_headers(
    headers: &std::collections::BTreeMap<String, String>,
    key: &str,
    lookup: &impl Fn(&str) -> Option<usize>,
) -> Result<Vec<(HeaderName, Template)>, String> {
    headers
        .iter()
        .map(|(name, value)| {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("{key}: invalid header name {name:?}"))?;
            // HTTP allows visible characters, spaces and tabs in a value: a CR or LF
            // would end the header (request splitting), any other control is refused.
            if value.chars().any(|c| (c.is_ascii_control() && c != '\t') || c == '\u{7f}') {
                return Err(format!(
                    "{key} {name}: the value {value:?} has a control character (CR, LF, ...), which HTTP does not allow"
                ));
            }
            let template = Template::compile(value, lookup).map_err(|e| format!("{key} {name}: {e}"))?;
            Ok((header, template))
        })
        .collect()
}

fn compile_body(raw: &RawStep, lookup: &impl Fn(&str) -> Option<usize>) -> Result<Option<Body>, String> {
    match (&raw.json, &raw.body) {
        (Some(_), Some(_)) => Err("give either json or body, not both".into()),
        (Some(json), None) => Ok(Some(Body::Json(compile_json(json, lookup)?))),
        (None, Some(text)) => Ok(Some(Body::Raw(
            Template::compile(text, lookup).map_err(|e| format!("body: {e}"))?,
        ))),
        (None, None) => Ok(None),
    }
}

fn compile_json(
    value: &toml::Value,
    lookup: &impl Fn(&str) -> Option<usize>,
) -> Result<JsonTemplate, String> {
    Ok(match value {
        toml::Value::String(text) => {
            JsonTemplate::Text(Template::compile(text, lookup).map_err(|e| format!("json: {e}"))?)
        }
        toml::Value::Array(items) => JsonTemplate::Array(
            items
                .iter()
                .map(|v| compile_json(v, lookup))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => JsonTemplate::Object(
            table
                .iter()
                .map(|(k, v)| Ok((k.clone(), compile_json(v, lookup)?)))
                .collect::<Result<_, String>>()?,
        ),
        toml::Value::Integer(n) => JsonTemplate::Literal((*n).into()),
        toml::Value::Float(f) => JsonTemplate::Literal(serde_json::json!(f)),
        toml::Value::Boolean(b) => JsonTemplate::Literal((*b).into()),
        toml::Value::Datetime(d) => JsonTemplate::Literal(d.to_string().into()),
    })
}

fn compile_captures(raw: &RawStep, vars: &mut VarTable, scope: &mut Scope) -> Result<Vec<Capture>, String> {
    raw.capture
        .iter()
        .map(|(name, pointer)| {
            check_identifier(name).map_err(|why| format!("capture: {why}"))?;
            let from = capture_from(pointer).map_err(|why| format!("capture {name}: {why}"))?;
            Ok(Capture {
                var: scope.see(vars.define(name)),
                name: name.clone(),
                from,
            })
        })
        .collect()
}

fn capture_from(text: &str) -> Result<CaptureFrom, String> {
    if let Some(name) = text.strip_prefix("header:") {
        return HeaderName::from_bytes(name.trim().as_bytes())
            .map(CaptureFrom::Header)
            .map_err(|_| format!("{name:?} is not a header name"));
    }
    if let Some(name) = text.strip_prefix("cookie:") {
        let name = name.trim();
        check_identifier(name).map_err(|why| format!("cookie name: {why}"))?;
        return Ok(CaptureFrom::Cookie(name.to_owned()));
    }
    if let Some(pattern) = text.strip_prefix('~') {
        return regex::Regex::new(pattern)
            .map(CaptureFrom::Pattern)
            .map_err(|e| format!("{pattern:?} is not a regular expression: {e}"));
    }
    if !text.is_empty() && !text.starts_with('/') {
        return Err(format!(
            "{text:?} is neither a JSON pointer (it starts with /, e.g. /access_token), a ~pattern, header:NAME nor cookie:NAME"
        ));
    }
    Ok(CaptureFrom::Pointer(text.to_owned()))
}

pub(super) fn check_identifier(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} must be letters, digits, _ or -"))
    }
}
