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
pub mod commands;
pub mod compare;
pub mod error;
pub mod exit;
pub mod faults;
pub mod interrupt;
pub mod load;
pub mod metrics;
pub mod report;
pub mod run;
pub mod scenario;
pub mod seed;
pub mod slo;
pub mod stack;
pub mod telemetry;

use cli::{Cli, Command};

/// Runs a parsed command line and returns the process exit code.
pub async fn main(cli: Cli) -> u8 {
    let result = match cli.command {
        Command::Scenario(args) => match std::env::current_exe() {
            Ok(exe) => run::scenario(*args, exe).await.map(run::Outcome::exit_code),
            Err(e) => Err(error::Error::Internal(e.into())),
        },
        Command::Capacity(args) => match std::env::current_exe() {
            Ok(exe) => capacity::run(*args, exe).await,
            Err(e) => Err(error::Error::Internal(e.into())),
        },
        Command::Compare(args) => commands::compare_files(&args),
        Command::Seed(args) => commands::seed_database(&args).await,
        Command::Stack(cli::StackCommand::Down { orphans }) => commands::stack_down(orphans).await,
        Command::Backend => serve_backend().await,
        Command::Frontend => serve_frontend().await,
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error}");
        error.exit_code()
    })
}

/// The hidden `backend` subcommand: the reference backend, configured from the env.
async fn serve_backend() -> error::Result<u8> {
    let settings = karigar_backend::Settings::from_env()
        .map_err(|e| error::Error::config(format!("backend configuration: {e}")))?;
    karigar_backend::run(settings)
        .await
        .map_err(|e| error::Error::Internal(e.context("reference backend")))?;
    Ok(exit::PASS)
}

/// The hidden `frontend` subcommand: the reference frontend, configured from the env.
async fn serve_frontend() -> error::Result<u8> {
    let settings = karigar_frontend::Settings::from_env()
        .map_err(|e| error::Error::config(format!("frontend configuration: {e}")))?;
    karigar_frontend::run(settings)
        .await
        .map_err(|e| error::Error::Internal(anyhow::Error::new(e).context("reference frontend")))?;
    Ok(exit::PASS)
}
