//! `merge DIR...`: the saved generator outputs and the one plan they ran together.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::MergeArgs;
use crate::distributed::{load_saved, Saved};
use crate::error::{Error, Result};
use crate::scenario::{LoadOverrides, Plan};

/// What `merge` merges, checked: one run's folders, its plan and the report folder.
pub struct MergeConfig {
    /// Each folder's output, in the order given.
    pub saved: Vec<Saved>,
    pub dirs: Vec<PathBuf>,
    pub plan: Plan,
    pub run_id: String,
    pub report_dir: PathBuf,
}

impl MergeConfig {
    pub fn resolve(args: &MergeArgs) -> Result<Self> {
        let saved = args
            .dirs
            .iter()
            .map(|dir| load_saved(dir))
            .collect::<Result<Vec<_>>>()?;
        let plan = plan_of(&saved, &args.slos)?;
        let run_id = super::run_id(&format!("merge-{}", plan.name));
        let report_dir = super::output_path(args.reports.report_dir.as_deref(), &run_id);
        Ok(Self {
            saved,
            dirs: args.dirs.clone(),
            plan,
            run_id,
            report_dir,
        })
    }
}

/// The scenario of the first folder, with the load the generators ran together.
fn plan_of(saved: &[Saved], slos: &[String]) -> Result<Plan> {
    let first = saved
        .first()
        .ok_or_else(|| Error::config("merge needs at least one folder"))?;
    if saved.iter().any(|s| s.scenario.text != first.scenario.text) {
        return Err(Error::config(
            "these folders ran different scenarios: merge only one run's generators",
        ));
    }
    let overrides = match &first.load {
        Some(load) => LoadOverrides {
            duration: Some(Duration::from_millis(load.duration_ms.max(1000))),
            rate: load.rate.clone(),
            arrivals: load.arrivals,
            users: Some(total_users(saved)),
            ..Default::default()
        },
        None => LoadOverrides::default(),
    };
    Plan::build(&first.scenario, &overrides, slos)
}

/// The virtual users of every generator together.
fn total_users(saved: &[Saved]) -> usize {
    let users: usize = saved
        .iter()
        .filter_map(|s| s.segment.as_ref())
        .map(|segment| match &segment.kind_users {
            Some(kinds) => kinds.iter().sum(),
            None => segment.workers.unwrap_or(1),
        })
        .sum();
    users.max(1)
}
