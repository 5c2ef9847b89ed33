//! The comparison of a run with its baseline, as reports hold it; [`crate::compare`]
//! computes it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatePolicy {
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

impl Default for GatePolicy {
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
    pub policy: GatePolicy,
    /// Against one baseline run: its seconds against the new run's.
    pub rows: Vec<Row>,
    /// Against a history of runs: each run one figure per step and metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryGate>,
    /// Whether any row is a regression.
    pub regression: bool,
}

/// A new run against the spread of a history of runs of the same scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryGate {
    /// The history's runs, oldest first.
    pub runs: Vec<String>,
    /// One-sided confidence of the prediction interval (0.999: one false alarm in a
    /// thousand same-build runs per figure, were the noise normal).
    pub confidence: f64,
    /// Smallest relative change that counts, whatever the interval says.
    pub min_effect: f64,
    pub rows: Vec<HistoryRow>,
}

/// One step's figure over the history, and the new run's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub step: String,
    /// `p50`, `p95`, `p99` (ms), `throughput` (requests/s) or `error_rate` (fraction).
    pub metric: String,
    /// Runs of the history that had the figure, their mean and standard deviation.
    pub runs: usize,
    pub mean: f64,
    pub sd: f64,
    pub new: Option<f64>,
    /// `new / mean - 1` (for `error_rate`: `new - mean`).
    pub change: Option<f64>,
    /// Where a regression begins: the prediction interval's edge on the worse side.
    pub boundary: Option<f64>,
    /// The smallest regression this history can tell from noise: relative (for
    /// `error_rate`, absolute), `None` with fewer than two runs.
    pub detectable_change: Option<f64>,
    /// Whether this figure gates (`--gate-metrics`); others are shown only.
    pub gated: bool,
    pub verdict: RowVerdict,
}

/// A shift in one step's figure over a history of runs (`compare --history`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangePoint {
    pub step: String,
    /// `p50`, `p95`, `p99`, `throughput` or `error_rate`.
    pub metric: String,
    /// The first run of the new level: its index in time order, and its id.
    pub at: usize,
    pub run_id: String,
    /// The level before and after, and `after / before - 1`.
    pub before: f64,
    pub after: f64,
    pub change: f64,
}
