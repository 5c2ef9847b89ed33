//! Report data and its renderers. The data: the run's [`Summary`], the
//! [`CapacityReport`] and the baseline [`Comparison`], plain serde values. The
//! renderers, one per format: the console table (`console`), `summary.md`
//! (`markdown`), `report.html` (`html`, with inline `svg` charts), `junit.xml`
//! (`junit`); `capacity.md` (`capacity_markdown`) and `capacity.html` (`capacity_html`)
//! with the sentences they share (`capacity_text`); the comparison as Markdown
//! (`comparison_markdown`); a drill's `drill.md` and `drill.html` (`drill_markdown`,
//! `drill_html`).

mod capacity_html;
mod capacity_markdown;
mod capacity_text;
mod comparison;
mod comparison_markdown;
mod console;
mod drill_html;
mod drill_markdown;
mod exemplars;
mod html;
mod infra_text;
mod junit;
mod markdown;
mod omission;
mod requests_html;
mod summary;
mod svg;
mod trends;
mod trends_html;
mod trends_markdown;

use std::path::Path;

use anyhow::Context;

use crate::capacity::CapacityReport;

pub use capacity_text::{capacity_console, step_line};
pub use comparison::{ChangePoint, Comparison, GatePolicy, HistoryGate, HistoryRow, Row, RowVerdict};
pub use summary::{Latency, LoadInfo, RunFacts, RunVerdict, StepSummary, Summary, SCHEMA_VERSION};
pub use trends::{FigureTrend, StepTrend, TrendRun, Trends};

/// The console's table of a run.
pub fn console(summary: &Summary) -> String {
    console::render(summary)
}

/// `summary.md` of a run.
pub fn markdown(summary: &Summary) -> String {
    markdown::render(summary)
}

/// `report.html` of a run.
pub fn html(summary: &Summary) -> String {
    html::render(summary)
}

/// `trends.html` of a history of runs.
pub fn trends_html(trends: &Trends) -> String {
    trends_html::render(trends)
}

/// `trends.md` of a history of runs, `runs` being its summaries.
pub fn trends_markdown(trends: &Trends, runs: &[Summary]) -> String {
    trends_markdown::render(trends, runs)
}

/// A comparison as Markdown, as `compare` prints it.
pub fn comparison_markdown(comparison: &Comparison) -> String {
    comparison_markdown::render(comparison)
}

/// What a history of `runs` can gate on, per step and figure, as Markdown.
pub fn noise_table(rows: &[HistoryRow], runs: usize, confidence: f64) -> String {
    comparison_markdown::noise(rows, runs, confidence)
}

/// Where the levels of a history of runs shifted, as Markdown.
pub fn change_points_markdown(runs: &[Summary], points: &[ChangePoint]) -> String {
    comparison_markdown::change_points(runs, points)
}

/// `junit.xml` of a run.
pub fn junit(summary: &Summary) -> String {
    junit::render(summary)
}

/// Reads a `summary.json` written by an earlier run (a baseline).
pub fn load(path: &Path) -> Result<Summary, crate::error::Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::error::Error::config(format!("{}: cannot read: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        crate::error::Error::config(format!("{}: not a karigar-perf summary: {e}", path.display()))
    })
}

/// The runs in `paths`, oldest first: each a `summary.json`, a run's report folder
/// (with its `summary.json`), or a folder of such files and folders.
pub fn load_runs(paths: &[std::path::PathBuf]) -> Result<Vec<Summary>, crate::error::Error> {
    let mut runs = Vec::new();
    for path in paths {
        collect_runs(path, &mut runs)?;
    }
    if runs.is_empty() {
        return Err(crate::error::Error::config(format!(
            "no run summaries in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    Ok(runs)
}

fn collect_runs(path: &Path, runs: &mut Vec<Summary>) -> Result<(), crate::error::Error> {
    if !path.is_dir() {
        runs.push(load(path)?);
        return Ok(());
    }
    if path.join("summary.json").is_file() {
        runs.push(load(&path.join("summary.json"))?);
        return Ok(());
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| crate::error::Error::config(format!("{}: cannot read: {e}", path.display())))?;
    let mut paths: Vec<std::path::PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for entry in paths {
        if entry.join("summary.json").is_file() {
            runs.push(load(&entry.join("summary.json"))?);
        } else if entry.extension().is_some_and(|e| e == "json") {
            runs.push(load(&entry)?);
        }
    }
    Ok(())
}

/// Writes `summary.json`, `summary.md`, `report.html` and `junit.xml` into `dir`
/// (created if needed).
pub fn write(summary: &Summary, dir: &Path) -> crate::error::Result<()> {
    write_files(
        dir,
        [
            ("summary.json", json(summary)?),
            ("summary.md", markdown::render(summary)),
            ("report.html", html::render(summary)),
            ("junit.xml", junit::render(summary)),
        ],
    )
}

/// The console's view of a drill report.
pub fn drill_console(report: &crate::drill::DrillReport) -> String {
    drill_markdown::render(report)
}

/// Writes `drill.json`, `drill.md` and `drill.html` into `dir`.
pub fn write_drill(report: &crate::drill::DrillReport, dir: &Path) -> crate::error::Result<()> {
    write_files(
        dir,
        [
            ("drill.json", json(report)?),
            ("drill.md", drill_markdown::render(report)),
            ("drill.html", drill_html::render(report)),
        ],
    )
}

/// What a capacity search comes to as a deployment, as `capacity.md` and `capacity.html`
/// show it: computed by [`crate::deploy`] (none when the search cannot be sized), only
/// rendered here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeploymentTable {
    /// Each setting, its value and the measurement (or seed figure) it comes from.
    pub rows: Vec<[String; 3]>,
    /// How the database's connection budget was decided.
    pub db_budget: String,
    /// The Compose command line that runs the sized stack.
    pub compose: String,
}

/// Writes `capacity.json`, `capacity.md` and `capacity.html` into `dir`.
pub fn write_capacity(
    report: &CapacityReport,
    deployment: Option<&DeploymentTable>,
    dir: &Path,
) -> crate::error::Result<()> {
    write_files(
        dir,
        [
            ("capacity.json", json(report)?),
            ("capacity.md", capacity_markdown::render(report, deployment)),
            ("capacity.html", capacity_html::render(report, deployment)),
        ],
    )
}

fn json(value: &impl serde::Serialize) -> crate::error::Result<String> {
    serde_json::to_string_pretty(value)
        .map(|text| text + "\n")
        .map_err(|e| crate::error::Error::Internal(e.into()))
}

fn write_files<const N: usize>(dir: &Path, files: [(&str, String); N]) -> crate::error::Result<()> {
    let written = (|| -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    })();
    written.map_err(crate::error::Error::Internal)
}
