//! `karigar-perf compare BASE... NEW`: prints the comparison as Markdown; exit 4 when
//! NEW is slower than the baseline (one run, or a history of runs) beyond noise. With
//! `--history DIR`: the runs in DIR in time order, and where a step's level shifted.

use crate::cli::CompareArgs;
use crate::compare::{change_points, figures, Baseline};
use crate::error::Context as _;
use crate::error::{Error, Result};
use crate::report::{self, Summary};

pub fn run(args: &CompareArgs) -> Result<u8> {
    if let Some(dir) = &args.history {
        return history(args, dir);
    }
    let (new_path, base_paths) = args
        .paths
        .split_last()
        .ok_or_else(|| Error::config("compare needs BASE... NEW, or --history DIR"))?;
    let new = report::load(new_path)?;
    let baseline = Baseline::load(base_paths, Some(&new.scenario))?;
    let policy = crate::config::gate_policy(&args.gate)?;
    let settings = crate::config::history_settings(&args.gate)?;
    let comparison = baseline.compare_summary(&new, policy, &settings);
    print!("{}", report::comparison_markdown(&comparison));
    let regression = comparison.regression;
    if let Some(path) = &args.junit {
        let judged = Summary {
            comparison: Some(comparison),
            ..new
        };
        std::fs::write(path, report::junit(&judged))
            .config_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if regression {
        crate::exit::REGRESSION
    } else {
        crate::exit::PASS
    })
}

/// The change points of the runs in `dir`, as a Markdown table.
fn history(args: &CompareArgs, dir: &std::path::Path) -> Result<u8> {
    let runs = report::load_runs(&[dir.to_path_buf()])?;
    let settings = crate::config::history_settings(&args.gate)?;
    let figures: Vec<_> = runs.iter().map(figures).collect();
    let points = change_points(&figures, &settings);
    print!("{}", report::change_points_markdown(&runs, &points));
    Ok(crate::exit::PASS)
}
