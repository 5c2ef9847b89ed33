//! The validated scenario: every name resolved, every template compiled, every SLO
//! checked, with load flags from the command line applied. Built once; the load
//! engine only reads it.

use std::time::Duration;

use reqwest::header::HeaderName;
use reqwest::Method;

use super::load::{parse_duration, resolve_load, Load, LoadOverrides};
use super::model::{RawScenario, RawStep};
use super::pool::{self, Pool};
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
    /// Data pools: a row drawn at the start of every iteration.
    pub pools: Vec<Pool>,
    /// Every step of every kind; a kind's steps are contiguous.
    pub steps: Vec<Step>,
    /// Kinds of virtual users (one when the file has plain `steps`).
    pub kinds: Vec<Kind>,
    pub load: Load,
    pub slos: Vec<SloExpr>,
    /// Consecutive breached windows that stop the load early.
    pub abort_after: Option<u32>,
    /// Providers to seed before the load, unless the command line says otherwise.
    pub seed_providers: Option<usize>,
}

/// A kind of virtual user: its share of the users and its steps.
#[derive(Debug)]
pub struct Kind {
    pub name: String,
    pub weight: usize,
    /// Its steps are `steps[first..first + len]`.
    pub first: usize,
    pub len: usize,
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
        let pools = compile_pools(source, &raw, &mut vars)?;
        let (steps, kinds) = compile_kinds(source, &raw, &mut vars)?;
        let load = resolve_load(source, raw.load.as_ref(), overrides)?;
        if load.test_plan.is_none() && load.users < kinds.len() {
            return Err(crate::error::Error::config(format!(
                "{} kinds of users need at least {} virtual users, not {}",
                kinds.len(),
                kinds.len(),
                load.users
            )));
        }
        let slos = compile_slos(source, &raw, extra_slos, &steps)?;
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
            pools,
            steps,
            kinds,
            load,
            slos,
            abort_after,
            seed_providers: raw.seed_providers,
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

/// The variables a step may read: `[vars]`, pool columns, and captures of earlier
/// steps of its own kind.
struct Scope {
    visible: Vec<usize>,
    /// Whether the step being compiled is its kind's first.
    first_step: bool,
}

impl Scope {
    fn see(&mut self, var: usize) -> usize {
        if !self.visible.contains(&var) {
            self.visible.push(var);
        }
        var
    }
}

fn compile_pools(source: &Source, raw: &RawScenario, vars: &mut VarTable) -> Result<Vec<Pool>> {
    let mut pools = Vec::new();
    for (name, spanned) in &raw.pools {
        let at = |why: String| source.error_at(spanned.span().start, why);
        check_identifier(name).map_err(|why| at(format!("pool name: {why}")))?;
        let (columns, rows) = pool::load(name, spanned.get_ref(), source.dir.as_deref()).map_err(at)?;
        let mut pool_vars = Vec::with_capacity(columns.len());
        for column in &columns {
            check_identifier(column).map_err(|why| at(format!("pool {name} column: {why}")))?;
            pool_vars.push(vars.define(&format!("{name}.{column}")));
        }
        let pick = pool::pick(spanned.get_ref(), name).map_err(at)?;
        pools.push(Pool {
            name: name.clone(),
            vars: pool_vars,
            rows,
            pick,
        });
    }
    Ok(pools)
}

/// Every kind's steps, in order, and the kinds; plain `steps` make one kind.
fn compile_kinds(source: &Source, raw: &RawScenario, vars: &mut VarTable) -> Result<(Vec<Step>, Vec<Kind>)> {
    let raw_kinds: Vec<(&str, usize, &[toml::Spanned<RawStep>], usize)> =
        match (raw.steps.is_empty(), raw.kinds.is_empty()) {
            (false, true) => vec![(raw.name.as_str(), 1, raw.steps.as_slice(), 0)],
            (true, false) => raw
                .kinds
                .iter()
                .map(|k| {
                    (
                        k.get_ref().name.as_str(),
                        k.get_ref().weight,
                        k.get_ref().steps.as_slice(),
                        k.span().start,
                    )
                })
                .collect(),
            (false, false) => return Err(source.error("give either [[steps]] or [[kinds]], not both")),
            (true, true) => {
                return Err(source.error("a scenario needs [[steps]] (or [[kinds]] with their steps)"))
            }
        };
    let shared: Vec<usize> = (0..vars.names.len()).collect();
    let (mut steps, mut kinds) = (Vec::new(), Vec::new());
    for (name, weight, raw_steps, at) in raw_kinds {
        check_identifier(name).map_err(|why| source.error_at(at, format!("kind name: {why}")))?;
        if weight == 0 || raw_steps.is_empty() {
            return Err(source.error_at(
                at,
                format!("kind {name} needs a weight of at least 1 and at least one step"),
            ));
        }
        let mut scope = Scope {
            visible: shared.clone(),
            first_step: true,
        };
        let first = steps.len();
        for raw_step in raw_steps {
            let step = compile_step(raw_step.get_ref(), vars, &mut scope, &steps)
                .map_err(|why| source.error_at(raw_step.span().start, why))?;
            scope.first_step = false;
            steps.push(step);
        }
        kinds.push(Kind {
            name: name.to_owned(),
            weight,
            first,
            len: steps.len() - first,
        });
    }
    Ok((steps, kinds))
}

fn compile_slos(
    source: &Source,
    raw: &RawScenario,
    extra: &[String],
    steps: &[Step],
) -> Result<Vec<SloExpr>> {
    let mut slos = Vec::new();
    for slo in &raw.slos {
        slos.push(check_slo(slo.get_ref(), steps).map_err(|why| source.error_at(slo.span().start, why))?);
    }
    for text in extra {
        slos.push(
            check_slo(text, steps).map_err(|why| crate::error::Error::config(format!("--slo: {why}")))?,
        );
    }
    Ok(slos)
}

fn compile_step(
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
    let expect_headers = raw
        .expect_headers
        .iter()
        .map(|(key, value)| {
            let header = HeaderName::from_bytes(key.as_bytes())
                .map_err(|_| in_step(format!("invalid header name {key:?} in expect_headers")))?;
            let template = Template::compile(value, lookup)
                .map_err(|e| in_step(format!("expect_headers {key}: {e}")))?;
            Ok((header, template))
        })
        .collect::<Result<Vec<_>, String>>()?;
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
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(format!("capture {name}: {pointer:?} is not a JSON pointer (it starts with /, e.g. /access_token)"));
            }
            Ok(Capture {
                var: scope.see(vars.define(name)),
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

#[cfg(test)]
mod kind_tests {
    use super::*;

    fn build(text: &str) -> crate::error::Result<Plan> {
        let source = Source {
            origin: "t.toml".into(),
            text: text.into(),
            dir: None,
        };
        Plan::build(&source, &LoadOverrides::default(), &[])
    }

    const TWO_KINDS: &str = r#"
name = "mix"
[pools.people]
columns = ["email"]
rows = [["a@b.co"], ["c@d.co"]]
[[kinds]]
name = "reader"
weight = 3
[[kinds.steps]]
name = "login"
path = "/login/{{people.email}}"
capture = { token = "/t" }
[[kinds.steps]]
name = "read"
path = "/read/{{token}}"
[[kinds]]
name = "writer"
[[kinds.steps]]
name = "write"
path = "/write"
"#;

    #[test]
    fn kinds_have_weights_and_their_own_first_steps() {
        let plan = build(TWO_KINDS).unwrap();
        let kinds: Vec<(&str, usize, usize, usize)> = plan
            .kinds
            .iter()
            .map(|k| (k.name.as_str(), k.weight, k.first, k.len))
            .collect();
        assert_eq!(kinds, [("reader", 3, 0, 2), ("writer", 1, 2, 1)]);
        let starts: Vec<bool> = plan.steps.iter().map(|s| s.starts_iteration).collect();
        assert_eq!(starts, [true, false, true]);
        assert_eq!(plan.pools[0].rows.len(), 2);
    }

    #[test]
    fn a_kind_cannot_read_another_kinds_captures() {
        let leaky = TWO_KINDS.replace("path = \"/write\"", "path = \"/write/{{token}}\"");
        let err = build(&leaky).unwrap_err().to_string();
        assert!(
            err.contains("t.toml:") && err.contains("unknown placeholder {{token}}"),
            "{err}"
        );
    }

    #[test]
    fn steps_and_kinds_do_not_mix() {
        let both = r#"
name = "both"
[[steps]]
name = "top"
path = "/top"
[[kinds]]
name = "reader"
[[kinds.steps]]
name = "read"
path = "/read"
"#;
        assert!(build(both)
            .unwrap_err()
            .to_string()
            .contains("either [[steps]] or [[kinds]]"));
    }
}
