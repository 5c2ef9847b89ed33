//! `gate calibrate`, and the gate flags `scenario` shares.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::*;

/// `karigar-perf gate ...`: what a CI gate can see.
#[derive(Debug, Subcommand)]
pub enum GateCommand {
    /// Run the same build N times into a baseline folder and print each step's noise
    /// and the smallest change a gate on that history detects.
    Calibrate(CalibrateArgs),
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// A scenario name (./scenarios/NAME.toml, or built in) or a path to a TOML file.
    pub scenario: String,
    /// Runs of the same build.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=100))]
    pub runs: u16,
    /// The baseline folder the runs go to (default: reports/baseline-SCENARIO).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Flags for every run, after `--`, e.g. `-- --duration 20s --users 10`.
    #[arg(last = true)]
    pub scenario_args: Vec<String>,
}

/// How a regression is told from noise.
#[derive(Clone, Debug, Args)]
pub struct GateArgs {
    /// Smallest slowdown that counts, as a fraction (default: 0.15 against one run's
    /// per-second medians, 0.05 against a history).
    #[arg(long)]
    pub min_effect: Option<f64>,
    /// One-sided confidence of the history's prediction interval.
    #[arg(long, default_value_t = 0.999)]
    pub confidence: f64,
    /// The figures that gate against a history (the others are shown).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "p50,p95,throughput,error-rate"
    )]
    pub gate_metrics: Vec<FigureChoice>,
    /// Smallest slowdown that counts in absolute terms, e.g. 5ms.
    #[arg(long, default_value = "5ms", value_parser = parse_duration)]
    pub min_delta: Duration,
    /// Significance level of the one-sided Mann-Whitney U test.
    #[arg(long, default_value_t = 0.001)]
    pub alpha: f64,
}

choice! {
    /// `--gate-metrics`.
    FigureChoice => crate::compare::Figure {
        P50,
        P95,
        P99,
        Throughput,
        ErrorRate,
    }
}
