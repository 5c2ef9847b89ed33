//! The validated scenario: every name resolved, every template compiled, every SLO
//! checked, with load flags from the command line applied. Built once; the load
//! engine only reads it.

use super::faults;
use super::model::{RawHttp, RawScenario, RawStack, RawStep};
use super::pool::{self, Pool};
use super::profile::{resolve_load, LoadOverrides, LoadProfile};
use super::source::Source;
use super::steps::{check_identifier, compile_step, Scope, Step, Target, VarTable};
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
    pub load: LoadProfile,
    pub slos: Vec<SloExpr>,
    /// Consecutive breached windows that stop the load early.
    pub abort_after: Option<u32>,
    /// Providers to seed before the load, unless the command line says otherwise.
    pub seed_providers: Option<usize>,
    /// Backend replicas, unless the command line says otherwise.
    pub replicas: Option<u16>,
    /// Iterations per second `capacity` sizes the deployment for, unless `--target-rps`.
    pub target_rps: Option<f64>,
    /// Faults to inject while the load runs, in time order.
    pub faults: Vec<super::Fault>,
    /// What the stack must run with (`[stack]`).
    pub stack: StackNeeds,
    /// `[http]`, as written: the flags go over it.
    pub http: crate::http::HttpOptions,
}

/// What the stack the scenario boots must run with, from `[stack]`; flags and the
/// environment still win.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StackNeeds {
    /// The provider the scenario needs (e.g. Docker, for faults).
    pub provider: Option<StackKind>,
    /// Environment of every backend instance, e.g. `RATE_LIMIT_ENABLED=true`.
    pub backend_env: Vec<(String, String)>,
    /// `[stack.prometheus]`: PromQL by figure, in place of the defaults.
    pub prometheus_queries: Vec<(String, String)>,
}

/// A kind of virtual user: its share of the users and its steps.
#[derive(Debug)]
pub struct Kind {
    pub name: String,
    /// Its share of the users (0: none run in this generator).
    pub weight: usize,
    /// Its steps are `steps[first..first + len]`.
    pub first: usize,
    pub len: usize,
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
        let (steps, mut kinds) = compile_kinds(source, &raw, &mut vars)?;
        let mut load = resolve_load(source, raw.load.as_ref(), overrides)?;
        let stack = compile_stack(source, raw.stack.as_ref())?;
        let http = compile_http(source, raw.http.as_ref())?;
        if let Some(counts) = &overrides.kind_users {
            apply_kind_users(&mut kinds, &mut load, counts)?;
        } else if load.test_plan.is_none() && load.users < kinds.len() {
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
            replicas: raw.replicas,
            target_rps: raw.target_rps,
            faults: faults::compile(source, &raw.faults)?,
            stack,
            http,
        })
    }

    pub fn step_names(&self) -> Vec<String> {
        self.steps.iter().map(|s| s.name.clone()).collect()
    }

    /// Every step as `(kind, name)`, in order: what the measurements are kept by.
    pub fn step_keys(&self) -> Vec<(String, String)> {
        self.kinds
            .iter()
            .flat_map(|kind| {
                self.steps[kind.first..kind.first + kind.len]
                    .iter()
                    .map(|step| (kind.name.clone(), step.name.clone()))
            })
            .collect()
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

/// One generator's users, kind by kind: each kind's weight becomes its count, so Goose
/// gives it exactly that many; a kind with none is not run here.
fn apply_kind_users(kinds: &mut [Kind], load: &mut LoadProfile, counts: &[usize]) -> Result<()> {
    if counts.len() != kinds.len() || counts.iter().all(|&n| n == 0) {
        return Err(crate::error::Error::config(format!(
            "a generator needs a user count for each of the {} kinds, and one at least",
            kinds.len()
        )));
    }
    for (kind, &count) in kinds.iter_mut().zip(counts) {
        kind.weight = count;
    }
    if load.test_plan.is_none() {
        load.users = counts.iter().sum();
    }
    Ok(())
}

/// `[http]`: paths made relative to the scenario's folder, `resolve` entries and header
/// names checked where they are written.
fn compile_http(source: &Source, raw: Option<&RawHttp>) -> Result<crate::http::HttpOptions> {
    let Some(raw) = raw else {
        return Ok(crate::http::HttpOptions::default());
    };
    let path = |written: &Option<toml::Spanned<String>>| {
        written.as_ref().map(|p| match &source.dir {
            Some(dir) => dir.join(p.get_ref()),
            None => std::path::PathBuf::from(p.get_ref()),
        })
    };
    let resolve = raw
        .resolve
        .iter()
        .map(|entry| {
            crate::http::parse_resolve(entry.get_ref())
                .map_err(|e| source.error_at(entry.span().start, format!("http.resolve: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let headers = raw
        .headers
        .iter()
        .map(|(name, value)| {
            if !crate::http::names_a_variable(value.get_ref()) {
                return Err(literal_secret(
                    source,
                    value,
                    &format!("http.headers.{name}"),
                    name,
                ));
            }
            crate::http::parse_header(&format!("{name}: {}", value.get_ref()))
                .map_err(|e| source.error_at(value.span().start, format!("http.headers: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(basic) = &raw.basic_auth {
        let password = basic.get_ref().split_once(':').map_or("", |(_, p)| p);
        if !crate::http::names_a_variable(password) {
            return Err(literal_secret(
                source,
                basic,
                "http.basic_auth's password",
                "password",
            ));
        }
    }
    Ok(crate::http::HttpOptions {
        ca_cert: path(&raw.ca_cert),
        insecure: raw.insecure,
        client_cert: path(&raw.client_cert),
        client_key: path(&raw.client_key),
        resolve,
        headers,
        basic_auth: raw.basic_auth.as_ref().map(|b| b.get_ref().clone()),
        http2: raw.http2,
        request_id_header: raw.request_id_header.clone(),
        request_ids: raw.request_ids,
    })
}

/// A secret written out in the scenario, which is copied into reports and to every
/// generator: refused where it is written, saying how to pass it.
fn literal_secret(
    source: &Source,
    value: &toml::Spanned<String>,
    field: &str,
    name: &str,
) -> crate::error::Error {
    let var: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    source.error_at(
        value.span().start,
        format!(
            "{field} is written out: the scenario is copied into reports and to every generator; \
             write \"${{{var}}}\" and export {var}, or give it by flag (--header, --basic-auth) with a ${{VAR}}"
        ),
    )
}

/// `[stack]`: a provider the harness can start, and backend environment variables.
fn compile_stack(source: &Source, raw: Option<&RawStack>) -> Result<StackNeeds> {
    let Some(raw) = raw else {
        return Ok(StackNeeds::default());
    };
    let provider = match &raw.provider {
        None => None,
        Some(spanned) => Some(match spanned.get_ref().as_str() {
            "local" => StackKind::Local,
            "docker" => StackKind::Docker,
            "auto" => StackKind::Auto,
            other => {
                return Err(source.error_at(
                    spanned.span().start,
                    format!("stack.provider: {other:?} is not one of local, docker, auto"),
                ))
            }
        }),
    };
    let mut backend_env = Vec::new();
    for (name, value) in &raw.backend_env {
        let valid_name = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid_name || value.get_ref().contains('\0') {
            return Err(source.error_at(
                value.span().start,
                format!("stack.backend_env: {name:?} is not an environment variable name (letters, digits, _) with a value"),
            ));
        }
        backend_env.push((name.clone(), value.get_ref().clone()));
    }
    let prometheus_queries = compile_prometheus_queries(source, &raw.prometheus)?;
    Ok(StackNeeds {
        provider,
        backend_env,
        prometheus_queries,
    })
}

/// `[stack.prometheus]`: PromQL for figures `--prometheus` knows.
fn compile_prometheus_queries(
    source: &Source,
    raw: &std::collections::BTreeMap<String, toml::Spanned<String>>,
) -> Result<Vec<(String, String)>> {
    let known = crate::samples::prometheus_figures();
    let mut queries = Vec::new();
    for (name, query) in raw {
        if !known.contains(&name.as_str()) || query.get_ref().trim().is_empty() {
            return Err(source.error_at(
                query.span().start,
                format!(
                    "stack.prometheus: {name:?} needs a PromQL query and is one of {}",
                    known.join(", ")
                ),
            ));
        }
        queries.push((name.clone(), query.get_ref().clone()));
    }
    Ok(queries)
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

/// Which provider runs the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackKind {
    /// Docker when a daemon answers, else local processes.
    Auto,
    /// Postgres, Redis, the reference backend and frontend as local processes.
    Local,
    /// The same stack as containers (testcontainers), with the seed's limits.
    Docker,
    /// An existing deployment (`--target`); chosen automatically when a target is given.
    External,
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
    fn secrets_written_out_in_http_are_refused_where_they_are() {
        let with =
            |table: &str| format!("name = \"h\"\n[http]\n{table}\n[[steps]]\nname = \"a\"\npath = \"/\"\n");
        let header = build(&with("headers = { \"X-Gateway-Key\" = \"s3cret\" }"))
            .unwrap_err()
            .to_string();
        assert!(
            header.contains("t.toml:3:")
                && header.contains("http.headers.X-Gateway-Key is written out")
                && header.contains("\"${X_GATEWAY_KEY}\" and export X_GATEWAY_KEY"),
            "{header}"
        );
        let basic = build(&with("basic_auth = \"gate:hunter2\""))
            .unwrap_err()
            .to_string();
        assert!(
            basic.contains("http.basic_auth's password is written out"),
            "{basic}"
        );
        let named = build(&with(
            "headers = { Authorization = \"Bearer ${TOKEN}\" }\nbasic_auth = \"gate:${GATE_PASSWORD}\"",
        ));
        assert!(named.is_ok(), "{named:?}");
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
