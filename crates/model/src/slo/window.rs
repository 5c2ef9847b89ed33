//! Sliding-window SLOs: each windowed SLO evaluated over the window that ends at the last
//! complete second, counted window by window. The worst window is its verdict; with
//! `abort_after`, that many breached windows in a row stop the load (the live watch that
//! does it every second is the harness's `watch`).

use serde::{Deserialize, Serialize};

use super::expr::{Cmp, SloExpr};
use super::observe::observe;
use crate::metrics::Collector;

/// How one windowed SLO fared.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowResult {
    /// Window length in seconds.
    pub seconds: u64,
    /// Full windows checked.
    pub windows: u64,
    pub breached: u64,
    /// Last second of the first breached window.
    pub first_breach_s: Option<u64>,
    /// The value furthest on the wrong side of the threshold (base units).
    #[serde(skip)]
    pub worst: Option<f64>,
    #[serde(skip)]
    consecutive: u32,
}

impl WindowResult {
    /// No window checked yet, of `seconds` seconds.
    pub fn new(seconds: u64) -> Self {
        Self {
            seconds,
            ..Default::default()
        }
    }

    /// Breached windows in a row, up to the last one counted.
    pub fn consecutive(&self) -> u32 {
        self.consecutive
    }
}

/// What the watch hands over at the end.
#[derive(Clone, Debug, Default)]
pub struct WatchReport {
    /// Per SLO of the plan, in order; `None` for SLOs without a window.
    pub results: Vec<Option<WindowResult>>,
    /// Why the load was stopped early, when it was.
    pub aborted: Option<String>,
}

/// The SLO's metric over seconds `from..=to`, in base units.
pub fn window_value(
    slo: &SloExpr,
    step: Option<usize>,
    collector: &Collector,
    from: u64,
    to: u64,
) -> Option<f64> {
    let window = collector.window(step, from, to);
    observe(
        &slo.metric,
        &window.latency,
        &window.outcomes,
        (to + 1 - from) as f64,
    )
}

/// Counts one window; returns whether it breached. A window without data (no requests)
/// neither passes nor breaches.
pub fn record(slo: &SloExpr, result: &mut WindowResult, value: Option<f64>, last: u64) -> bool {
    let Some(value) = value else { return false };
    let threshold = slo.unit.to_base(slo.threshold);
    result.windows += 1;
    let breached = !slo.cmp.holds(value, threshold);
    result.worst = Some(match (result.worst, slo.cmp) {
        (None, _) => value,
        (Some(w), Cmp::Lt | Cmp::Le) => w.max(value),
        (Some(w), Cmp::Gt | Cmp::Ge) => w.min(value),
        (Some(w), Cmp::Eq) if breached => w.max(value),
        (Some(w), Cmp::Eq) => w,
    });
    if breached {
        result.breached += 1;
        result.consecutive += 1;
        result.first_breach_s.get_or_insert(last);
    } else {
        result.consecutive = 0;
    }
    breached
}

/// Why the load stopped, in words: the SLO, the breached windows in a row, the worst value.
pub fn abort_reason(slo: &SloExpr, result: &WindowResult) -> String {
    let worst = result.worst.map(|w| slo.unit.from_base(w)).unwrap_or(0.0);
    format!(
        "{} was breached in {} consecutive {}s windows (worst {worst:.2}{})",
        slo.text,
        result.consecutive,
        result.seconds,
        slo.unit.suffix()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_breaches_and_keep_the_worst() {
        let slo = SloExpr::parse("p95[5s] < 500ms").unwrap();
        let mut result = WindowResult {
            seconds: 5,
            ..Default::default()
        };
        assert!(!record(&slo, &mut result, Some(300_000.0), 4));
        assert!(record(&slo, &mut result, Some(700_000.0), 5));
        assert!(record(&slo, &mut result, Some(600_000.0), 6));
        assert!(!record(&slo, &mut result, None, 7), "no data is no verdict");
        assert_eq!((result.windows, result.breached, result.consecutive), (3, 2, 2));
        assert_eq!((result.first_breach_s, result.worst), (Some(5), Some(700_000.0)));
        assert!(!record(&slo, &mut result, Some(100_000.0), 8));
        assert_eq!(result.consecutive, 0);
        assert!(abort_reason(&slo, &result).contains("worst 700.00ms"));
    }
}
