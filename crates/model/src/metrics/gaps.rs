//! Silences between successful responses: every stretch longer than 50 ms in which no
//! request succeeded, to the millisecond. A deploy's report asks for the longest one
//! while it ran; per-second series are too coarse for that.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Shorter silences are normal between requests and are not kept.
const NOTABLE_US: u64 = 50_000;
/// At most this many silences are kept (a long run that keeps failing stops adding).
const KEPT: usize = 100_000;

/// A stretch without a successful response, in seconds since the load started.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub from_s: f64,
    pub to_s: f64,
}

impl Gap {
    pub fn seconds(&self) -> f64 {
        self.to_s - self.from_s
    }
}

/// Fed by the collector with every success's time: one atomic step per success, a
/// lock only for the rare success that ends a notable silence.
#[derive(Default)]
pub(super) struct Gaps {
    /// The latest success, in µs since the start, plus one (0: none yet).
    last_us_plus_one: AtomicU64,
    gaps: Mutex<Vec<(u64, u64)>>,
}

impl Gaps {
    /// A request succeeded `at_us` after the start.
    pub(super) fn success(&self, at_us: u64) {
        let before = self.last_us_plus_one.fetch_max(at_us + 1, Ordering::Relaxed);
        let since = before.saturating_sub(1);
        if at_us >= since + NOTABLE_US {
            let mut gaps = self.gaps.lock().unwrap_or_else(|e| e.into_inner());
            if gaps.len() < KEPT {
                gaps.push((since, at_us));
            }
        }
    }

    /// Every notable silence so far, the one still open (ending at `now_us`) included.
    pub(super) fn snapshot(&self, now_us: u64) -> Silences {
        let latest = self.last_us_plus_one.load(Ordering::Relaxed).checked_sub(1);
        let mut spans = self.gaps.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // Successes on several threads may push their silences out of order.
        spans.sort_unstable();
        let mut gaps: Vec<Gap> = spans.iter().map(|&(a, b)| gap(a, b)).collect();
        let last = latest.unwrap_or(0);
        if now_us >= last + NOTABLE_US {
            gaps.push(gap(last, now_us));
        }
        Silences {
            gaps,
            last_success_s: latest.map(|us| us as f64 / 1e6),
        }
    }
}

fn gap(from_us: u64, to_us: u64) -> Gap {
    Gap {
        from_s: from_us as f64 / 1e6,
        to_s: to_us as f64 / 1e6,
    }
}

/// The silences of a run, to ask questions of.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Silences {
    pub gaps: Vec<Gap>,
    pub last_success_s: Option<f64>,
}

impl Silences {
    /// The longest stretch without a success that overlaps `from_s..to_s`, clipped to it.
    pub fn longest_within(&self, from_s: f64, to_s: f64) -> f64 {
        self.gaps
            .iter()
            .map(|g| g.to_s.min(to_s) - g.from_s.max(from_s))
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_notable_silences_are_kept_and_the_open_one_counts() {
        let gaps = Gaps::default();
        for at_ms in [10, 30, 50, 400, 420, 1_500] {
            gaps.success(at_ms * 1000);
        }
        let silences = gaps.snapshot(2_000_000);
        let spans: Vec<(f64, f64)> = silences.gaps.iter().map(|g| (g.from_s, g.to_s)).collect();
        assert_eq!(spans, vec![(0.05, 0.4), (0.42, 1.5), (1.5, 2.0)]);
        assert_eq!(silences.last_success_s, Some(1.5));
        assert!((silences.longest_within(0.0, 1.0) - 0.58).abs() < 1e-9);
        assert!((silences.longest_within(0.0, 0.3) - 0.25).abs() < 1e-9);
    }
}
