//! karigar-perf: boots the Karigar stack, drives real user flows against it with
//! Goose, measures every request with HdrHistogram, checks SLOs and writes reports.
//!
//! # Layout
//! One run flows: [`cli`] -> [`config`] (one resolution step) -> [`setup`] (run id,
//! report folder, [`stack`]) -> [`load`] (-> [`metrics::Measurements`]) with
//! [`telemetry`], [`slo`] windows, [`faults`] and the [`live`] view beside it -> [`slo`] verdicts ->
//! [`report::Summary`] -> the renderers -> an exit code ([`exit`]). With `--generators N`
//! the load runs in N [`distributed`] generators whose measurements stream back and merge
//! exactly into the one collector everything else reads.
//!
//! - [`cli`]: the command line (clap); nothing past [`config`] sees it
//! - [`config`]: flags + `KARIGAR_PERF_*` + scenario file -> one validated configuration
//! - `commands`: one module per subcommand (`scenario`, `capacity`, `compare`, `seed`,
//!   `stack`, `serve`, `worker`, `merge`, `k8s`, `gate`, `drill`, `deploy`, `import`); none
//!   imports another, nothing else imports them
//! - [`setup`]: what both runs share: run id, report folder, provisioning, seeding,
//!   `stack.json`, telemetry targets
//! - [`policy`]: every threshold the seed states, in one place
//! - [`scenario`]: TOML scenario files -> validated [`scenario::Plan`]; templates, pools,
//!   the load profile, faults and the stack a scenario needs
//! - [`seed`]: the deterministic marketplace dataset (providers, services, customers)
//! - [`stack`]: the stack under test: local processes, Docker containers or an external
//!   target, behind a guard; installs the local servers' packages when allowed
//! - [`load`]: Goose wiring, per-step execution, the open model's pacer, progress line
//! - [`metrics`]: outcome classes, the live [`metrics::Collector`] and
//!   [`metrics::Measurements`], lossless to save and exact to merge
//! - [`telemetry`]: 1 Hz samplers of backend CPU/memory, Postgres, Redis, health and
//!   in-flight, from the stack's parts, from the processes, containers and stores a user
//!   names, or from Prometheus by PromQL
//! - [`http`]: how requests reach a deployment: trusted CAs, client certificates,
//!   `--resolve`, default headers and basic auth, HTTP/2
//! - [`client`]: the HTTP clients of the load and the probes, built from [`http`]'s settings
//! - [`import`]: a recorded session (HAR, "Copy as cURL") -> a scenario file, with
//!   captures, unique emails and secrets as `[vars]` inferred
//! - [`live`]: the run while it lasts: dashboard, `/metrics` and remote write
//! - [`faults`]: kill, pause or stop a backend instance mid-run, or deploy the whole
//!   backend (rolling restart, blue-green, rollback); the error burst, detection and
//!   recovery, and what a deploy dropped
//! - [`drill`]: `drill restore` and `drill redis-kill`: a store destroyed under load,
//!   restored by the seed's procedure; RTO with its phases and RPO counted write by write
//! - [`autoscale`]: the seed's scale-out triggers, an HPA simulation over a run, and the
//!   infrastructure figures they are judged on
//! - [`slo`]: SLO expressions, their verdicts, and sliding windows
//! - [`watch`]: the windowed SLOs checked live every second (abort)
//! - [`distributed`]: the load on many generators: the split, coordinator and workers,
//!   the exact streaming merge, engines (local processes, Docker Swarm, Kubernetes objects)
//! - [`capacity`]: the stepped search for the sustainable rate, knee, USL fit, sizing
//! - [`deploy`]: a capacity report as a deployment: Kubernetes manifests, a Compose
//!   override, the Docker stack's `--profile sized:`
//! - [`compare`]: CI gates: a run against a history of runs (Student's t prediction
//!   intervals, the smallest detectable change, change points) or against one run
//!   (Mann-Whitney U over per-second percentiles)
//! - [`stats`]: median, mean and spread, Mann-Whitney U, Student's t quantiles
//! - [`report`]: report data (run summary, capacity report, comparison) and one renderer
//!   per format (console, JSON, Markdown, HTML, JUnit); the failures and warnings the
//!   figures alone would hide
//! - [`alert_rules`]: a scenario's SLOs and the seed's thresholds as Prometheus alerting
//!   rules, with `promtool test rules` cases
//! - [`server_logs`]: the stack's log lines of the requests a report names
//! - [`interrupt`]: Ctrl-C and SIGTERM handling
//! - [`exit`], [`error`]: exit codes and the errors that map to them

pub use karigar_perf_engine::{client, load, stop};
pub use karigar_perf_import::import;
pub use karigar_perf_judge::autoscale;
pub use karigar_perf_model::{
    accounts, console, cpu, error, exit, http, metrics, policy, samples, scenario, slo, stats,
};
pub use karigar_perf_stack::{faults, stack, telemetry};

pub mod alert_rules;
pub mod capacity;
pub mod cli;
mod commands;
pub mod compare;
pub mod config;
pub mod deploy;
pub mod distributed;
pub mod drill;
pub mod interrupt;
pub mod live;
pub mod report;
pub mod seed;
pub mod server_logs;
pub mod setup;
pub mod watch;

/// Runs a parsed command line and returns the process exit code.
pub async fn main(cli: cli::Cli) -> u8 {
    commands::dispatch(cli.command).await.unwrap_or_else(|error| {
        eprintln!("error: {error}");
        error.exit_code()
    })
}
