//! The gate flags (`scenario --baseline`, `compare`, `gate calibrate`), checked.

use std::path::{Path, PathBuf};

use crate::cli::{CalibrateArgs, GateArgs};
use crate::compare::HistorySettings;
use crate::error::{Error, Result};
use crate::report::GatePolicy;

/// The gate flags for one baseline run, checked.
pub fn gate_policy(args: &GateArgs) -> Result<GatePolicy> {
    let defaults = GatePolicy::default();
    let min_effect = args.min_effect.unwrap_or(defaults.min_effect);
    let alpha_ok = args.alpha > 0.0 && args.alpha < 1.0;
    let effect_ok = min_effect >= 0.0 && min_effect.is_finite();
    if !alpha_ok || !effect_ok {
        return Err(Error::config(
            "--alpha must be between 0 and 1 and --min-effect a fraction of 0 or more",
        ));
    }
    Ok(GatePolicy {
        alpha: args.alpha,
        min_effect,
        min_delta_us: args.min_delta.as_secs_f64() * 1e6,
        ..defaults
    })
}

/// The gate flags for a history of runs, checked.
pub fn history_settings(args: &GateArgs) -> Result<HistorySettings> {
    let defaults = HistorySettings::default();
    let min_effect = args.min_effect.unwrap_or(defaults.min_effect);
    if !(args.confidence > 0.5 && args.confidence < 1.0) {
        return Err(Error::config(
            "--confidence must be above 0.5 and below 1, e.g. 0.999",
        ));
    }
    if !(min_effect >= 0.0 && min_effect.is_finite()) {
        return Err(Error::config("--min-effect must be a fraction of 0 or more"));
    }
    Ok(HistorySettings {
        confidence: args.confidence,
        min_effect,
        gated: args.gate_metrics.iter().map(|&f| f.into()).collect(),
    })
}

/// `gate calibrate`: the scenario run as a user would start it, how often, and where the
/// history goes.
pub struct CalibrateConfig {
    pub scenario: String,
    /// Passed to every `scenario` run as given.
    pub scenario_args: Vec<String>,
    pub runs: u16,
    /// The scenario's file stem: it names the history and its runs.
    pub name: String,
    pub out: PathBuf,
    pub history: HistorySettings,
}

impl CalibrateConfig {
    pub fn resolve(args: &CalibrateArgs) -> Result<Self> {
        let name = Path::new(&args.scenario)
            .file_stem()
            .map_or(args.scenario.clone(), |s| s.to_string_lossy().into_owned());
        Ok(Self {
            scenario: args.scenario.clone(),
            scenario_args: args.scenario_args.clone(),
            runs: args.runs,
            out: super::output_path(args.out.as_deref(), &format!("baseline-{name}")),
            name,
            history: history_settings(&args.gate)?,
        })
    }
}
