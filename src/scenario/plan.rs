//! The validated scenario: every name resolved, every template compiled, every SLO
//! checked, with load flags from the command line applied. Built once; the load
//! engine only reads it.

use std::time::Duration;

use reqwest::header::HeaderName;
use reqwest::Method;

use super::load::{parse_duration, resolve_load, Load, LoadOverrides};
use super::model::{RawScenario, RawStep};
use super::source::Source;
use super::template::Template;
use crate::error::Result;
use crate::slo::SloExpr;

#[derive(Debug)]
pub struct Plan {
    pub name: String,
    pub description: String,
    /// Where the scenario came from, for reports.
    pub origin: String,
    /// Names of the session variables; templates refer to them by index.
    pub var_names: Vec<String>,
    /// `[vars]`: evaluated in this order at the start of every iteration.
    pub iteration_vars: Vec<(usize, Template)>,
    pub steps: Vec<Step>,
    pub load: Load,
    pub slos: Vec<SloExpr>,
    /// Consecutive breached windows that stop the load early.
    pub abort_after: Option<u32>,
}

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
    pub captures: Vec<Capture>,
    pub think_time: Duration,
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

/// Copies the value at `pointer` (RFC 6901) in a JSON response into variable `var`.
#[derive(Debug)]
pub struct Capture {
    pub var: usize,
    pub name: String,
    pub pointer: String,
}

impl Plan {
    /// Parses and validates `source`, then applies the command line's overrides and SLOs.
    pub fn build(source: &Source, overrides: &LoadOverrides, extra_slos: &[String]) -> Result<Self> {
        Self::build_with_abort(source, overrides, extra_slos, None)
    }

    /// As [`build`](Self::build), with `--abort-after` from the command line.
    pub fn build_with_abort(
        source: &Source,
        overrides: &LoadOverrides,
        extra_slos: &[String],
        abort_after: Option<u32>,
    ) -> Result<Self> {
        let raw: RawScenario = toml::from_str(&source.text).map_err(|e| match e.span() {
            Some(span) => source.error_at(span.start, e.message()),
            None => source.error(e.message()),
        })?;
        let mut vars = VarTable::default();
        let iteration_vars = compile_vars(source, &raw, &mut vars)?;
        if raw.steps.is_empty() {
            return Err(source.error("a scenario needs at least one [[steps]] table"));
        }
        let mut steps = Vec::with_capacity(raw.steps.len());
        for raw_step in &raw.steps {
            let step = compile_step(raw_step.get_ref(), &mut vars, &steps)
                .map_err(|why| source.error_at(raw_step.span().start, why))?;
            steps.push(step);
        }
        let load = resolve_load(source, raw.load.as_ref(), overrides)?;
        let mut slos = Vec::new();
        for slo in &raw.slos {
            let checked =
                check_slo(slo.get_ref(), &steps).map_err(|why| source.error_at(slo.span().start, why))?;
            slos.push(checked);
        }
        for text in extra_slos {
            slos.push(
                check_slo(text, &steps)
                    .map_err(|why| crate::error::Error::config(format!("--slo: {why}")))?,
            );
        }
        let abort_after = abort_after.or(raw.abort_after);
        if abort_after.is_some() && slos.iter().all(|s| s.window.is_none()) {
            return Err(crate::error::Error::config(
                "abort_after needs an SLO with a window, e.g. 'p95(register)[10s] < 500ms'",
            ));
        }
        Ok(Self {
            name: raw.name,
            description: raw.description,
            origin: source.origin.clone(),
            var_names: vars.names,
            iteration_vars,
            steps,
            load,
            slos,
            abort_after,
        })
    }

    pub fn step_names(&self) -> Vec<String> {
        self.steps.iter().map(|s| s.name.clone()).collect()
    }

    /// The longest SLO window in seconds (0 without windows).
    pub fn max_window(&self) -> u64 {
        self.slos.iter().filter_map(|s| s.window).max().unwrap_or(0)
    }

    /// Whether any step needs the frontend's address.
    pub fn uses_frontend(&self) -> bool {
        self.steps.iter().any(|s| s.target == Target::Frontend)
    }
}

/// Variable names, in the order they were first defined.
#[derive(Default)]
struct VarTable {
    names: Vec<String>,
}

impl VarTable {
    fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    fn define(&mut self, name: &str) -> usize {
        self.index(name).unwrap_or_else(|| {
            self.names.push(name.to_owned());
            self.names.len() - 1
        })
    }
}

fn compile_vars(source: &Source, raw: &RawScenario, vars: &mut VarTable) -> Result<Vec<(usize, Template)>> {
    let mut compiled = Vec::new();
    for (name, text) in &raw.vars {
        check_identifier(name).map_err(|why| source.error_at(text.span().start, why))?;
        // `[vars]` may use functions only: their order in the file is not kept.
        let template = Template::compile(text.get_ref(), |_| None)
            .map_err(|why| source.error_at(text.span().start, format!("vars.{name}: {why}")))?;
        compiled.push((vars.define(name), template));
    }
    Ok(compiled)
}

fn compile_step(raw: &RawStep, vars: &mut VarTable, earlier: &[Step]) -> Result<Step, String> {
    let name = raw.name.trim();
    check_identifier(name).map_err(|why| format!("step name: {why}"))?;
    if earlier.iter().any(|s| s.name == name) {
        return Err(format!("step name {name:?} is used twice"));
    }
    let in_step = |why: String| format!("step {name:?}: {why}");
    let method = Method::from_bytes(raw.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| in_step(format!("invalid method {:?}", raw.method)))?;
    let lookup = |n: &str| vars.index(n);
    let path = Template::compile(&raw.path, lookup).map_err(|e| in_step(format!("path: {e}")))?;
    if !raw.path.starts_with('/') {
        return Err(in_step(format!("path {:?} must start with /", raw.path)));
    }
    let headers = raw
        .headers
        .iter()
        .map(|(key, value)| {
            let header = HeaderName::from_bytes(key.as_bytes())
                .map_err(|_| in_step(format!("invalid header name {key:?}")))?;
            let template =
                Template::compile(value, lookup).map_err(|e| in_step(format!("header {key}: {e}")))?;
            Ok((header, template))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let body = compile_body(raw, &lookup).map_err(in_step)?;
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
    let captures = compile_captures(raw, vars).map_err(in_step)?;
    Ok(Step {
        name: name.to_owned(),
        method,
        target,
        path,
        headers,
        body,
        expect: raw.expect.clone(),
        captures,
        think_time,
    })
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

fn compile_captures(raw: &RawStep, vars: &mut VarTable) -> Result<Vec<Capture>, String> {
    raw.capture
        .iter()
        .map(|(name, pointer)| {
            check_identifier(name).map_err(|why| format!("capture: {why}"))?;
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(format!("capture {name}: {pointer:?} is not a JSON pointer (it starts with /, e.g. /access_token)"));
            }
            Ok(Capture {
                var: vars.define(name),
                name: name.clone(),
                pointer: pointer.clone(),
            })
        })
        .collect()
}

/// Parses an SLO and checks that the step it names exists.
fn check_slo(text: &str, steps: &[Step]) -> Result<SloExpr, String> {
    let slo = SloExpr::parse(text)?;
    if let Some(step) = &slo.step {
        if !steps.iter().any(|s| &s.name == step) {
            let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
            return Err(format!(
                "{text:?} names step {step:?}, which is not one of: {}",
                names.join(", ")
            ));
        }
    }
    Ok(slo)
}

fn check_identifier(name: &str) -> Result<(), String> {
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
