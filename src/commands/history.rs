//! `karigar-perf history report DIR`: the trends of a history of runs, as a page and as
//! Markdown (written beside it and printed, for a pull request comment).

use crate::cli::HistoryReportArgs;
use crate::error::Context as _;
use crate::error::Result;
use crate::report;

pub fn report(args: &HistoryReportArgs) -> Result<u8> {
    let runs = report::load_runs(std::slice::from_ref(&args.dir))?;
    let settings = crate::config::history_settings(&args.gate)?;
    let policy = crate::config::gate_policy(&args.gate)?;
    let trends = crate::compare::trends(&runs, &settings, policy);
    let html_path =
        crate::config::output_path(args.out.as_deref(), &format!("trends-{}.html", trends.scenario));
    let markdown_path = html_path.with_extension("md");
    let markdown = report::trends_markdown(&trends, &runs);
    if let Some(dir) = html_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).config_context(|| format!("cannot create {}", dir.display()))?;
    }
    for (path, text) in [
        (&html_path, report::trends_html(&trends)),
        (&markdown_path, markdown.clone()),
    ] {
        std::fs::write(path, text).config_context(|| format!("cannot write {}", path.display()))?;
    }
    print!("{markdown}");
    eprintln!("trends: {} and {}", html_path.display(), markdown_path.display());
    Ok(crate::exit::PASS)
}
