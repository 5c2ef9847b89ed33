//! One resolution step: the command line (flags and their `KARIGAR_PERF_*` variables,
//! read by clap) and the scenario file become one validated, typed configuration before
//! anything starts. Every command resolves its settings here, one file per command
//! group; everything after this module takes these types, never clap's.

mod drill;
mod gate;
mod import;
mod k8s;
mod merge;
mod run;
mod seed;
mod slo;
mod stack;
mod worker;

use std::path::PathBuf;

use crate::error::Context as _;
use crate::error::{Error, Result};

pub use drill::{DrillConfig, RedisKillConfig, RestoreConfig};
pub use gate::{gate_policy, history_settings, CalibrateConfig};
pub use import::ImportConfig;
pub use k8s::{k8s_options, K8sGeneratorsConfig};
pub use merge::MergeConfig;
pub use run::{CapacityConfig, Gate, ScenarioConfig};
pub use seed::{seed_size, seed_target};
pub use slo::SloRulesConfig;
pub use stack::{Observe, StackConfig, StackUpConfig};
pub use worker::worker_settings;

/// Where reports go and whether progress is shown.
#[derive(Clone, Debug)]
pub struct ReportConfig {
    /// `None`: `reports/RUN-ID`.
    pub dir: Option<PathBuf>,
    pub quiet: bool,
}

/// `signup-20261125-171502-a3f9`: sortable, and unique enough for one machine.
pub fn run_id(scenario: &str) -> String {
    use rand::distributions::{Alphanumeric, DistString};
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let suffix = Alphanumeric
        .sample_string(&mut rand::thread_rng(), 4)
        .to_ascii_lowercase();
    format!("{scenario}-{stamp}-{suffix}")
}

/// The current time, RFC 3339, as reports give when a run started.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Where a command writes what it writes: the folder (or file) given, else `name` under
/// `reports/` in the working directory.
pub fn output_path(given: Option<&std::path::Path>, name: &str) -> PathBuf {
    given.map_or_else(
        || PathBuf::from("reports").join(name),
        std::path::Path::to_path_buf,
    )
}

/// The hidden `backend` command: the reference backend, configured from the environment
/// (the local stack sets it), so that the stack needs one build only.
pub fn backend_settings() -> Result<karigar_backend::Settings> {
    karigar_backend::Settings::from_env().config_context(|| "backend configuration")
}

/// The hidden `frontend` command: the reference frontend, configured like the backend.
pub fn frontend_settings() -> Result<karigar_frontend::Settings> {
    karigar_frontend::Settings::from_env().map_err(|e| Error::config(format!("frontend configuration: {e}")))
}
