//! A metric's value over a set of requests: what both the whole-run check and the
//! live sliding windows read.

use hdrhistogram::Histogram;

use super::expr::Metric;
use crate::metrics::OutcomeCounts;

/// The metric's value in its base unit (µs, fraction, per second, count).
pub(super) fn observe(
    metric: &Metric,
    latency: &Histogram<u64>,
    outcomes: &OutcomeCounts,
    seconds: f64,
) -> Option<f64> {
    let total = outcomes.total();
    match metric {
        Metric::Percentile(q) if !latency.is_empty() => Some(latency.value_at_quantile(*q) as f64),
        Metric::Mean if !latency.is_empty() => Some(latency.mean()),
        Metric::Max if !latency.is_empty() => Some(latency.max() as f64),
        Metric::Percentile(_) | Metric::Mean | Metric::Max => None,
        Metric::ErrorRate => (total > 0).then(|| outcomes.errors() as f64 / total as f64),
        Metric::Rps => (seconds > 0.0).then(|| total as f64 / seconds),
        Metric::Requests => Some(total as f64),
        Metric::Errors => Some(outcomes.errors() as f64),
        Metric::RateLimited => Some(outcomes.rate_limited as f64),
        Metric::Telemetry(..) => None,
    }
}
