//! A history of runs as trends: each run judged against the runs before it, as the
//! gate judged it (or would have), the band of the whole history, and change points.

use super::history::{calibrate, figures, judge, value, Figure, HistorySettings, RunFigures};
use crate::report::{FigureTrend, GatePolicy, RowVerdict, StepTrend, Summary, TrendRun, Trends};

/// Runs before one that a verdict needs.
const JUDGED_AFTER: usize = 2;

/// The trends of `runs` (oldest first, one scenario).
pub fn trends(runs: &[Summary], settings: &HistorySettings, policy: GatePolicy) -> Trends {
    let all: Vec<RunFigures> = runs.iter().map(figures).collect();
    let trend_runs = all
        .iter()
        .enumerate()
        .map(|(i, run)| verdict(&all[..i], run, settings, policy))
        .collect();
    let band_rows = calibrate(&all, settings);
    let steps = runs
        .last()
        .map(|last| {
            last.steps
                .iter()
                .map(|step| StepTrend {
                    step: step.name.clone(),
                    figures: Figure::ALL
                        .iter()
                        .map(|&figure| FigureTrend {
                            metric: figure.name().to_owned(),
                            values: all.iter().map(|run| value(run, &step.name, figure)).collect(),
                            band: band_rows
                                .iter()
                                .find(|row| row.step == step.name && row.metric == figure.name())
                                .and_then(|row| {
                                    let reach = (row.boundary? - row.mean).abs();
                                    Some((row.mean - reach, row.mean + reach))
                                }),
                        })
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    Trends {
        scenario: runs.last().map(|r| r.scenario.clone()).unwrap_or_default(),
        runs: trend_runs,
        steps,
        change_points: super::change_points(&all, settings),
    }
}

/// `run` against the runs `before` it.
fn verdict(
    before: &[RunFigures],
    run: &RunFigures,
    settings: &HistorySettings,
    policy: GatePolicy,
) -> TrendRun {
    let judged = before.len() >= JUDGED_AFTER;
    let regressed = match judged {
        true => judge(before, run, settings, policy)
            .history
            .map(|gate| {
                gate.rows
                    .iter()
                    .filter(|row| row.gated && row.verdict == RowVerdict::Regression)
                    .map(|row| format!("{} {}", row.step, row.metric))
                    .collect()
            })
            .unwrap_or_default(),
        false => Vec::new(),
    };
    TrendRun {
        run_id: run.run_id.clone(),
        started_at: run.started_at.clone(),
        regressed,
        judged,
    }
}
