//! `import`: a scenario file from a recorded session.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A scenario from a HAR file (a browser's DevTools "Save all as HAR", or a recording
    /// proxy): one step per page and API call, captures where an answer's value is sent
    /// again, emails unique per iteration, passwords and secrets as [vars].
    Har(ImportArgs),
    /// A scenario from "Copy as cURL" commands (a file, or - for stdin): one step per
    /// command; with no answers recorded, no captures and no think times.
    Curl(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The recording (for `curl`, - reads standard input).
    pub file: PathBuf,
    /// Write the scenario here (e.g. scenarios/NAME.toml) instead of standard output.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Replace --out if it exists.
    #[arg(long)]
    pub force: bool,
    /// The scenario's name; default: the --out file's name, else the recording's.
    #[arg(long)]
    pub name: Option<String>,
    /// No think times from the recorded pauses.
    #[arg(long)]
    pub no_think: bool,
    /// The frontend's origin (http://host:port), when not the first page's.
    #[arg(long, value_name = "URL")]
    pub frontend_origin: Option<String>,
    /// The backend's origin, when not the first API call's.
    #[arg(long, value_name = "URL")]
    pub backend_origin: Option<String>,
}
