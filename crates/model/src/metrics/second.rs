//! A second of one step as it is filled, and the shards requests fill them in: each
//! thread records into its own shard, and a closed second is the shards' parts merged.

use std::sync::atomic::{AtomicUsize, Ordering};

use hdrhistogram::Histogram;

use super::measurements::{add, new_histogram, Interval, StepMeasurements};
use super::outcome::{OutcomeCounts, RequestOutcome};

/// One thread's part of the seconds being filled.
pub(super) struct Shard {
    /// Per step, the second this shard is filling.
    pub(super) steps: Vec<SecondRecorder>,
    /// Seconds this shard has moved past, per step, for the next closing to merge.
    pub(super) closed: Vec<(usize, SecondRecorder)>,
}

/// A second of one step: its latencies, service times and outcomes.
#[derive(Clone)]
pub(super) struct SecondRecorder {
    pub(super) second: u64,
    pub(super) latency: Histogram<u64>,
    pub(super) service: Histogram<u64>,
    pub(super) outcomes: OutcomeCounts,
}

/// Closed seconds a shard holds at most before a request closes seconds itself: a
/// collector nobody closes seconds of stays bounded.
pub(super) const MAX_CLOSED_PER_SHARD: usize = 64;

/// This thread's shard, of `count`: threads take them in turn.
pub(super) fn shard_index(count: usize) -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    MINE.with(|mine| mine % count)
}

impl SecondRecorder {
    pub(super) fn new(second: u64) -> Self {
        Self {
            second,
            latency: new_histogram(),
            service: new_histogram(),
            outcomes: OutcomeCounts::default(),
        }
    }

    pub(super) fn record(&mut self, outcome: RequestOutcome, micros: u64, service: u64) {
        self.outcomes.add(outcome);
        if outcome.has_latency() {
            record(&mut self.latency, micros);
            record(&mut self.service, service);
        }
    }

    /// Adds `other`, a part of the same second.
    pub(super) fn merge(&mut self, other: &SecondRecorder) {
        add(&mut self.latency, &other.latency);
        add(&mut self.service, &other.service);
        self.outcomes.merge(&other.outcomes);
    }

    /// Adds this second to a step's whole-run figures (its outcomes, latency and service
    /// time; not its series, which takes the encoded interval).
    pub(super) fn add_to(&self, step: &mut StepMeasurements) {
        step.outcomes.merge(&self.outcomes);
        add(&mut step.latency, &self.latency);
        add(&mut step.service, &self.service);
    }

    /// The second as an interval, or `None` if nothing happened in it.
    pub(super) fn interval(&self) -> Option<Interval> {
        (self.outcomes.total() > 0).then(|| Interval::new(self.second, self.outcomes, &self.latency))
    }
}

/// Parts of seconds, per step, merged into one per step and second, in order.
pub(super) fn merge_seconds(parts: &mut Vec<(usize, SecondRecorder)>) -> Vec<(usize, SecondRecorder)> {
    parts.sort_by_key(|(step, second)| (second.second, *step));
    let mut merged: Vec<(usize, SecondRecorder)> = Vec::with_capacity(parts.len());
    for (step, part) in parts.drain(..) {
        match merged.last_mut() {
            Some((last_step, last)) if *last_step == step && last.second == part.second => last.merge(&part),
            _ => merged.push((step, part)),
        }
    }
    merged
}

/// Records `micros`, growing the histogram as needed (`saturating_record` would clamp
/// instead of growing); clamps only past what a histogram can hold at all.
fn record(histogram: &mut Histogram<u64>, micros: u64) {
    if histogram.record(micros).is_err() {
        histogram.saturating_record(micros);
    }
}
