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
    pub rows: Vec<Row>,
    /// Whether any row is a regression.
    pub regression: bool,
}
