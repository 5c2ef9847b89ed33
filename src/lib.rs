//! karigar-perf: boots the Karigar stack, drives real user flows against it with
//! Goose, measures every request with HdrHistogram, checks SLOs and writes reports.
//!
//! # Layout
//! - [`cli`]: the command line (clap)
//! - [`run`]: one scenario run, phase by phase (resolve, provision, load, evaluate, report)
//! - [`capacity`]: the highest sustainable rate (stepped search), knee, USL fit, sizing
//! - [`commands`]: the other subcommands (`seed`, `compare`, `stack down`)
//! - [`scenario`]: TOML scenario files -> validated [`scenario::Plan`]; templates
//! - [`seed`]: the deterministic marketplace dataset (providers, services, customers)
//! - [`stack`]: the stack under test: local processes, Docker containers or an external
//!   target, behind a guard
//! - [`load`]: Goose wiring, per-step execution, the open model's pacer, progress line
//! - [`metrics`]: outcome classes and per-step HDR histograms with a per-second series
//! - [`telemetry`]: 1 Hz samplers of backend CPU/memory, Postgres, Redis, health and in-flight
//! - [`faults`]: kill, pause or stop a backend instance mid-run; the error burst and recovery
//! - [`autoscale`]: the seed's scale-out triggers and an HPA simulation over a run
//! - [`slo`]: SLO expressions, their verdicts, and live sliding-window checks (abort)
//! - [`compare`]: baseline comparison (Mann-Whitney U over per-second percentiles) for CI gates
//! - [`report`]: the summary model and its renderers (console, JSON, Markdown, HTML, JUnit)
//! - [`interrupt`]: Ctrl-C and SIGTERM handling
//! - [`exit`], [`error`]: exit codes and the errors that map to them

pub mod autoscale;
pub mod capacity;
pub mod cli;
mod commands;
pub mod compare;
pub mod config;
pub mod error;
pub mod exit;
pub mod faults;
pub mod interrupt;
pub mod load;
pub mod metrics;
pub mod policy;
pub mod report;
pub mod scenario;
pub mod seed;
pub mod setup;
pub mod slo;
pub mod stack;
pub mod stats;
pub mod telemetry;

/// Runs a parsed command line and returns the process exit code.
pub async fn main(cli: cli::Cli) -> u8 {
    commands::dispatch(cli.command).await.unwrap_or_else(|error| {
        eprintln!("error: {error}");
        error.exit_code()
    })
}
