//! `karigar-perf merge DIR...`: generator outputs saved with `worker --output DIR` (or
//! runs' report folders) merged into one summary and report, for runs an engine ran
//! without a live coordinator. The merge is exact: HDR histograms add without loss.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::MergeArgs;
use crate::distributed::GeneratorReport;
use crate::distributed::{load_saved, Saved};
use crate::error::{Error, Result};
use crate::metrics::Measurements;
use crate::report::{self, RunFacts, RunVerdict, Summary};
use crate::scenario::{LoadOverrides, Plan};
use crate::stack::TargetInfo;

pub async fn run(args: &MergeArgs) -> Result<u8> {
    let saved = args
        .dirs
        .iter()
        .map(|dir| load_saved(dir))
        .collect::<Result<Vec<_>>>()?;
    let plan = plan_of(&saved, &args.slos)?;
    let mut merged = Measurements::empty(&plan.step_keys());
    for one in &saved {
        merged.merge(&one.measurements);
    }
    let run_id = crate::setup::run_id(&format!("merge-{}", plan.name));
    let report_dir = crate::config::output_path(args.reports.report_dir.as_deref(), &run_id);
    let verdicts = crate::slo::evaluate(&plan.slos, &merged, None, &[]);
    let target = TargetInfo {
        stack: "external".into(),
        backend: saved
            .iter()
            .find_map(|s| s.backend_url.clone())
            .unwrap_or_else(|| "unknown".into()),
        frontend: None,
    };
    let facts = RunFacts {
        generators: generators(&saved, &args.dirs),
        ..RunFacts::new(run_id, crate::setup::now(), target)
    };
    let summary = Summary::build(&plan, &merged, None, verdicts, facts);
    print!("{}", report::console(&summary));
    report::write(&summary, &report_dir)?;
    std::fs::write(report_dir.join("measurements.json"), merged.to_json() + "\n")
        .and_then(|()| std::fs::write(report_dir.join("scenario.toml"), &saved[0].scenario.text))
        .map_err(|e| Error::Internal(e.into()))?;
    println!("reports: {}", report_dir.display());
    Ok(match summary.verdict {
        RunVerdict::Pass => crate::exit::PASS,
        _ => crate::exit::SLO_BREACH,
    })
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

fn generators(saved: &[Saved], dirs: &[PathBuf]) -> Vec<GeneratorReport> {
    saved
        .iter()
        .zip(dirs)
        .enumerate()
        .map(|(index, (one, dir))| {
            let measured = &one.measurements;
            let elapsed = measured.elapsed.as_secs_f64();
            GeneratorReport {
                index,
                name: name(dir),
                pid: 0,
                requests: measured.all_steps().outcomes.total(),
                cpu_s: measured.generator_cpu_s,
                cpu_cores: if elapsed > 0.0 {
                    measured.generator_cpu_s / elapsed
                } else {
                    0.0
                },
                max_lateness_ms: measured.schedule.map(|s| s.max_lateness_us as f64 / 1000.0),
                clock_offset_ms: 0.0,
                complete: true,
                missing_seconds: Vec::new(),
            }
        })
        .collect()
}

fn name(dir: &Path) -> String {
    dir.file_name()
        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned())
}
