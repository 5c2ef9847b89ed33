//! The command line (clap), one file per command group as in `commands/`. Help text
//! comes from these doc comments; nothing past [`crate::config`] sees clap.

mod capacity;
mod compare;
mod deploy;
mod drill;
mod gate;
mod history;
mod import;
mod k8s;
mod merge;
pub mod reference;
mod scenario;
mod seed;
mod shared;
mod slo;
mod stack;
mod worker;

pub use capacity::*;
pub use compare::*;
pub use deploy::*;
pub use drill::*;
pub use gate::*;
pub use history::*;
pub use import::*;
pub use k8s::*;
pub use merge::*;
pub use scenario::*;
pub use seed::*;
pub use shared::*;
pub use slo::*;
pub use stack::*;
pub use worker::*;

use clap::{Parser, Subcommand};

/// The command line of this process, parsed (exits with usage help on a bad one).
pub fn parse() -> Cli {
    Cli::parse()
}

/// Load testing and SLO verification for the Karigar stack.
#[derive(Debug, Parser)]
#[command(name = "karigar-perf", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 every SLO held, 1 internal error, 2 usage or configuration error, \
3 an SLO was breached or a drill failed its verdict, 4 slower than the baseline, 5 stack failed to start or target unreachable, \
6 a load generator was lost (incomplete run), 130 interrupted (partial report written)";

const CAPACITY_EXIT_CODES: &str = "Exit codes: 0 a sustainable rate was found (and the target fits \
within HPA max), 1 internal error, 2 usage or configuration error, 3 no rate held or the target \
needs more replicas than HPA max, 5 stack failed to start or target unreachable, 130 interrupted \
(partial report written)";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Boot the stack, run a scenario, check its SLOs and write reports.
    #[command(after_help = EXIT_CODES)]
    Scenario(Box<ScenarioArgs>),
    /// Find the highest rate one backend instance holds within every SLO (open-model
    /// steps, grown then bisected), fit the knee and the Universal Scalability Law, and
    /// size a deployment for a target rate.
    #[command(after_help = CAPACITY_EXIT_CODES)]
    Capacity(Box<CapacityArgs>),
    /// Compare two runs' summary.json: exit 4 when NEW is slower than BASE beyond noise.
    #[command(after_help = EXIT_CODES)]
    Compare(CompareArgs),
    /// Load the deterministic marketplace dataset into a database.
    Seed(SeedArgs),
    /// One load generator of a run coordinated elsewhere (what an engine starts).
    #[command(
        after_help = "Exit codes: 0 the segment ran and was reported, 2 bad settings or token, \
5 the coordinator is unreachable or was lost (the load stopped)"
    )]
    Worker(WorkerArgs),
    /// What a CI gate can see: `gate calibrate` measures a scenario's noise.
    #[command(subcommand)]
    Gate(GateCommand),
    /// Merge saved generator outputs (`worker --output DIR`) or runs into one report.
    #[command(after_help = EXIT_CODES)]
    Merge(MergeArgs),
    /// Kubernetes objects for a distributed run: `k8s generators` writes them.
    #[command(subcommand)]
    K8s(K8sCommand),
    /// Manage Docker stacks: `stack down` removes what runs left behind.
    #[command(subcommand)]
    Stack(StackCommand),
    /// Turn a capacity report into the seed's deployment: `deploy k8s` writes the
    /// Kubernetes manifests, `deploy compose` the Compose override, each number sized
    /// from the measurements.
    #[command(subcommand)]
    Deploy(DeployCommand),
    /// Write a scenario from a recorded session: `import har` (a browser's HAR file),
    /// `import curl` ("Copy as cURL" commands).
    #[command(
        subcommand,
        after_help = "Exit codes: 0 the scenario was written and validates, 1 internal error, 2 a malformed recording or bad flags"
    )]
    Import(ImportCommand),
    #[command(subcommand, about = drill_about())]
    Drill(DrillCommand),
    /// The SLOs beyond the run: `slo rules` writes them as Prometheus alerting rules
    /// with their promtool tests.
    #[command(subcommand)]
    Slo(SloCommand),
    /// A gate's history over time: `history report` draws its trends.
    #[command(subcommand)]
    History(HistoryCommand),
    /// Print a shell completion script, e.g. into
    /// ~/.local/share/bash-completion/completions/karigar-perf.
    Completions {
        #[arg(value_enum)]
        shell: reference::Shell,
    },
    /// Serve the reference backend, configured from the environment (used by the
    /// local stack so that one build serves both).
    #[command(hide = true)]
    Backend,
    /// Serve the reference frontend, configured from the environment (`HOSTNAME`,
    /// `PORT`, `NEXT_PUBLIC_API_URL`).
    #[command(hide = true)]
    Frontend,
}

/// `drill`'s help, with the seed's objectives as `policy` holds them.
fn drill_about() -> String {
    let hours = |seconds: f64| seconds / 3600.0;
    format!(
        "Resilience drills under load, judged against the seed's RTO ({} h) and RPO ({} h): \
         `drill restore` destroys Postgres and restores it, `drill redis-kill` kills Redis",
        hours(crate::policy::RTO_S),
        hours(crate::policy::RPO_S)
    )
}
