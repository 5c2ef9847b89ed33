//! `compare`: a run against a baseline.

use std::path::PathBuf;

use clap::Args;

use super::*;

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// BASE... NEW: the baseline (one run's summary.json, or folders or files of a
    /// history of runs), then the new run's summary.json.
    #[arg(required_unless_present = "history", num_args = 2..)]
    pub paths: Vec<PathBuf>,
    /// Instead: the runs in DIR in time order, and where a step's level shifted.
    #[arg(long, value_name = "DIR", conflicts_with = "paths")]
    pub history: Option<PathBuf>,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Also write a JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
}
