//! `karigar-perf merge DIR...`: generator outputs saved with `worker --output DIR` (or
//! runs' report folders) merged into one summary and report, for runs an engine ran
//! without a live coordinator. The merge is exact: HDR histograms add without loss.

use std::path::{Path, PathBuf};

use crate::cli::MergeArgs;
use crate::config::MergeConfig;
use crate::distributed::{GeneratorReport, Saved};
use crate::error::{Error, Result};
use crate::metrics::Measurements;
use crate::report::{self, RunFacts, RunVerdict, Summary};
use crate::stack::TargetInfo;

pub async fn run(args: &MergeArgs) -> Result<u8> {
    let MergeConfig {
        saved,
        dirs,
        plan,
        run_id,
        report_dir,
    } = MergeConfig::resolve(args)?;
    let mut merged = Measurements::empty(&plan.step_keys());
    for one in &saved {
        merged.merge(&one.measurements);
    }
    let verdicts = crate::slo::evaluate(&plan.slos, &merged, None, &[]);
    let target = TargetInfo {
        stack: "external".into(),
        backend: saved
            .iter()
            .find_map(|s| s.backend_url.clone())
            .unwrap_or_else(|| "unknown".into()),
        frontend: None,
        http: Vec::new(),
    };
    let facts = RunFacts {
        generators: generators(&saved, &dirs),
        ..RunFacts::new(run_id, crate::config::now(), target)
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
