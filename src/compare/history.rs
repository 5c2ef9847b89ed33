//! A baseline that is a history: each earlier run reduced to one figure per step and
//! metric (p50, p95, p99, throughput, error rate), so that a run's seconds, which are
//! correlated, never count as independent samples. A new run regresses on a figure when
//! it lies beyond the history's one-sided Student's t prediction interval *and* by at
//! least `min_effect`; the interval's half-width, relative to the mean, is the smallest
//! regression this history can detect.

use serde::{Deserialize, Serialize};

use crate::report::{Comparison, GatePolicy, HistoryGate, HistoryRow, RowVerdict, StepSummary, Summary};
use crate::stats::{mean_and_sd, t_quantile};

/// The figures a run is reduced to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    P50,
    P95,
    P99,
    Throughput,
    ErrorRate,
}

impl Figure {
    pub const ALL: [Figure; 5] = [
        Figure::P50,
        Figure::P95,
        Figure::P99,
        Figure::Throughput,
        Figure::ErrorRate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Figure::P50 => "p50",
            Figure::P95 => "p95",
            Figure::P99 => "p99",
            Figure::Throughput => "throughput",
            Figure::ErrorRate => "error_rate",
        }
    }

    /// The step's figure: ms for latencies, requests per second, a fraction; `None`
    /// where the step sent nothing.
    fn of(self, step: &StepSummary) -> Option<f64> {
        let ms = |us: u64| us as f64 / 1000.0;
        (step.count > 0).then(|| match self {
            Figure::P50 => ms(step.latency_us.p50),
            Figure::P95 => ms(step.latency_us.p95),
            Figure::P99 => ms(step.latency_us.p99),
            Figure::Throughput => step.rps,
            Figure::ErrorRate => step.error_rate,
        })
    }

    /// Lower throughput is worse; for every other figure, higher.
    fn higher_is_worse(self) -> bool {
        self != Figure::Throughput
    }
}

/// Error rates near zero have no relative change: this much more, absolute, counts.
const ERROR_RATE_FLOOR: f64 = 0.001;

/// One run as the history gate sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFigures {
    pub run_id: String,
    pub started_at: String,
    /// Per step: each figure it has.
    pub steps: Vec<(String, Vec<(Figure, f64)>)>,
}

/// A summary reduced to its figures.
pub fn figures(summary: &Summary) -> RunFigures {
    figures_of(&summary.run_id, &summary.started_at, &summary.steps)
}

/// Steps reduced to their figures.
pub fn figures_of(run_id: &str, started_at: &str, steps: &[StepSummary]) -> RunFigures {
    RunFigures {
        run_id: run_id.to_owned(),
        started_at: started_at.to_owned(),
        steps: steps
            .iter()
            .map(|step| {
                let values = Figure::ALL
                    .iter()
                    .filter_map(|&f| Some((f, f.of(step)?)))
                    .collect();
                (step.name.clone(), values)
            })
            .collect(),
    }
}

/// The noise of every step's figures over `history`: each figure's spread and the
/// smallest change a gate on this history detects (no new run).
pub fn calibrate(history: &[RunFigures], settings: &HistorySettings) -> Vec<HistoryRow> {
    let Some(last) = history.last() else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for (step, _) in &last.steps {
        for &figure in &Figure::ALL {
            let past: Vec<f64> = history
                .iter()
                .filter_map(|run| value(run, step, figure))
                .collect();
            if !past.is_empty() {
                rows.push(row(step, figure, &past, None, settings));
            }
        }
    }
    rows
}

/// How the history gate decides.
#[derive(Clone, Debug, PartialEq)]
pub struct HistorySettings {
    pub confidence: f64,
    pub min_effect: f64,
    /// The figures that gate; the others are shown.
    pub gated: Vec<Figure>,
}

impl Default for HistorySettings {
    fn default() -> Self {
        Self {
            confidence: 0.999,
            min_effect: 0.05,
            gated: vec![Figure::P50, Figure::P95, Figure::Throughput, Figure::ErrorRate],
        }
    }
}

/// `new` against `history` (oldest first), figure by figure.
pub fn judge(
    history: &[RunFigures],
    new: &RunFigures,
    settings: &HistorySettings,
    policy: GatePolicy,
) -> Comparison {
    let mut rows = Vec::new();
    for (step, values) in &new.steps {
        for &figure in &Figure::ALL {
            let new_value = values.iter().find(|(f, _)| *f == figure).map(|(_, v)| *v);
            let past: Vec<f64> = history
                .iter()
                .filter_map(|run| value(run, step, figure))
                .collect();
            if new_value.is_none() && past.is_empty() {
                continue;
            }
            rows.push(row(step, figure, &past, new_value, settings));
        }
    }
    Comparison {
        baseline_run: format!("{} runs", history.len()),
        new_run: new.run_id.clone(),
        policy,
        regression: rows
            .iter()
            .any(|r| r.gated && r.verdict == RowVerdict::Regression),
        rows: Vec::new(),
        history: Some(HistoryGate {
            runs: history.iter().map(|r| r.run_id.clone()).collect(),
            confidence: settings.confidence,
            min_effect: settings.min_effect,
            rows,
        }),
    }
}

/// `run`'s `figure` of `step`, if it has one.
pub(super) fn value(run: &RunFigures, step: &str, figure: Figure) -> Option<f64> {
    let (_, values) = run.steps.iter().find(|(name, _)| name == step)?;
    values.iter().find(|(f, _)| *f == figure).map(|(_, v)| *v)
}

/// One figure: the interval, the smallest detectable change, the verdict.
fn row(step: &str, figure: Figure, past: &[f64], new: Option<f64>, settings: &HistorySettings) -> HistoryRow {
    let spread = mean_and_sd(past);
    let (mean, sd) = spread.unwrap_or((past.first().copied().unwrap_or(0.0), 0.0));
    let half_width = spread.map(|(_, sd)| {
        let n = past.len() as f64;
        t_quantile(settings.confidence, n - 1.0) * sd * (1.0 + 1.0 / n).sqrt()
    });
    let absolute = figure == Figure::ErrorRate;
    let floor = if absolute {
        ERROR_RATE_FLOOR
    } else {
        settings.min_effect * mean.abs()
    };
    let reach = half_width.map(|w| w.max(floor));
    let sign = if figure.higher_is_worse() { 1.0 } else { -1.0 };
    let boundary = reach.map(|r| mean + sign * r);
    let change = new.map(|n| {
        if absolute {
            n - mean
        } else if mean != 0.0 {
            n / mean - 1.0
        } else {
            0.0
        }
    });
    let verdict = match (new, reach) {
        (Some(n), Some(r)) if sign * (n - mean) > r => RowVerdict::Regression,
        (Some(n), Some(r)) if sign * (mean - n) > r => RowVerdict::Improvement,
        (Some(_), Some(_)) => RowVerdict::Unchanged,
        _ => RowVerdict::InsufficientData,
    };
    HistoryRow {
        step: step.to_owned(),
        metric: figure.name().to_owned(),
        runs: past.len(),
        mean,
        sd,
        new,
        change,
        boundary,
        detectable_change: reach.map(|r| {
            if absolute || mean == 0.0 {
                r
            } else {
                r / mean.abs()
            }
        }),
        gated: settings.gated.contains(&figure),
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten closed-model users: throughput follows latency.
    fn run(id: &str, p50: f64) -> RunFigures {
        let throughput = 1000.0 / p50;
        RunFigures {
            run_id: id.into(),
            started_at: String::new(),
            steps: vec![(
                "get".into(),
                vec![
                    (Figure::P50, p50),
                    (Figure::Throughput, throughput),
                    (Figure::ErrorRate, 0.0),
                ],
            )],
        }
    }

    fn history() -> Vec<RunFigures> {
        [10.0, 10.1, 9.9, 10.05, 9.95]
            .iter()
            .enumerate()
            .map(|(i, &p50)| run(&format!("r{i}"), p50))
            .collect()
    }

    fn verdicts(new: &RunFigures) -> Vec<(String, RowVerdict)> {
        let comparison = judge(
            &history(),
            new,
            &HistorySettings::default(),
            GatePolicy::default(),
        );
        comparison
            .history
            .unwrap()
            .rows
            .into_iter()
            .map(|r| (r.metric, r.verdict))
            .collect()
    }

    #[test]
    fn a_run_within_the_spread_is_unchanged_and_ten_percent_beyond_it_is_not() {
        assert!(verdicts(&run("same", 10.08))
            .iter()
            .all(|(_, v)| *v == RowVerdict::Unchanged));
        let slower = verdicts(&run("slow", 11.0));
        assert_eq!(
            slower,
            [
                ("p50".to_owned(), RowVerdict::Regression),
                ("throughput".to_owned(), RowVerdict::Regression),
                ("error_rate".to_owned(), RowVerdict::Unchanged)
            ]
        );
        assert_eq!(verdicts(&run("fast", 9.0))[0].1, RowVerdict::Improvement);
    }

    #[test]
    fn the_detectable_change_is_the_intervals_reach_or_the_minimum_effect() {
        let comparison = judge(
            &history(),
            &run("x", 10.0),
            &HistorySettings::default(),
            GatePolicy::default(),
        );
        let p50 = &comparison.history.unwrap().rows[0];
        // sd 0.079 ms over 5 runs: t(0.999, 4) 7.17 x 0.079 x sqrt(1.2) = 0.62 ms, 6.2%.
        let detectable = p50.detectable_change.unwrap();
        assert!((0.060..0.064).contains(&detectable), "{detectable}");
        let noisy: Vec<RunFigures> = [10.0, 14.0, 8.0, 12.0, 9.0]
            .iter()
            .map(|&v| run("n", v))
            .collect();
        let comparison = judge(
            &noisy,
            &run("x", 12.5),
            &HistorySettings::default(),
            GatePolicy::default(),
        );
        let p50 = &comparison.history.unwrap().rows[0];
        assert!(
            p50.detectable_change.unwrap() > 1.0,
            "too noisy to gate on: {p50:?}"
        );
        assert_eq!(p50.verdict, RowVerdict::Unchanged);
    }

    /// The p50 row of `new` against a history of p50s.
    fn p50_row(past: &[f64], new: f64) -> HistoryRow {
        let history: Vec<RunFigures> = past.iter().map(|&v| run("h", v)).collect();
        let comparison = judge(
            &history,
            &run("new", new),
            &HistorySettings::default(),
            GatePolicy::default(),
        );
        comparison.history.unwrap().rows.remove(0)
    }

    #[test]
    fn the_boundary_is_the_prediction_interval_to_the_digit() {
        // Mean 10, sd sqrt(0.08 / 4) = 0.141421; t(0.999, 4) = 7.173:
        // 7.173 x 0.141421 x sqrt(1 + 1/5) = 1.1113 ms above the mean.
        let past = [10.0, 10.0, 10.2, 9.8, 10.0];
        let row = p50_row(&past, 11.2);
        assert!(
            (row.mean - 10.0).abs() < 1e-9 && (row.sd - 0.141_421).abs() < 1e-6,
            "{row:?}"
        );
        let boundary = row.boundary.unwrap();
        assert!((boundary - 11.1113).abs() < 5e-4, "{boundary}");
        assert!(
            (row.detectable_change.unwrap() - 0.111_13).abs() < 5e-5,
            "{row:?}"
        );
        assert_eq!(row.verdict, RowVerdict::Regression);
        assert!((row.change.unwrap() - 0.12).abs() < 1e-9, "{row:?}");
        assert_eq!(p50_row(&past, 11.1).verdict, RowVerdict::Unchanged);
        assert_eq!(p50_row(&past, 8.8).verdict, RowVerdict::Improvement);
    }

    #[test]
    fn a_history_without_spread_gates_at_the_minimum_effect() {
        // sd 0: the boundary is the 5 % minimum effect, 10.5 ms exactly.
        let past = [10.0, 10.0, 10.0];
        let row = p50_row(&past, 10.49);
        assert_eq!(row.boundary, Some(10.5));
        assert_eq!(row.detectable_change, Some(0.05));
        assert_eq!(row.verdict, RowVerdict::Unchanged);
        assert_eq!(p50_row(&past, 10.51).verdict, RowVerdict::Regression);
        // Throughput is worse when lower: 100/s, the boundary 95/s.
        let comparison = judge(
            &past.iter().map(|&v| run("h", v)).collect::<Vec<_>>(),
            &run("new", 10.6),
            &HistorySettings::default(),
            GatePolicy::default(),
        );
        let rows = comparison.history.unwrap().rows;
        let throughput = rows.iter().find(|r| r.metric == "throughput").unwrap();
        assert!(
            (throughput.boundary.unwrap() - 95.0).abs() < 1e-9,
            "{throughput:?}"
        );
        assert_eq!(throughput.verdict, RowVerdict::Regression, "1000 / 10.6 = 94.3/s");
        // The error rate's floor is absolute: 0.1 percentage points.
        let errors = rows.iter().find(|r| r.metric == "error_rate").unwrap();
        assert_eq!(errors.boundary, Some(0.001));
        assert!(comparison.regression);
    }

    #[test]
    fn one_run_is_not_a_history() {
        let comparison = judge(
            &history()[..1],
            &run("x", 20.0),
            &HistorySettings::default(),
            GatePolicy::default(),
        );
        let rows = comparison.history.unwrap().rows;
        assert!(rows
            .iter()
            .all(|r| r.verdict == RowVerdict::InsufficientData && r.detectable_change.is_none()));
        assert!(!comparison.regression);
    }
}
