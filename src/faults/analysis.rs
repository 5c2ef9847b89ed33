//! What a fault did to the load: the burst of errors that followed it and the time
//! until latency was back under the SLO, read from the per-second series.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::inject::FaultEvent;
use crate::metrics::Measurements;
use crate::scenario::Action;

/// Seconds in a row without errors that end a burst, and under the threshold that
/// count as recovered.
const SETTLED_SECONDS: u64 = 3;

/// One fault and its effect.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultReport {
    pub action: Action,
    pub target: String,
    pub at_s: f64,
    pub restored_s: Option<f64>,
    pub error: Option<String>,
    /// Failed requests in the burst that followed (0: none failed).
    pub burst_errors: u64,
    /// Seconds from the burst's first failing second to its last.
    pub burst_seconds: u64,
    /// Seconds from the fault until the slowest step's per-second p95 was back under
    /// `threshold_ms` (and stayed there for 3 s); absent if it never was.
    pub recovery_s: Option<f64>,
    pub threshold_ms: f64,
}

/// Per second of the load: failed requests, requests, and the slowest step's p95.
#[derive(Clone, Copy, Debug, Default)]
struct Second {
    errors: u64,
    requests: u64,
    p95_ms: f64,
}

/// Reports every fault against the run's series, with `threshold_ms` as the SLO.
pub fn analyse(outcomes: &[FaultEvent], measured: &Measurements, threshold_ms: f64) -> Vec<FaultReport> {
    let seconds = by_second(measured);
    outcomes
        .iter()
        .map(|outcome| {
            let from = outcome.at_s.floor() as u64;
            let (burst_errors, burst) = burst(&seconds, from);
            let settled_from = burst.map_or(from, |(_, last)| last + 1);
            FaultReport {
                action: outcome.action,
                target: outcome.target.clone(),
                at_s: outcome.at_s,
                restored_s: outcome.restored_s,
                error: outcome.error.clone(),
                burst_errors,
                burst_seconds: burst.map_or(0, |(first, last)| last - first + 1),
                recovery_s: recovered_at(&seconds, settled_from, threshold_ms)
                    .map(|s| (s as f64 - outcome.at_s).max(0.0)),
                threshold_ms,
            }
        })
        .collect()
}

fn by_second(measured: &Measurements) -> BTreeMap<u64, Second> {
    let mut seconds = BTreeMap::<u64, Second>::new();
    for step in &measured.steps {
        for s in step.seconds.iter().map(|s| s.figures()) {
            let slot = seconds.entry(s.second).or_default();
            slot.errors += s.errors;
            slot.requests += s.requests;
            slot.p95_ms = slot.p95_ms.max(s.p95_us as f64 / 1000.0);
        }
    }
    seconds
}

/// Errors from the first failing second at or after `from` until 3 clean seconds in
/// a row, and that span's first and last failing seconds.
fn burst(seconds: &BTreeMap<u64, Second>, from: u64) -> (u64, Option<(u64, u64)>) {
    let Some(first) = seconds.range(from..).find(|(_, s)| s.errors > 0).map(|(k, _)| *k) else {
        return (0, None);
    };
    let (mut last, mut total) = (first, 0);
    for (&second, s) in seconds.range(first..) {
        if s.errors > 0 {
            last = second;
            total += s.errors;
        } else if second - last >= SETTLED_SECONDS {
            break;
        }
    }
    (total, Some((first, last)))
}

/// The first second at or after `from` that starts 3 seconds in a row with requests
/// and a p95 under the threshold.
fn recovered_at(seconds: &BTreeMap<u64, Second>, from: u64, threshold_ms: f64) -> Option<u64> {
    let good = |second: u64| {
        seconds
            .get(&second)
            .is_some_and(|s| s.requests > 0 && s.p95_ms < threshold_ms)
    };
    let last = *seconds.keys().next_back()?;
    (from..=last).find(|&s| (s..s + SETTLED_SECONDS).all(good))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(rows: &[(u64, u64, f64)]) -> BTreeMap<u64, Second> {
        rows.iter()
            .map(|&(second, errors, p95_ms)| {
                (
                    second,
                    Second {
                        errors,
                        requests: 10,
                        p95_ms,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_burst_ends_after_three_clean_seconds() {
        let s = series(&[
            (9, 0, 50.0),
            (10, 4, 900.0),
            (11, 0, 700.0),
            (12, 2, 600.0),
            (13, 0, 80.0),
            (14, 0, 60.0),
            (15, 0, 60.0),
            (16, 0, 60.0),
            (17, 5, 60.0),
        ]);
        assert_eq!(burst(&s, 10), (6, Some((10, 12))));
        assert_eq!(recovered_at(&s, 13, 500.0), Some(13));
        assert_eq!(burst(&s, 18), (0, None));
    }

    #[test]
    fn recovery_needs_three_good_seconds_in_a_row() {
        let s = series(&[
            (20, 0, 900.0),
            (21, 0, 100.0),
            (22, 0, 800.0),
            (23, 0, 90.0),
            (24, 0, 90.0),
            (25, 0, 90.0),
        ]);
        assert_eq!(recovered_at(&s, 20, 500.0), Some(23));
        assert_eq!(recovered_at(&s, 20, 50.0), None);
    }
}
