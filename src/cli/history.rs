//! `history report`: a gate's history as trends.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::*;

/// `karigar-perf history ...`: what a gate's history shows over time.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Draw a history of runs (a gate's baseline folder): per step p50, p95, p99,
    /// throughput and error rate run by run, the band the next run is judged against,
    /// each run's verdict against the runs before it, and the change points; as
    /// trends.html and, for a pull request comment, trends.md (also printed).
    #[command(after_help = "Exit codes: 0 written, 1 internal error, 2 no runs in DIR or a bad flag")]
    Report(HistoryReportArgs),
}

#[derive(Debug, Args)]
pub struct HistoryReportArgs {
    /// The history: a folder of runs (report folders or summary.json files).
    pub dir: PathBuf,
    /// The HTML page (default: reports/trends-SCENARIO.html); trends.md goes beside it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub gate: GateArgs,
}
