//! Regression gates: is a new run slower than a baseline beyond noise?
//!
//! Against a history of runs (`history`): each run one figure per step and metric, a
//! Student's t prediction interval over them, and the smallest change it detects; over
//! a history alone, where levels shifted (`changes`).
//!
//! Against one run: per step, the per-second p50 and p95 latencies of the two runs are compared with a
//! one-sided Mann-Whitney U test. A step regresses when the new run is slower with
//! `p < alpha` *and* its median per-second value grew by at least `min_effect` *and*
//! by at least `min_delta_us`: significance alone would flag tiny shifts on a quiet
//! machine, a relative threshold alone would flag a fast step (a few ms, queued behind
//! CPU-bound ones on a small machine) whose latency swings by half between runs.

mod changes;
mod history;
mod trends;

pub use changes::change_points;
pub use history::{calibrate, figures, judge, Figure, HistorySettings, RunFigures};
pub use trends::trends;

use crate::metrics::{Measurements, SecondStats};
use crate::report::{Comparison, GatePolicy, Row, RowVerdict, StepSummary, Summary};
use crate::stats::{mann_whitney_greater, median, smallest_p};

/// What a run is compared with: one run (its seconds against the new run's), or a
/// history of runs (each one figure per step and metric).
pub enum Baseline {
    One(Box<Summary>),
    History(Vec<Summary>),
}

impl Baseline {
    /// The runs in `paths` (files or folders); all must be of `scenario` when given.
    pub fn load(paths: &[std::path::PathBuf], scenario: Option<&str>) -> crate::error::Result<Self> {
        let mut runs = crate::report::load_runs(paths)?;
        if let Some(name) = scenario {
            if let Some(other) = runs.iter().find(|r| r.scenario != name) {
                return Err(crate::error::Error::config(format!(
                    "the baseline holds run {} of scenario {:?}, not {name:?}",
                    other.run_id, other.scenario
                )));
            }
        }
        Ok(match runs.len() {
            1 => Baseline::One(Box::new(runs.remove(0))),
            _ => Baseline::History(runs),
        })
    }

    /// The new run, just measured, against this baseline.
    pub fn compare(
        &self,
        run_id: &str,
        measured: &Measurements,
        policy: GatePolicy,
        settings: &HistorySettings,
    ) -> Comparison {
        match self {
            Baseline::One(base) => compare(
                &GateInput::of_summary(base),
                &GateInput::of_measurements(run_id, measured),
                policy,
            ),
            Baseline::History(runs) => {
                let seconds = measured.elapsed.as_secs_f64();
                let steps: Vec<StepSummary> = measured
                    .steps
                    .iter()
                    .map(|s| StepSummary::of(s, seconds))
                    .collect();
                let history: Vec<RunFigures> = runs.iter().map(figures).collect();
                judge(
                    &history,
                    &history::figures_of(run_id, "", &steps),
                    settings,
                    policy,
                )
            }
        }
    }

    /// A run read back from its summary against this baseline.
    pub fn compare_summary(
        &self,
        new: &Summary,
        policy: GatePolicy,
        settings: &HistorySettings,
    ) -> Comparison {
        match self {
            Baseline::One(base) => compare(&GateInput::of_summary(base), &GateInput::of_summary(new), policy),
            Baseline::History(runs) => {
                let history: Vec<RunFigures> = runs.iter().map(figures).collect();
                judge(&history, &figures(new), settings, policy)
            }
        }
    }
}

/// One run as the gate sees it: each step's per-second figures.
pub struct GateInput {
    pub run_id: String,
    pub steps: Vec<(String, Vec<SecondStats>)>,
}

impl GateInput {
    /// A run read back from its `summary.json`.
    pub fn of_summary(summary: &Summary) -> Self {
        Self {
            run_id: summary.run_id.clone(),
            steps: summary
                .steps
                .iter()
                .map(|s| (s.name.clone(), s.series.clone()))
                .collect(),
        }
    }

    /// A run just measured.
    pub fn of_measurements(run_id: &str, measurements: &Measurements) -> Self {
        Self {
            run_id: run_id.to_owned(),
            steps: measurements
                .steps
                .iter()
                .map(|s| (s.name.clone(), s.series()))
                .collect(),
        }
    }
}

pub fn compare(base: &GateInput, new: &GateInput, policy: GatePolicy) -> Comparison {
    let series = |run: &'_ GateInput, name: &str| -> Option<Vec<SecondStats>> {
        run.steps.iter().find(|(n, _)| n == name).map(|(_, s)| s.clone())
    };
    let mut rows = Vec::new();
    for (name, steps) in &new.steps {
        let base_step = series(base, name);
        for metric in ["p50", "p95"] {
            rows.push(row(name, metric, base_step.as_deref(), Some(steps), &policy));
        }
    }
    for (name, steps) in base
        .steps
        .iter()
        .filter(|(b, _)| !new.steps.iter().any(|(n, _)| n == b))
    {
        rows.push(row(name, "p50", Some(steps), None, &policy));
    }
    Comparison {
        baseline_run: base.run_id.clone(),
        new_run: new.run_id.clone(),
        policy,
        regression: rows.iter().any(|r| r.verdict == RowVerdict::Regression),
        rows,
        history: None,
    }
}

fn row(
    name: &str,
    metric: &str,
    base: Option<&[SecondStats]>,
    new: Option<&[SecondStats]>,
    policy: &GatePolicy,
) -> Row {
    let base_values = base.map(|s| per_second(s, metric)).unwrap_or_default();
    let new_values = new.map(|s| per_second(s, metric)).unwrap_or_default();
    let (base_us, new_us) = (median(&base_values), median(&new_values));
    let change = match (base_us, new_us) {
        (Some(b), Some(n)) if b > 0.0 => Some(n / b - 1.0),
        _ => None,
    };
    // Too few seconds for the test ever to reach alpha is too few for a verdict: a
    // gate that cannot fail would pass every regression.
    let (n_base, n_new) = (base_values.len(), new_values.len());
    let enough = n_base >= policy.min_seconds
        && n_new >= policy.min_seconds
        && smallest_p(n_new, n_base) < policy.alpha;
    let p_slower = mann_whitney_greater(&new_values, &base_values);
    let p_faster = mann_whitney_greater(&base_values, &new_values);
    let delta = new_us.zip(base_us).map_or(0.0, |(n, b)| n - b);
    let large = |c: f64| c.abs() >= policy.min_effect && delta.abs() >= policy.min_delta_us;
    let verdict = match (enough, change, p_slower, p_faster) {
        (false, ..) | (_, None, ..) => RowVerdict::InsufficientData,
        (true, Some(c), Some(p), _) if p < policy.alpha && c > 0.0 && large(c) => RowVerdict::Regression,
        (true, Some(c), _, Some(p)) if p < policy.alpha && c < 0.0 && large(c) => RowVerdict::Improvement,
        _ => RowVerdict::Unchanged,
    };
    Row {
        step: name.to_owned(),
        metric: metric.to_owned(),
        base_us,
        new_us,
        change,
        p_slower,
        seconds_base: base_values.len(),
        seconds_new: new_values.len(),
        verdict,
    }
}

/// The step's per-second percentile, without the first and last seconds (partial:
/// ramp-up and shutdown).
fn per_second(series: &[SecondStats], metric: &str) -> Vec<f64> {
    if series.len() <= 2 {
        return Vec::new();
    }
    series[1..series.len() - 1]
        .iter()
        .map(|s| if metric == "p50" { s.p50_us } else { s.p95_us } as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, latencies_ms: &[u64]) -> GateInput {
        GateInput::of_summary(&summary(id, latencies_ms))
    }

    fn summary(run: &str, latencies_ms: &[u64]) -> Summary {
        let series = latencies_ms
            .iter()
            .enumerate()
            .map(|(i, ms)| SecondStats {
                second: i as u64,
                requests: 10,
                errors: 0,
                p50_us: ms * 1000,
                p95_us: ms * 1200,
                p99_us: ms * 1300,
                max_us: ms * 1400,
            })
            .collect();
        let mut summary: Summary = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "run_id": run, "scenario": "s", "scenario_file": "s.toml",
            "verdict": "pass", "interrupted": false, "started_at": "", "duration_s": 20.0,
            "target": {"stack": "local", "backend": "", "frontend": null},
            "load": {"model": "closed", "users": 1, "increase_rate": 0.0, "duration_s": 20.0, "test_plan": null},
            "totals": step_json("all"), "steps": [step_json("register")], "slos": [],
            "infrastructure": null, "telemetry": null
        }))
        .unwrap();
        summary.steps[0].series = series;
        summary
    }

    fn step_json(name: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "count": 1, "errors": 0, "skipped": 0, "error_rate": 0.0, "rps": 1.0,
            "outcomes": crate::metrics::OutcomeCounts::default(), "latency_us": crate::report::Latency::default()})
    }

    /// 22 seconds wobbling by up to ±8% around `ms`.
    fn noisy(ms: f64) -> Vec<u64> {
        (0..22)
            .map(|i| (ms * (1.0 + 0.08 * ((i * 7 % 11) as f64 / 5.0 - 1.0))) as u64)
            .collect()
    }

    #[test]
    fn noise_alone_is_not_a_regression() {
        let c = compare(
            &run("a", &noisy(300.0)),
            &run("b", &noisy(310.0)),
            GatePolicy::default(),
        );
        assert!(!c.regression, "{:?}", c.rows);
        assert!(c.rows.iter().all(|r| r.verdict == RowVerdict::Unchanged));
    }

    #[test]
    fn a_30_percent_slowdown_is() {
        let c = compare(
            &run("a", &noisy(300.0)),
            &run("b", &noisy(390.0)),
            GatePolicy::default(),
        );
        assert!(c.regression);
        assert_eq!(c.rows[0].verdict, RowVerdict::Regression);
        assert!((c.rows[0].change.unwrap() - 0.3).abs() < 0.05, "{:?}", c.rows[0]);
        let back = compare(
            &run("b", &noisy(390.0)),
            &run("a", &noisy(300.0)),
            GatePolicy::default(),
        );
        assert_eq!(back.rows[0].verdict, RowVerdict::Improvement);
    }

    #[test]
    fn seconds_too_few_for_the_test_to_reach_alpha_are_insufficient_data() {
        // The first and last seconds are left out: 9 recorded are 7 full, 10 are 8.
        let verdict = |seconds: usize| {
            let base = run("a", &noisy(300.0)[..seconds]);
            let twice_as_slow = run("b", &vec![600; seconds]);
            compare(&base, &twice_as_slow, GatePolicy::default()).rows[0].verdict
        };
        assert_eq!(verdict(9), RowVerdict::InsufficientData);
        assert_eq!(verdict(10), RowVerdict::Regression);
    }

    #[test]
    fn a_small_but_consistent_shift_is_below_the_effect_floor() {
        let c = compare(
            &run("a", &[300; 22]),
            &run("b", &[330; 22]),
            GatePolicy::default(),
        );
        assert_eq!(c.rows[0].verdict, RowVerdict::Unchanged, "10% < the 15% floor");
    }

    #[test]
    fn a_large_relative_change_of_a_fast_step_is_below_the_absolute_floor() {
        let c = compare(
            &run("a", &noisy(8.0)),
            &run("b", &noisy(12.0)),
            GatePolicy::default(),
        );
        assert_eq!(
            c.rows[0].verdict,
            RowVerdict::Unchanged,
            "+4 ms < the 5 ms floor: {:?}",
            c.rows[0]
        );
    }

    #[test]
    fn short_runs_get_no_verdict() {
        let c = compare(&run("a", &[300; 4]), &run("b", &[900; 4]), GatePolicy::default());
        assert_eq!(c.rows[0].verdict, RowVerdict::InsufficientData);
        assert!(!c.regression);
    }
}
