//! `capacity`: the stepped search and the sizing.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::*;

#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// A scenario name (./scenarios/NAME.toml, or built in) or a path to a TOML file;
    /// one pass through its steps is one iteration.
    pub scenario: String,

    /// Iterations per second the deployment must hold: sizes replicas, DB connections
    /// and Redis memory (default: the scenario's `target_rps`).
    #[arg(long, value_name = "N", env = "KARIGAR_PERF_TARGET_RPS")]
    pub target_rps: Option<f64>,

    /// Also write the Kubernetes manifests of the sizing into DIR (as `deploy k8s`).
    #[arg(long, value_name = "DIR")]
    pub emit_k8s: Option<PathBuf>,

    #[command(flatten)]
    pub k8s: K8sManifestArgs,

    /// First rate offered, iterations per second.
    #[arg(long, value_name = "N", default_value_t = 2.0)]
    pub start_rate: f64,

    /// Highest rate offered.
    #[arg(long, value_name = "N", default_value_t = 10_000.0)]
    pub max_rate: f64,

    /// Each step that holds multiplies the rate by this, until one does not.
    #[arg(long, default_value_t = 2.0)]
    pub growth: f64,

    /// Bisection stops once the lowest failing rate is within this fraction above the
    /// highest passing one.
    #[arg(long, default_value_t = 0.1)]
    pub precision: f64,

    /// Warm-up of each step, run but not measured.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub warmup: Duration,

    /// Measured length of each step.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub step_duration: Duration,

    /// Most steps the search runs.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_steps: usize,

    /// Share of failed requests a step may have and still hold, e.g. 1%.
    #[arg(long, default_value = "1%", value_parser = parse_percent)]
    pub error_budget: f64,

    /// Most open-model workers a step starts.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_workers: usize,

    #[command(flatten)]
    pub stack: StackArgs,

    #[command(flatten)]
    pub generators: GeneratorArgs,

    #[command(flatten)]
    pub reports: ReportDir,

    #[command(flatten)]
    pub progress: Quiet,
}
