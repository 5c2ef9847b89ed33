//! The baseline comparison as a Markdown table, for summaries and `compare`.

use std::fmt::Write;

use super::comparison::{Comparison, RowVerdict};

pub fn render(comparison: &Comparison) -> String {
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
            match row.verdict {
                RowVerdict::Regression => "**regression**",
                RowVerdict::Improvement => "improvement",
                RowVerdict::Unchanged => "unchanged",
                RowVerdict::InsufficientData => "too little data",
            }
        );
    }
    out
}

fn ms(us: Option<f64>) -> String {
    us.map_or("-".into(), |us| format!("{:.1}ms", us / 1000.0))
}
