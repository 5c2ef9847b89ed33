//! The scenario file as written (TOML), before validation. Spans are kept so that
//! errors found later can still point at a line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub(super) use super::pool::RawPool;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// SLO expressions, e.g. `"p95(register) < 500ms"`.
    #[serde(default)]
    pub slos: Vec<Spanned<String>>,
    /// Stop the load when a windowed SLO is breached in this many windows in a row.
    pub abort_after: Option<u32>,
    #[serde(default)]
    pub load: Option<RawLoad>,
    /// What the stack this scenario boots must run with.
    #[serde(default)]
    pub stack: Option<RawStack>,
    /// How requests reach the deployment: TLS trust, client certificate, routing,
    /// headers of every request.
    #[serde(default)]
    pub http: Option<RawHttp>,
    /// Per-iteration variables: evaluated once at the start of each iteration.
    #[serde(default)]
    pub vars: BTreeMap<String, Spanned<String>>,
    /// Data pools by name.
    #[serde(default)]
    pub pools: BTreeMap<String, Spanned<RawPool>>,
    /// Providers to seed before the load when the harness starts the stack.
    pub seed_providers: Option<usize>,
    /// Backend replicas of the Docker stack, unless `--replicas` says otherwise.
    pub replicas: Option<u16>,
    /// Iterations per second the deployment must hold: what `capacity` sizes for.
    pub target_rps: Option<f64>,
    /// Faults injected while the load runs (Docker stack).
    #[serde(default)]
    pub faults: Vec<Spanned<RawFault>>,
    /// The steps of a scenario with one kind of user.
    #[serde(default)]
    pub steps: Vec<Spanned<RawStep>>,
    /// Kinds of users, each with its steps and a weight (instead of `steps`).
    #[serde(default)]
    pub kinds: Vec<Spanned<RawKind>>,
}

/// `[[faults]]`: at `at` into the load, `action` the backend instance `target` (e.g.
/// `backend-2`) for `duration`, then bring it back.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFault {
    pub at: String,
    pub action: String,
    pub target: String,
    pub duration: Option<String>,
    /// Deploys: `false` stops each old replica with SIGKILL while it still serves,
    /// instead of draining it and sending SIGTERM.
    pub graceful: Option<bool>,
    /// Deploys: the longest wait for the balancer to finish an old replica's requests.
    pub drain: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKind {
    pub name: String,
    /// Share of the virtual users, relative to the other kinds.
    #[serde(default = "one")]
    pub weight: usize,
    pub steps: Vec<Spanned<RawStep>>,
}

fn one() -> usize {
    1
}

/// `[load]`; each value keeps its span, so an error names its own line.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLoad {
    pub users: Option<Spanned<usize>>,
    /// Users started per second.
    pub increase_rate: Option<Spanned<f64>>,
    pub duration: Option<Spanned<String>>,
    /// Goose test plan, e.g. `"10,10s;10,1m;0,5s"`; replaces users/duration.
    pub test_plan: Option<Spanned<String>>,
    /// Open model: iterations started per second, `"50/s"` or `"10/s..200/s over 5m"`.
    pub rate: Option<Spanned<String>>,
    /// Per-request timeout.
    pub timeout: Option<Spanned<String>>,
}

/// `[stack]`: what the stack the scenario boots must run with; flags and the
/// environment still win.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStack {
    /// `local`, `docker` or `auto` (e.g. `docker` for a scenario with faults).
    pub provider: Option<Spanned<String>>,
    /// Environment of every backend instance, e.g. `RATE_LIMIT_ENABLED = "true"`.
    #[serde(default)]
    pub backend_env: BTreeMap<String, Spanned<String>>,
    /// PromQL for `--prometheus`, by figure (`db_connections = "sum(...)"`).
    #[serde(default)]
    pub prometheus: BTreeMap<String, Spanned<String>>,
}

/// `[http]`: as the flags of the same names; the flags win. Paths are relative to the
/// scenario file; values may name environment variables (`${GATEWAY_KEY}`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    pub ca_cert: Option<Spanned<String>>,
    pub insecure: Option<bool>,
    pub client_cert: Option<Spanned<String>>,
    pub client_key: Option<Spanned<String>>,
    /// `["karigar.test:443:127.0.0.1"]`.
    #[serde(default)]
    pub resolve: Vec<Spanned<String>>,
    /// `{ "X-Gateway-Key" = "${GATEWAY_KEY}" }`.
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<String>>,
    /// `"USER:PASSWORD"`, e.g. `"gate:${GATE_PASSWORD}"`.
    pub basic_auth: Option<Spanned<String>>,
    pub http2: Option<bool>,
    /// The header each request's id goes in (`x-request-id` when not given).
    pub request_id_header: Option<String>,
    /// `false`: no request id and no `traceparent` on any request.
    pub request_ids: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub name: String,
    #[serde(default = "default_method")]
    pub method: String,
    pub path: String,
    /// `backend` (default) or `frontend`.
    pub target: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body; string leaves are templates.
    pub json: Option<toml::Value>,
    /// A raw body template (mutually exclusive with `json`).
    pub body: Option<String>,
    /// Statuses that count as success; any 2xx when empty.
    #[serde(default)]
    pub expect: Vec<u16>,
    /// Response headers that must have these values (templates).
    #[serde(default)]
    pub expect_headers: BTreeMap<String, String>,
    /// Variable name -> JSON pointer into the response body, `~PATTERN` (a regular
    /// expression over the body; its first group is captured), `header:NAME` or
    /// `cookie:NAME` (a cookie the response sets).
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// Send the request this many times in a row (default 1).
    pub repeat: Option<u32>,
    /// Pause after the step, e.g. `"500ms"`.
    pub think_time: Option<String>,
}

fn default_method() -> String {
    "GET".into()
}
