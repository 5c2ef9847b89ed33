//! `karigar-perf gate calibrate SCENARIO --runs N`: the same build run N times into a
//! baseline folder, then each step's noise and the smallest change a gate on that
//! history detects, so a team knows what its gate can see before trusting it.

use std::path::Path;
use std::process::Command;

use crate::cli::CalibrateArgs;
use crate::compare::{calibrate as noise, figures};
use crate::config::CalibrateConfig;
use crate::console::status;
use crate::error::Context as _;
use crate::error::{Error, Result};

pub fn calibrate(args: &CalibrateArgs, exe: &Path) -> Result<u8> {
    let config = CalibrateConfig::resolve(args)?;
    let (out, settings) = (&config.out, &config.history);
    std::fs::create_dir_all(out).config_context(|| format!("cannot create {}", out.display()))?;
    for run in 1..=config.runs {
        let dir = out.join(format!("run-{}", crate::config::run_id(&config.name)));
        status(&format!(
            "calibration run {run} of {} into {}",
            config.runs,
            dir.display()
        ));
        let code = scenario_run(exe, &config, &dir)?;
        match code {
            0 | 3 => {}
            _ => {
                return Err(Error::stack(format!(
                    "calibration run {run} exited {code}: see {}",
                    dir.display()
                )))
            }
        }
    }
    let runs = crate::report::load_runs(std::slice::from_ref(out))?;
    let history: Vec<_> = runs.iter().map(figures).collect();
    print!(
        "{}",
        crate::report::noise_table(&noise(&history, settings), runs.len(), settings.confidence)
    );
    println!(
        "baseline: {} ({} runs); gate with --baseline {}",
        out.display(),
        runs.len(),
        out.display()
    );
    Ok(crate::exit::PASS)
}

/// One run of the scenario as a user would start it, into `dir` (its results table in
/// `dir/console.txt`).
fn scenario_run(exe: &Path, config: &CalibrateConfig, dir: &Path) -> Result<i32> {
    std::fs::create_dir_all(dir).config_context(|| format!("cannot create {}", dir.display()))?;
    let console = std::fs::File::create(dir.join("console.txt")).map_err(|e| Error::Internal(e.into()))?;
    let status = Command::new(exe)
        .arg("scenario")
        .arg(&config.scenario)
        .args(&config.scenario_args)
        .arg("--quiet")
        .arg("--report-dir")
        .arg(dir)
        .stdout(console)
        .status()
        .map_err(|e| Error::Internal(e.into()))?;
    Ok(status.code().unwrap_or(crate::exit::INTERRUPTED.into()))
}
