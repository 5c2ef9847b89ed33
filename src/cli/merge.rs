//! `merge`: saved generator outputs or runs merged into one report.

use std::path::PathBuf;

use clap::Args;

use super::*;

/// `karigar-perf merge DIR...`: saved generator outputs (or runs) merged into one report.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Folders with a `measurements.json` and the `scenario.toml` it ran.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,

    /// An extra SLO, e.g. 'p95(register) < 500ms' (repeatable).
    #[arg(long = "slo", value_name = "EXPR")]
    pub slos: Vec<String>,

    #[command(flatten)]
    pub reports: ReportDir,
}
