//! `trends.md`: a history of runs for a pull request comment: each run's verdict, each
//! step's figures run by run with the band, and the change points as `compare
//! --history` prints them.

use std::fmt::Write;

use super::comparison_markdown::{change_points, figure};
use super::summary::Summary;
use super::trends::Trends;

/// `runs` are the summaries the trends were made of (for the change points' times).
pub fn render(trends: &Trends, runs: &[Summary]) -> String {
    let mut out = format!(
        "# {}: trends over {} runs\n\n",
        trends.scenario,
        trends.runs.len()
    );
    out.push_str("| # | run | started | against the runs before it |\n|---:|---|---|---|\n");
    for (i, run) in trends.runs.iter().enumerate() {
        let verdict = match (run.judged, run.flagged()) {
            (false, _) => "too few runs before it".to_owned(),
            (true, false) => "✅ held".to_owned(),
            (true, true) => format!("❌ regressed: {}", run.regressed.join(", ")),
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {verdict} |",
            i + 1,
            run.run_id,
            run.started_at
        );
    }
    for step in &trends.steps {
        let _ = writeln!(out, "\n## {}\n", step.step);
        let names: Vec<&str> = step.figures.iter().map(|f| f.metric.as_str()).collect();
        let _ = writeln!(out, "| # | {} |", names.join(" | "));
        let _ = writeln!(out, "|---:|{}", "---:|".repeat(names.len()));
        for i in 0..trends.runs.len() {
            let cells: Vec<String> = step
                .figures
                .iter()
                .map(|f| figure(&f.metric, f.values.get(i).copied().flatten()))
                .collect();
            let _ = writeln!(out, "| {} | {} |", i + 1, cells.join(" | "));
        }
        let bands: Vec<String> = step
            .figures
            .iter()
            .map(|f| match f.band {
                Some((low, high)) => format!(
                    "{} to {}",
                    figure(&f.metric, Some(low.max(0.0))),
                    figure(&f.metric, Some(high))
                ),
                None => "-".into(),
            })
            .collect();
        let _ = writeln!(out, "| band | {} |", bands.join(" | "));
    }
    out.push('\n');
    out.push_str(&change_points(runs, &trends.change_points));
    out
}
