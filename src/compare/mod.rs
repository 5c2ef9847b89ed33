//! Regression gates: is a new run slower than a baseline beyond noise?
//!
//! Per step, the per-second p50 and p95 latencies of the two runs are compared with a
//! one-sided Mann-Whitney U test. A step regresses when the new run is slower with
//! `p < alpha` *and* its median per-second value grew by at least `min_effect` *and*
//! by at least `min_delta_us`: significance alone would flag tiny shifts on a quiet
//! machine, a relative threshold alone would flag a fast step (a few ms, queued behind
//! CPU-bound ones on a small machine) whose latency swings by half between runs.

pub mod stats;

use serde::{Deserialize, Serialize};

use crate::report::summary::{StepSummary, Summary};
pub use stats::{mann_whitney_greater, median};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Significance level of the one-sided test.
    pub alpha: f64,
    /// Smallest relative slowdown that counts (0.15 = 15%).
    pub min_effect: f64,
    /// Smallest absolute slowdown that counts, in microseconds.
    #[serde(default)]
    pub min_delta_us: f64,
    /// Fewest full seconds a side needs for a verdict.
    pub min_seconds: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            alpha: 0.001,
            min_effect: 0.15,
            min_delta_us: 5_000.0,
            min_seconds: 5,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowVerdict {
    Regression,
    Improvement,
    Unchanged,
    InsufficientData,
}

/// One step and percentile, compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub step: String,
    /// `p50` or `p95` (of each second).
    pub metric: String,
    /// Median over seconds, in microseconds.
    pub base_us: Option<f64>,
    pub new_us: Option<f64>,
    /// `new / base - 1`.
    pub change: Option<f64>,
    /// One-sided p value for "new is slower".
    pub p_slower: Option<f64>,
    pub seconds_base: usize,
    pub seconds_new: usize,
    pub verdict: RowVerdict,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub baseline_run: String,
    pub new_run: String,
    pub policy: Policy,
    pub rows: Vec<Row>,
    /// Whether any row is a regression.
    pub regression: bool,
}

pub fn compare(base: &Summary, new: &Summary, policy: Policy) -> Comparison {
    let mut rows = Vec::new();
    for step in &new.steps {
        let base_step = base.steps.iter().find(|s| s.name == step.name);
        for metric in ["p50", "p95"] {
            rows.push(row(&step.name, metric, base_step, Some(step), &policy));
        }
    }
    for step in base
        .steps
        .iter()
        .filter(|b| !new.steps.iter().any(|n| n.name == b.name))
    {
        rows.push(row(&step.name, "p50", Some(step), None, &policy));
    }
    Comparison {
        baseline_run: base.run_id.clone(),
        new_run: new.run_id.clone(),
        policy,
        regression: rows.iter().any(|r| r.verdict == RowVerdict::Regression),
        rows,
    }
}

fn row(
    name: &str,
    metric: &str,
    base: Option<&StepSummary>,
    new: Option<&StepSummary>,
    policy: &Policy,
) -> Row {
    let base_values = base.map(|s| per_second(s, metric)).unwrap_or_default();
    let new_values = new.map(|s| per_second(s, metric)).unwrap_or_default();
    let (base_us, new_us) = (median(&base_values), median(&new_values));
    let change = match (base_us, new_us) {
        (Some(b), Some(n)) if b > 0.0 => Some(n / b - 1.0),
        _ => None,
    };
    let enough = base_values.len() >= policy.min_seconds && new_values.len() >= policy.min_seconds;
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
fn per_second(step: &StepSummary, metric: &str) -> Vec<f64> {
    let series = &step.series;
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
    use crate::metrics::SecondStats;

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
            "outcomes": crate::metrics::OutcomeCounts::default(), "latency_us": crate::report::summary::Latency::default()})
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
            &summary("a", &noisy(300.0)),
            &summary("b", &noisy(310.0)),
            Policy::default(),
        );
        assert!(!c.regression, "{:?}", c.rows);
        assert!(c.rows.iter().all(|r| r.verdict == RowVerdict::Unchanged));
    }

    #[test]
    fn a_30_percent_slowdown_is() {
        let c = compare(
            &summary("a", &noisy(300.0)),
            &summary("b", &noisy(390.0)),
            Policy::default(),
        );
        assert!(c.regression);
        assert_eq!(c.rows[0].verdict, RowVerdict::Regression);
        assert!((c.rows[0].change.unwrap() - 0.3).abs() < 0.05, "{:?}", c.rows[0]);
        let back = compare(
            &summary("b", &noisy(390.0)),
            &summary("a", &noisy(300.0)),
            Policy::default(),
        );
        assert_eq!(back.rows[0].verdict, RowVerdict::Improvement);
    }

    #[test]
    fn a_small_but_consistent_shift_is_below_the_effect_floor() {
        let c = compare(
            &summary("a", &[300; 22]),
            &summary("b", &[330; 22]),
            Policy::default(),
        );
        assert_eq!(c.rows[0].verdict, RowVerdict::Unchanged, "10% < the 15% floor");
    }

    #[test]
    fn a_large_relative_change_of_a_fast_step_is_below_the_absolute_floor() {
        let c = compare(
            &summary("a", &noisy(8.0)),
            &summary("b", &noisy(12.0)),
            Policy::default(),
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
        let c = compare(
            &summary("a", &[300; 4]),
            &summary("b", &[900; 4]),
            Policy::default(),
        );
        assert_eq!(c.rows[0].verdict, RowVerdict::InsufficientData);
        assert!(!c.regression);
    }
}
