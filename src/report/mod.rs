//! One [`Summary`], several renderers: the console table, and in the run's report
//! folder `summary.json`, `summary.md`, `report.html` and `junit.xml`.

pub mod comparison_md;
pub mod console;
pub mod html;
pub mod infra_text;
pub mod infrastructure;
pub mod junit;
pub mod markdown;
pub mod summary;
pub mod svg;

use std::path::Path;

use anyhow::Context;

pub use summary::{RunInfo, RunVerdict, Summary, TargetInfo};

/// Reads a `summary.json` written by an earlier run (a baseline).
pub fn load(path: &Path) -> Result<Summary, crate::error::Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::error::Error::config(format!("{}: cannot read: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        crate::error::Error::config(format!("{}: not a karigar-perf summary: {e}", path.display()))
    })
}

/// Writes `summary.json`, `summary.md`, `report.html` and `junit.xml` into `dir`
/// (created if needed).
pub fn write(summary: &Summary, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let files = [
        ("summary.json", serde_json::to_string_pretty(summary)? + "\n"),
        ("summary.md", markdown::render(summary)),
        ("report.html", html::render(summary)),
        ("junit.xml", junit::render(summary)),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
