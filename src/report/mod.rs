//! One [`Summary`], several renderers: the console table, `summary.json` and
//! `summary.md` in the run's report folder.

pub mod console;
pub mod infra_text;
pub mod infrastructure;
pub mod markdown;
pub mod summary;

use std::path::Path;

use anyhow::Context;

pub use summary::{RunInfo, RunVerdict, Summary, TargetInfo};

/// Writes `summary.json` and `summary.md` into `dir` (created if needed).
pub fn write(summary: &Summary, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let json = serde_json::to_string_pretty(summary)?;
    let path = dir.join("summary.json");
    std::fs::write(&path, json + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    let path = dir.join("summary.md");
    std::fs::write(&path, markdown::render(summary))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
