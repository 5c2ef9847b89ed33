//! The coordinated-omission warning. A closed loop waits for each answer before it
//! sends the next request, so when the server stalls the load stops too: the stall
//! is counted once per user instead of once per request it delayed, and the p99 stays
//! low. Its signature is a second in which throughput collapses while the max latency
//! is far above the p99. The open model (`--rate`) does not have the blind spot.

use crate::metrics::Measurements;

/// Two adjacent seconds that together answered less than this share of twice the
/// median throughput count as a collapse: at least 0.6 s of silence, wherever a stall
/// falls across a second's boundary.
const COLLAPSE: f64 = 0.7;
/// The max latency must exceed the p99 by this factor.
const MAX_OVER_P99: f64 = 5.0;
/// Below this median (requests per second) there is too little to tell.
const MIN_MEDIAN: f64 = 5.0;

/// The warning for a closed-model run that shows the signature, else `None`.
pub fn warning(measured: &Measurements) -> Option<String> {
    if measured.schedule.is_some() {
        return None;
    }
    let per_second = throughput(measured);
    let median = crate::stats::median(&per_second)?;
    if median < MIN_MEDIAN {
        return None;
    }
    let pairs: Vec<(usize, f64)> = per_second
        .windows(2)
        .map(|pair| (pair[0] + pair[1]) / 2.0)
        .enumerate()
        .collect();
    let collapsed: Vec<&(usize, f64)> = pairs.iter().filter(|(_, n)| *n < COLLAPSE * median).collect();
    let all = measured.all_steps();
    let (p99, max) = (
        all.latency.value_at_quantile(0.99) as f64,
        all.latency.max() as f64,
    );
    if collapsed.is_empty() || max < MAX_OVER_P99 * p99.max(1.0) {
        return None;
    }
    let (at, lowest) = collapsed
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(at, n)| (at + 1, *n))
        .expect("not empty");
    Some(format!(
        "coordinated omission likely: throughput fell to {lowest:.0}/s over seconds {at}-{} \
         (median {median:.0}/s) while the max latency ({:.1} ms) is {:.0}x the p99 ({:.1} ms); \
         a closed loop stops sending while the server stalls, so the percentiles hide the \
         stall. Measure it with the open model: --rate {:.0}/s",
        at + 1,
        max / 1000.0,
        max / p99.max(1.0),
        p99 / 1000.0,
        median.max(1.0)
    ))
}

/// Requests answered in each whole second of the run, over every step; a second in
/// which nothing was answered counts as 0. The first and last seconds are partial and
/// left out.
fn throughput(measured: &Measurements) -> Vec<f64> {
    let seconds = measured.elapsed.as_secs();
    let mut counts = vec![0.0; seconds as usize];
    for step in &measured.steps {
        for interval in &step.seconds {
            if let Some(count) = counts.get_mut(interval.second as usize) {
                *count += interval.outcomes.total() as f64;
            }
        }
    }
    counts.into_iter().skip(1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Collector, RequestOutcome};
    use std::time::Duration;

    /// 10 seconds of 50 requests of 10 ms, with nothing answered in `stalled` seconds,
    /// and two requests that took `stall`.
    fn run(stalled: &[u64], stall: Duration, open: bool) -> Measurements {
        let collector = Collector::new(vec![("k".into(), "get".into())]);
        for second in 0..10 {
            if stalled.contains(&second) {
                continue;
            }
            for _ in 0..50 {
                collector.record_at(
                    second,
                    0,
                    RequestOutcome::Ok,
                    Duration::from_millis(10),
                    Duration::ZERO,
                );
            }
        }
        for _ in 0..2 {
            collector.record_at(9, 0, RequestOutcome::Ok, stall, Duration::ZERO);
        }
        let mut measured = collector.measurements();
        measured.elapsed = Duration::from_secs(10);
        if open {
            measured.schedule = Some(Default::default());
        }
        measured
    }

    #[test]
    fn a_stall_the_closed_loop_hid_is_named_with_the_rate_to_use() {
        let text = warning(&run(&[4], Duration::from_secs(1), false)).expect("warned");
        assert!(text.contains("coordinated omission"), "{text}");
        assert!(text.contains("--rate 50/s"), "{text}");
        assert!(text.contains("fell to 25/s over seconds 3-4"), "{text}");
    }

    #[test]
    fn steady_runs_and_open_model_runs_are_not_warned() {
        assert_eq!(warning(&run(&[], Duration::from_millis(12), false)), None);
        assert_eq!(
            warning(&run(&[4], Duration::from_millis(12), false)),
            None,
            "no outlier"
        );
        assert_eq!(
            warning(&run(&[4], Duration::from_secs(1), true)),
            None,
            "open model"
        );
    }
}
