//! [`Measurements`]: everything one load run measured, as one value. It is what the
//! load engine returns, what a generator streams and saves, and what the summary is
//! built from. Histograms merge without loss (one configuration everywhere: µs, 3
//! significant digits, auto-resizing), so merging two equals recording both into one.

use std::ops::RangeInclusive;
use std::time::Duration;

use base64::Engine;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::codec;
use super::exemplars::Exemplars;
use super::failures::Failures;
use super::outcome::OutcomeCounts;

/// What one load run (or several merged) measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurements {
    /// When the load started, in ms since the Unix epoch: merging aligns seconds by it.
    pub started_unix_ms: u64,
    /// How long the load ran.
    #[serde(with = "codec::micros")]
    pub elapsed: Duration,
    /// Per step of the plan, in the plan's order.
    pub steps: Vec<StepMeasurements>,
    /// The open model's schedule (`--rate`); `None` under the closed model.
    pub schedule: Option<Schedule>,
    /// CPU time the generator process used while the load ran, in seconds.
    pub generator_cpu_s: f64,
}

/// One step of one kind of user.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepMeasurements {
    pub name: String,
    /// The kind of user whose step this is.
    pub kind: String,
    /// Response time: from the intended start under the open model, else the same as
    /// `service`, in µs.
    #[serde(with = "codec::histogram")]
    pub latency: Histogram<u64>,
    /// Service time: from sending the request to its last byte, in µs.
    #[serde(with = "codec::histogram")]
    pub service: Histogram<u64>,
    pub outcomes: OutcomeCounts,
    /// Iterations in which this step did not run because an earlier step failed.
    pub skipped: u64,
    /// Every second in which the step was sent, in order.
    pub seconds: Vec<Interval>,
    /// The first distinct ways its requests failed.
    #[serde(default, skip_serializing_if = "Failures::is_empty")]
    pub failures: Failures,
    /// Its slowest requests and its first failed ones, to look up in the server's logs.
    #[serde(default, skip_serializing_if = "Exemplars::is_empty")]
    pub exemplars: Exemplars,
}

/// How the open model's schedule was kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Iterations the schedule called for, and those that started.
    pub scheduled: u64,
    pub started: u64,
    /// Iterations that started more than 10 ms after their intended time.
    pub late_starts: u64,
    /// The worst delay of an iteration's start, in µs.
    pub max_lateness_us: u64,
}

/// One second of one step: its outcomes and its latency histogram. The histogram is
/// kept encoded (HDR V2 + DEFLATE, a few hundred bytes) rather than dense (tens of KB),
/// so an hour-long run holds its seconds in a few MB; its figures are kept beside it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "IntervalWire", into = "IntervalWire")]
pub struct Interval {
    pub second: u64,
    pub outcomes: OutcomeCounts,
    pub(super) encoded: Vec<u8>,
    pub(super) figures: SecondStats,
}

/// The figures of one second of one step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SecondStats {
    /// Seconds since the load started.
    pub second: u64,
    pub requests: u64,
    pub errors: u64,
    pub p50_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

const SIGNIFICANT_DIGITS: u8 = 3;

/// An empty histogram of the one configuration every measurement uses.
pub(super) fn new_histogram() -> Histogram<u64> {
    let mut histogram = Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits is valid");
    histogram.auto(true);
    histogram
}

/// Adds `from` into `into`; both share the configuration and `into` grows, so it
/// cannot fail.
pub(super) fn add(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    let _ = into.add(from);
}

impl Measurements {
    /// Nothing measured yet, for `steps` as `(kind, name)`.
    pub fn empty(steps: &[(String, String)]) -> Self {
        Self {
            started_unix_ms: unix_ms_now(),
            elapsed: Duration::ZERO,
            steps: steps
                .iter()
                .map(|(kind, name)| StepMeasurements::empty(kind, name))
                .collect(),
            schedule: None,
            generator_cpu_s: 0.0,
        }
    }

    /// Adds `other` into this: counts and histograms add, seconds are aligned by the
    /// start times (whole seconds), and the length covers both. Steps are matched by
    /// kind and name; a step only `other` has is appended.
    pub fn merge(&mut self, other: &Measurements) {
        // Nothing measured yet has no start of its own: its creation time would
        // stretch an offline merge from the runs' start to the moment of the merge.
        if self.elapsed.is_zero() && self.all_steps().outcomes.total() == 0 {
            self.started_unix_ms = other.started_unix_ms;
        }
        let start = self.started_unix_ms.min(other.started_unix_ms);
        let shift = |m: &Measurements| (m.started_unix_ms - start + 500) / 1000;
        let (mine, theirs) = (shift(self), shift(other));
        let end = (self.end_us(start)).max(other.end_us(start));
        for step in &mut self.steps {
            step.shift(mine);
        }
        for step in &other.steps {
            let mut step = step.clone();
            step.shift(theirs);
            match self
                .steps
                .iter_mut()
                .find(|s| s.kind == step.kind && s.name == step.name)
            {
                Some(into) => into.merge(&step),
                None => self.steps.push(step),
            }
        }
        self.started_unix_ms = start;
        self.elapsed = Duration::from_micros(end);
        self.schedule = match (self.schedule, other.schedule) {
            (Some(a), Some(b)) => Some(a.merged(&b)),
            (a, b) => a.or(b),
        };
        self.generator_cpu_s += other.generator_cpu_s;
    }

    /// Microseconds from `origin` (ms since the epoch) to the end of this run.
    fn end_us(&self, origin: u64) -> u64 {
        (self.started_unix_ms - origin) * 1000 + self.elapsed.as_micros() as u64
    }

    /// Only seconds `range`: each step's latency is the merge of those seconds, its
    /// service time (not kept per second) that of the whole run, its length theirs.
    pub fn seconds(&self, range: RangeInclusive<u64>) -> Measurements {
        let length = range.end() + 1 - range.start();
        Measurements {
            started_unix_ms: self.started_unix_ms + range.start() * 1000,
            elapsed: Duration::from_secs(length),
            steps: self.steps.iter().map(|s| s.seconds(&range)).collect(),
            schedule: self.schedule,
            generator_cpu_s: self.generator_cpu_s,
        }
    }

    /// Every step's whole-run figures merged into one, for run-wide figures (without
    /// per-second intervals: merging those would decode every second of every step).
    pub fn all_steps(&self) -> StepMeasurements {
        let mut all = StepMeasurements::empty("", "all");
        for step in &self.steps {
            all.add_whole_run(step);
        }
        all
    }

    /// The step named `name` (of whichever kind).
    pub fn step(&self, name: &str) -> Option<&StepMeasurements> {
        self.steps.iter().find(|s| s.name == name)
    }

    /// As JSON with each histogram in HDR V2 + DEFLATE, base64: lossless.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("measurements serialise")
    }

    /// Reads what [`to_json`](Self::to_json) wrote.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

impl StepMeasurements {
    pub fn empty(kind: &str, name: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: kind.to_owned(),
            latency: new_histogram(),
            service: new_histogram(),
            outcomes: OutcomeCounts::default(),
            skipped: 0,
            seconds: Vec::new(),
            failures: Failures::default(),
            exemplars: Exemplars::default(),
        }
    }

    /// Adds `other`'s whole-run histograms and counts, not its seconds.
    fn add_whole_run(&mut self, other: &StepMeasurements) {
        add(&mut self.latency, &other.latency);
        add(&mut self.service, &other.service);
        self.outcomes.merge(&other.outcomes);
        self.skipped += other.skipped;
        self.failures.merge(&other.failures);
        self.exemplars.merge(&other.exemplars);
    }

    /// Adds `other` (whose seconds count from the same start) into this one.
    pub fn merge(&mut self, other: &StepMeasurements) {
        self.add_whole_run(other);
        let mut merged = Vec::with_capacity(self.seconds.len().max(other.seconds.len()));
        let (mut a, mut b) = (self.seconds.drain(..).peekable(), other.seconds.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.second == y.second => {
                    let mut x = a.next().expect("peeked");
                    x.merge(b.next().expect("peeked"));
                    x
                }
                (Some(x), Some(y)) if x.second < y.second => a.next().expect("peeked"),
                (Some(_), None) => a.next().expect("peeked"),
                (_, Some(_)) => b.next().expect("peeked").clone(),
                (None, None) => break,
            };
            merged.push(next);
        }
        drop(a);
        self.seconds = merged;
    }

    /// The whole-run figures alone, without the seconds.
    pub(super) fn clone_without_seconds(&self) -> Self {
        Self {
            name: self.name.clone(),
            kind: self.kind.clone(),
            latency: self.latency.clone(),
            service: self.service.clone(),
            outcomes: self.outcomes,
            skipped: self.skipped,
            seconds: Vec::new(),
            failures: self.failures.clone(),
            exemplars: self.exemplars.clone(),
        }
    }

    /// This step's whole-run figures less `earlier` ones of the same step (what was
    /// recorded in between), with `seconds` as its seconds.
    pub(super) fn minus(&self, earlier: &StepMeasurements, seconds: Vec<Interval>) -> Self {
        let less = |now: &Histogram<u64>, then: &Histogram<u64>| {
            let mut delta = now.clone();
            // `then` recorded a subset of `now`'s values: subtracting cannot fail.
            let _ = delta.subtract(then);
            delta
        };
        Self {
            name: self.name.clone(),
            kind: self.kind.clone(),
            latency: less(&self.latency, &earlier.latency),
            service: less(&self.service, &earlier.service),
            outcomes: self.outcomes.minus(&earlier.outcomes),
            skipped: self.skipped - earlier.skipped,
            seconds,
            failures: self.failures.minus(&earlier.failures),
            // Whole, not a difference: merged into the earlier ones they give these.
            exemplars: self.exemplars.clone(),
        }
    }

    /// The figures of every second, in order.
    pub fn series(&self) -> Vec<SecondStats> {
        self.seconds.iter().map(|s| s.figures.clone()).collect()
    }

    fn shift(&mut self, by: u64) {
        if by > 0 {
            for interval in &mut self.seconds {
                interval.second += by;
                interval.figures.second += by;
            }
        }
    }

    fn seconds(&self, range: &RangeInclusive<u64>) -> StepMeasurements {
        let mut only = StepMeasurements::empty(&self.kind, &self.name);
        only.service = self.service.clone();
        only.failures = self.failures.clone();
        only.exemplars = self.exemplars.clone();
        for interval in self.seconds.iter().filter(|s| range.contains(&s.second)) {
            add(&mut only.latency, &interval.latency());
            only.outcomes.merge(&interval.outcomes);
            only.seconds.push(interval.clone());
        }
        only
    }
}

impl Schedule {
    /// Iterations called for and never started (every worker was busy until the end).
    pub fn unserved(&self) -> u64 {
        self.scheduled.saturating_sub(self.started)
    }

    /// What changed since `earlier` (the worst lateness is kept: it only grows).
    pub fn minus(&self, earlier: &Schedule) -> Schedule {
        Schedule {
            scheduled: self.scheduled - earlier.scheduled,
            started: self.started - earlier.started,
            late_starts: self.late_starts - earlier.late_starts,
            max_lateness_us: self.max_lateness_us,
        }
    }

    fn merged(&self, other: &Schedule) -> Schedule {
        Schedule {
            scheduled: self.scheduled + other.scheduled,
            started: self.started + other.started,
            late_starts: self.late_starts + other.late_starts,
            max_lateness_us: self.max_lateness_us.max(other.max_lateness_us),
        }
    }
}

impl Interval {
    /// Second `second` with these outcomes and latencies.
    pub fn new(second: u64, outcomes: OutcomeCounts, latency: &Histogram<u64>) -> Self {
        Self {
            second,
            outcomes,
            encoded: codec::encode(latency),
            figures: SecondStats::of(second, &outcomes, latency),
        }
    }

    /// The second's latency histogram, decoded.
    pub fn latency(&self) -> Histogram<u64> {
        codec::decode(&self.encoded).expect("an interval holds what it encoded")
    }

    /// Its figures: requests, errors and latency percentiles.
    pub fn figures(&self) -> &SecondStats {
        &self.figures
    }

    fn merge(&mut self, other: &Interval) {
        let mut latency = self.latency();
        add(&mut latency, &other.latency());
        self.outcomes.merge(&other.outcomes);
        *self = Interval::new(self.second, self.outcomes, &latency);
    }
}

impl SecondStats {
    fn of(second: u64, outcomes: &OutcomeCounts, latency: &Histogram<u64>) -> Self {
        Self {
            second,
            requests: outcomes.total(),
            errors: outcomes.errors(),
            p50_us: latency.value_at_quantile(0.50),
            p95_us: latency.value_at_quantile(0.95),
            p99_us: latency.value_at_quantile(0.99),
            max_us: latency.max(),
        }
    }
}

/// Whether two histograms hold the same counts at the same values, whatever range
/// each has grown to (`Histogram`'s own `==` also compares their sizes).
pub(super) fn same_counts(a: &Histogram<u64>, b: &Histogram<u64>) -> bool {
    let recorded = |h: &Histogram<u64>| -> Vec<(u64, u64)> {
        h.iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect()
    };
    a.len() == b.len() && recorded(a) == recorded(b)
}

impl PartialEq for StepMeasurements {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.kind == other.kind
            && same_counts(&self.latency, &other.latency)
            && same_counts(&self.service, &other.service)
            && self.outcomes == other.outcomes
            && self.skipped == other.skipped
            && self.seconds == other.seconds
            && self.failures == other.failures
            && self.exemplars == other.exemplars
    }
}

impl PartialEq for Interval {
    fn eq(&self, other: &Self) -> bool {
        self.second == other.second
            && self.outcomes == other.outcomes
            && self.figures == other.figures
            && same_counts(&self.latency(), &other.latency())
    }
}

/// An [`Interval`] as written: its figures are derived again when it is read.
#[derive(Serialize, Deserialize)]
struct IntervalWire {
    second: u64,
    outcomes: OutcomeCounts,
    latency: String,
}

impl From<Interval> for IntervalWire {
    fn from(interval: Interval) -> Self {
        Self {
            second: interval.second,
            outcomes: interval.outcomes,
            latency: codec::BASE64.encode(&interval.encoded),
        }
    }
}

impl TryFrom<IntervalWire> for Interval {
    type Error = String;

    fn try_from(wire: IntervalWire) -> Result<Self, String> {
        let bytes = codec::BASE64
            .decode(wire.latency)
            .map_err(|e| format!("second {}: {e}", wire.second))?;
        let latency = codec::decode(&bytes).map_err(|e| format!("second {}: {e}", wire.second))?;
        Ok(Interval::new(wire.second, wire.outcomes, &latency))
    }
}

fn unix_ms_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Collector, RequestOutcome};

    /// Deterministic, spread-out values: 1 ms .. ~4 s, a few errors, over 20 seconds.
    fn values(seed: u64, n: u64) -> Vec<(u64, usize, RequestOutcome, u64)> {
        let mut x = seed;
        (0..n)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let micros = 1_000 + (x >> 33) % 4_000_000 / (1 + (x >> 60));
                let outcome = match x % 50 {
                    0 => RequestOutcome::UnexpectedStatus(5),
                    1 => RequestOutcome::Timeout,
                    _ => RequestOutcome::Ok,
                };
                (i * 20 / n, (x % 2) as usize, outcome, micros)
            })
            .collect()
    }

    fn record(collector: &Collector, values: &[(u64, usize, RequestOutcome, u64)]) {
        for &(second, step, outcome, micros) in values {
            let service = Duration::from_micros(micros / 2);
            collector.record_at(
                second,
                step,
                outcome,
                service,
                Duration::from_micros(micros - micros / 2),
            );
        }
    }

    fn collector() -> Collector {
        Collector::new(vec![("k".into(), "a".into()), ("k".into(), "b".into())])
    }

    #[test]
    fn merging_saved_runs_into_nothing_keeps_their_start_and_length() {
        let one = collector();
        record(&one, &values(7, 1_000));
        let saved = Measurements {
            started_unix_ms: 1_000_000,
            elapsed: Duration::from_secs(20),
            ..one.measurements()
        };
        let mut merged = Measurements::empty(&[("k".into(), "a".into()), ("k".into(), "b".into())]);
        merged.merge(&saved);
        merged.merge(&saved);
        assert_eq!(merged.started_unix_ms, 1_000_000);
        assert_eq!(merged.elapsed, Duration::from_secs(20));
        assert_eq!(merged.all_steps().outcomes.total(), 2_000);
    }

    #[test]
    fn merging_two_saved_runs_equals_recording_both_into_one() {
        let (first, second) = (values(7, 30_000), values(11, 20_000));
        let mut all: Vec<_> = first.iter().chain(&second).copied().collect();
        all.sort_by_key(|v| v.0);
        let (one, two, both) = (collector(), collector(), collector());
        record(&one, &first);
        record(&two, &second);
        record(&both, &all);
        let (mut one, two, mut both) = (one.measurements(), two.measurements(), both.measurements());
        // The same start, as generators started at one instant have.
        one.started_unix_ms = both.started_unix_ms;
        let two = Measurements {
            started_unix_ms: both.started_unix_ms,
            ..two
        };
        let mut merged = Measurements::from_json(&one.to_json()).unwrap();
        merged.merge(&Measurements::from_json(&two.to_json()).unwrap());
        merged.elapsed = both.elapsed;
        both.generator_cpu_s = merged.generator_cpu_s;
        for (m, b) in merged.steps.iter().zip(&both.steps) {
            assert_eq!(m.outcomes, b.outcomes);
            assert_eq!(m.latency.len(), b.latency.len());
            for q in [0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0] {
                assert_eq!(
                    m.latency.value_at_quantile(q),
                    b.latency.value_at_quantile(q),
                    "q {q}"
                );
                assert_eq!(
                    m.service.value_at_quantile(q),
                    b.service.value_at_quantile(q),
                    "q {q}"
                );
            }
            assert_eq!(m.series(), b.series());
        }
        assert_eq!(merged, both);
        assert_eq!(
            merged.all_steps().outcomes.total(),
            50_000,
            "every request of both counted once"
        );
    }

    #[test]
    fn seconds_are_aligned_by_start_time() {
        let (early, late) = (collector(), collector());
        early.record_at(0, 0, RequestOutcome::Ok, Duration::from_millis(5), Duration::ZERO);
        late.record_at(0, 0, RequestOutcome::Ok, Duration::from_millis(7), Duration::ZERO);
        let mut early = early.measurements();
        let mut late = late.measurements();
        late.started_unix_ms = early.started_unix_ms + 3_000;
        early.elapsed = Duration::from_secs(2);
        late.elapsed = Duration::from_secs(2);
        early.merge(&late);
        let seconds: Vec<u64> = early.steps[0].seconds.iter().map(|s| s.second).collect();
        assert_eq!(seconds, [0, 3]);
        assert_eq!(early.elapsed, Duration::from_secs(5));
    }

    #[test]
    fn a_range_of_seconds_holds_only_their_requests() {
        let c = collector();
        for second in 0..10 {
            c.record_at(
                second,
                0,
                RequestOutcome::Ok,
                Duration::from_millis(second + 1),
                Duration::ZERO,
            );
        }
        let only = c.measurements().seconds(4..=6);
        assert_eq!(only.steps[0].outcomes.total(), 3);
        assert_eq!(only.elapsed, Duration::from_secs(3));
        let p0 = only.steps[0].latency.min();
        assert!((4_990..=5_010).contains(&p0), "{p0}");
    }

    #[test]
    fn corrupt_histograms_are_an_error_not_a_panic() {
        let c = collector();
        c.record_at(0, 0, RequestOutcome::Ok, Duration::from_millis(1), Duration::ZERO);
        let json = c.measurements().to_json();
        let start = json.find("\"latency\":\"").unwrap() + 11;
        let broken = format!("{}AAAA{}", &json[..start], &json[start + 4..]);
        assert!(Measurements::from_json(&broken).is_err());
    }
}
