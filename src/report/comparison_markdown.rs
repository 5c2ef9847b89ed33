//! The baseline comparison as a Markdown table, for summaries and `compare`.

use std::fmt::Write;

use super::comparison::{ChangePoint, Comparison, HistoryGate, HistoryRow, RowVerdict};
use super::summary::Summary;

pub fn render(comparison: &Comparison) -> String {
    match &comparison.history {
        Some(history) => render_history(comparison, history),
        None => render_seconds(comparison),
    }
}

/// Against a history: per step and figure, the history's level and spread, the new
/// run's value, the boundary and the smallest change this history detects.
fn render_history(comparison: &Comparison, history: &HistoryGate) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Compared with a history of {} runs: {}\n\nPer step, each run is one figure. Run `{}` regresses on a gated figure \
         beyond the history's one-sided {:.1}% prediction interval (Student's t) and by at least {:.0}%.\n",
        history.runs.len(),
        if comparison.regression { "❌ regression" } else { "✅ no regression" },
        comparison.new_run,
        history.confidence * 100.0,
        history.min_effect * 100.0
    );
    out.push_str("| step | figure | history mean | sd | new | change | boundary | detects | verdict |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---|---|\n");
    for row in &history.rows {
        let _ = writeln!(
            out,
            "| {} | {} |",
            history_cells(row).join(" | "),
            verdict_text(row.verdict)
        );
    }
    out
}

/// A history row's cells before its verdict: step, figure, history mean, sd, new,
/// change, boundary, what it detects.
pub(super) fn history_cells(row: &HistoryRow) -> [String; 8] {
    [
        row.step.clone(),
        format!("{}{}", row.metric, if row.gated { "" } else { " (shown)" }),
        figure(&row.metric, Some(row.mean)),
        figure(&row.metric, Some(row.sd)),
        figure(&row.metric, row.new),
        change(row),
        figure(&row.metric, row.boundary),
        detectable(row),
    ]
}

/// `noise`: what a history can gate on (`gate calibrate`).
pub(super) fn noise(rows: &[HistoryRow], runs: usize, confidence: f64) -> String {
    let mut out = format!(
        "## Noise over {runs} runs\n\nPer step and figure: the runs' mean and spread, and the smallest regression a gate on this \
         history detects at {:.1}% confidence.\n\n| step | figure | mean | sd | cv | detects |\n|---|---|---:|---:|---:|---|\n",
        confidence * 100.0
    );
    for row in rows {
        let cv = if row.mean != 0.0 {
            row.sd / row.mean.abs()
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.1}% | {} |",
            row.step,
            row.metric,
            figure(&row.metric, Some(row.mean)),
            figure(&row.metric, Some(row.sd)),
            cv * 100.0,
            detectable(row)
        );
    }
    out
}

/// `compare --history`: where levels shifted.
pub(super) fn change_points(runs: &[Summary], points: &[ChangePoint]) -> String {
    let mut out = format!("## Change points over {} runs\n\n", runs.len());
    if points.is_empty() {
        out.push_str("No step's level shifted beyond noise.\n");
        return out;
    }
    out.push_str(
        "| run | started | step | figure | before | after | change |\n|---|---|---|---|---:|---:|---:|\n",
    );
    for point in points {
        let started = runs.get(point.at).map_or("", |r| r.started_at.as_str());
        let _ = writeln!(
            out,
            "| `{}` | {started} | {} | {} | {} | {} | {:+.1}% |",
            point.run_id,
            point.step,
            point.metric,
            figure(&point.metric, Some(point.before)),
            figure(&point.metric, Some(point.after)),
            point.change * 100.0
        );
    }
    out
}

/// A figure in its unit.
pub(super) fn figure(metric: &str, value: Option<f64>) -> String {
    match (metric, value) {
        (_, None) => "-".into(),
        ("throughput", Some(v)) => format!("{v:.1}/s"),
        ("error_rate", Some(v)) => format!("{:.2}%", v * 100.0),
        (_, Some(v)) => format!("{v:.2}ms"),
    }
}

pub(super) fn change(row: &HistoryRow) -> String {
    match (row.metric.as_str(), row.change) {
        (_, None) => "-".into(),
        ("error_rate", Some(c)) => format!("{:+.2} pp", c * 100.0),
        (_, Some(c)) => format!("{:+.1}%", c * 100.0),
    }
}

/// "changes above 6% are caught", or why not.
pub(super) fn detectable(row: &HistoryRow) -> String {
    match (row.metric.as_str(), row.detectable_change) {
        (_, None) => "needs 2 runs or more".into(),
        ("error_rate", Some(d)) => format!("above +{:.2} pp", d * 100.0),
        (_, Some(d)) if d > TOO_NOISY => format!("above {:.0}%: too noisy to gate on", d * 100.0),
        (_, Some(d)) => format!("above {:.0}%", d * 100.0),
    }
}

/// A figure whose smallest detectable change is beyond this is too noisy to gate on.
const TOO_NOISY: f64 = 0.25;

fn verdict_text(verdict: RowVerdict) -> &'static str {
    match verdict {
        RowVerdict::Regression => "**regression**",
        RowVerdict::Improvement => "improvement",
        RowVerdict::Unchanged => "unchanged",
        RowVerdict::InsufficientData => "too little data",
    }
}

/// Against one run: its seconds against the new run's.
fn render_seconds(comparison: &Comparison) -> String {
    let mut out = String::new();
    let verdict = if comparison.regression {
        "❌ regression"
    } else {
        "✅ no regression"
    };
    let _ = writeln!(
        out,
        "## Compared with baseline `{}`: {verdict}\n\nPer step, the per-second p50 and p95 of run `{}` against the baseline's \
         (one-sided Mann-Whitney U, a regression needs p < {} and a slowdown of at least {:.0}% and {:.1} ms).\n",
        comparison.baseline_run,
        comparison.new_run,
        comparison.policy.alpha,
        comparison.policy.min_effect * 100.0,
        comparison.policy.min_delta_us / 1000.0
    );
    out.push_str("| step | per-second | baseline | new | change | p (slower) | seconds | verdict |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---|\n");
    for row in &comparison.rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {}/{} | {} |",
            row.step,
            row.metric,
            ms(row.base_us),
            ms(row.new_us),
            row.change.map_or("-".into(), |c| format!("{:+.1}%", c * 100.0)),
            row.p_slower.map_or("-".into(), |p| format!("{p:.4}")),
            row.seconds_base,
            row.seconds_new,
            verdict_text(row.verdict)
        );
    }
    out
}

fn ms(us: Option<f64>) -> String {
    us.map_or("-".into(), |us| format!("{:.1}ms", us / 1000.0))
}
