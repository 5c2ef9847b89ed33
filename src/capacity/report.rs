//! `capacity.json`: the search, every step and what they add up to. Its renderers are
//! in [`crate::report`]: sentences, Markdown and HTML.

use serde::{Deserialize, Serialize};

use super::{Findings, SearchSettings, StepResult};
use crate::stack::TargetInfo;

/// Bumped when a field of `capacity.json` changes meaning or goes away.
pub const CAPACITY_SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CapacityReport {
    pub schema_version: u32,
    pub run_id: String,
    pub scenario: String,
    pub started_at: String,
    pub target: TargetInfo,
    pub settings: CapacitySettings,
    /// One line: the sustainable rate and, with a target, the replicas it needs.
    pub verdict: String,
    pub steps: Vec<StepResult>,
    pub findings: Findings,
    /// The search reached the asked precision (not stopped by `--max-steps` or a signal).
    pub complete: bool,
    pub interrupted: bool,
    /// Wall time of the search so far.
    pub elapsed_s: f64,
}

/// How the search was run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CapacitySettings {
    pub search: SearchSettings,
    pub warmup_s: f64,
    pub step_s: f64,
    pub max_steps: usize,
    pub error_budget: f64,
    /// Every check a step must pass (the scenario's SLOs and the seed's).
    pub checks: Vec<String>,
    pub target_rate: Option<f64>,
    /// CPU limit of one backend instance and this machine's cores.
    pub limit_cores: f64,
    pub machine_cores: f64,
}
