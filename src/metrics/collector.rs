//! Live recording: per step, an HdrHistogram of latency for the whole run (µs, 3
//! significant digits), outcome counts, and a per-second series. Samples are never
//! kept; each second is reduced to its figures when the next one starts.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::outcome::{Outcome, OutcomeCounts};

const SIGNIFICANT_DIGITS: u8 = 3;

/// One second of one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

/// What the run has measured so far, per step.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Time since the load started.
    pub elapsed: Duration,
    pub steps: Vec<StepSnapshot>,
}

#[derive(Clone, Debug)]
pub struct StepSnapshot {
    pub name: String,
    /// Response time: from the intended start under the open model, else the same
    /// as `service`.
    pub latency: Histogram<u64>,
    /// Service time: from sending the request to its last byte.
    pub service: Histogram<u64>,
    pub outcomes: OutcomeCounts,
    /// Iterations in which this step did not run because an earlier step failed.
    pub skipped: u64,
    pub series: Vec<SecondStats>,
}

/// Shared by every virtual user; one short lock per request.
pub struct Collector {
    started: Instant,
    steps: Mutex<Vec<StepRecorder>>,
    names: Vec<String>,
    /// Requests sent and not yet answered.
    in_flight: AtomicU64,
    /// The most in flight at once since telemetry last asked.
    in_flight_peak: AtomicU64,
    /// Open model: iterations that began later than scheduled, and the worst delay.
    late_starts: AtomicU64,
    max_lateness_us: AtomicU64,
}

/// Requests of a range of seconds merged: what a sliding-window SLO looks at.
#[derive(Clone, Debug)]
pub struct Window {
    pub latency: Histogram<u64>,
    pub outcomes: OutcomeCounts,
}

struct StepRecorder {
    latency: Histogram<u64>,
    service: Histogram<u64>,
    outcomes: OutcomeCounts,
    skipped: u64,
    second: SecondRecorder,
    series: Vec<SecondStats>,
    /// The last closed seconds, kept whole for sliding windows (none without them).
    recent: VecDeque<SecondRecorder>,
    keep_recent: usize,
}

/// The second being filled.
struct SecondRecorder {
    second: u64,
    latency: Histogram<u64>,
    outcomes: OutcomeCounts,
}

impl Collector {
    pub fn new(step_names: Vec<String>) -> Self {
        Self::with_windows(step_names, 0)
    }

    /// A collector that keeps the last `window_s` seconds whole, for sliding windows.
    pub fn with_windows(step_names: Vec<String>, window_s: u64) -> Self {
        let steps = step_names
            .iter()
            .map(|_| StepRecorder::new(window_s as usize))
            .collect();
        Self {
            started: Instant::now(),
            steps: Mutex::new(steps),
            names: step_names,
            in_flight: AtomicU64::new(0),
            in_flight_peak: AtomicU64::new(0),
            late_starts: AtomicU64::new(0),
            max_lateness_us: AtomicU64::new(0),
        }
    }

    /// A request is about to be sent.
    pub fn begin_request(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.in_flight_peak.fetch_max(now, Ordering::Relaxed);
    }

    /// A request has been answered (or failed).
    pub fn end_request(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// The peak in flight since the last call; the next period starts from now.
    pub fn take_in_flight_peak(&self) -> u64 {
        let current = self.in_flight.load(Ordering::Relaxed);
        self.in_flight_peak.swap(current, Ordering::Relaxed)
    }

    /// Records a request of step `step` that ended now after `latency`.
    pub fn record(&self, step: usize, outcome: Outcome, latency: Duration) {
        self.record_delayed(step, outcome, latency, Duration::ZERO);
    }

    /// Records a request whose iteration began `delay` after its intended start: its
    /// response time is `service + delay`.
    pub fn record_delayed(&self, step: usize, outcome: Outcome, service: Duration, delay: Duration) {
        let second = self.started.elapsed().as_secs();
        let service = (service.as_micros() as u64).max(1);
        let response = service + delay.as_micros() as u64;
        let mut steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(recorder) = steps.get_mut(step) {
            recorder.record(second, outcome, response, service);
        }
    }

    /// An open-model iteration began `lateness` after its intended start.
    pub fn late_start(&self, lateness: Duration) {
        self.late_starts.fetch_add(1, Ordering::Relaxed);
        self.max_lateness_us
            .fetch_max(lateness.as_micros() as u64, Ordering::Relaxed);
    }

    /// Late starts so far and the worst lateness.
    pub fn lateness(&self) -> (u64, Duration) {
        (
            self.late_starts.load(Ordering::Relaxed),
            Duration::from_micros(self.max_lateness_us.load(Ordering::Relaxed)),
        )
    }

    /// Notes that step `step` was skipped in one iteration.
    pub fn skip(&self, step: usize) {
        let mut steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(recorder) = steps.get_mut(step) {
            recorder.skipped += 1;
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// A copy of everything so far, the current second included.
    pub fn snapshot(&self) -> Snapshot {
        let steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        let steps = steps
            .iter()
            .zip(&self.names)
            .map(|(recorder, name)| recorder.snapshot(name))
            .collect();
        Snapshot {
            elapsed: self.started.elapsed(),
            steps,
        }
    }

    /// Seconds `from..=to` of step `step` (all steps when `None`) merged. Seconds older
    /// than the window the collector was made for are gone.
    pub fn window(&self, step: Option<usize>, from: u64, to: u64) -> Window {
        let steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        let mut window = Window {
            latency: new_histogram(),
            outcomes: OutcomeCounts::default(),
        };
        for (index, recorder) in steps.iter().enumerate() {
            if step.is_some_and(|s| s != index) {
                continue;
            }
            let seconds = recorder.recent.iter().chain(std::iter::once(&recorder.second));
            for second in seconds.filter(|s| (from..=to).contains(&s.second)) {
                let _ = window.latency.add(&second.latency);
                window.outcomes.merge(&second.outcomes);
            }
        }
        window
    }

    /// Requests, errors and the p95 over all steps, for the progress line.
    pub fn totals(&self) -> (u64, u64, u64) {
        let steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        let mut outcomes = OutcomeCounts::default();
        let mut p95 = 0;
        for recorder in steps.iter() {
            outcomes.merge(&recorder.outcomes);
            p95 = p95.max(recorder.latency.value_at_quantile(0.95));
        }
        (outcomes.total(), outcomes.errors(), p95)
    }
}

impl StepRecorder {
    fn new(keep_recent: usize) -> Self {
        Self {
            latency: new_histogram(),
            service: new_histogram(),
            outcomes: OutcomeCounts::default(),
            skipped: 0,
            second: SecondRecorder::new(0),
            series: Vec::new(),
            recent: VecDeque::with_capacity(keep_recent),
            keep_recent,
        }
    }

    fn record(&mut self, second: u64, outcome: Outcome, micros: u64, service: u64) {
        if second > self.second.second {
            let finished = std::mem::replace(&mut self.second, SecondRecorder::new(second));
            if let Some(stats) = finished.stats() {
                self.series.push(stats);
            }
            if self.keep_recent > 0 {
                if self.recent.len() == self.keep_recent {
                    self.recent.pop_front();
                }
                self.recent.push_back(finished);
            }
        }
        self.outcomes.add(outcome);
        self.second.outcomes.add(outcome);
        if outcome.has_latency() {
            record(&mut self.latency, micros);
            record(&mut self.service, service);
            record(&mut self.second.latency, micros);
        }
    }

    fn snapshot(&self, name: &str) -> StepSnapshot {
        let mut series = self.series.clone();
        series.extend(self.second.stats());
        StepSnapshot {
            name: name.to_owned(),
            latency: self.latency.clone(),
            service: self.service.clone(),
            outcomes: self.outcomes,
            skipped: self.skipped,
            series,
        }
    }
}

impl SecondRecorder {
    fn new(second: u64) -> Self {
        Self {
            second,
            latency: new_histogram(),
            outcomes: OutcomeCounts::default(),
        }
    }

    /// The second's figures, or `None` if nothing happened in it.
    fn stats(&self) -> Option<SecondStats> {
        let requests = self.outcomes.total();
        (requests > 0).then(|| SecondStats {
            second: self.second,
            requests,
            errors: self.outcomes.errors(),
            p50_us: self.latency.value_at_quantile(0.50),
            p95_us: self.latency.value_at_quantile(0.95),
            p99_us: self.latency.value_at_quantile(0.99),
            max_us: self.latency.max(),
        })
    }
}

impl StepSnapshot {
    /// All steps merged into one, for run-wide figures. Histograms merge exactly.
    pub fn merged(steps: &[StepSnapshot]) -> Self {
        let mut all = Self {
            name: "all".into(),
            latency: new_histogram(),
            service: new_histogram(),
            outcomes: OutcomeCounts::default(),
            skipped: 0,
            series: Vec::new(),
        };
        for step in steps {
            // Same precision, auto-resizing: adding cannot fail.
            let _ = all.latency.add(&step.latency);
            let _ = all.service.add(&step.service);
            all.outcomes.merge(&step.outcomes);
            all.skipped += step.skipped;
        }
        all
    }
}

/// Records `micros`, growing the histogram as needed (`saturating_record` would clamp
/// instead of growing); clamps only past what a histogram can hold at all.
fn record(histogram: &mut Histogram<u64>, micros: u64) {
    if histogram.record(micros).is_err() {
        histogram.saturating_record(micros);
    }
}

fn new_histogram() -> Histogram<u64> {
    let mut histogram = Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits is valid");
    histogram.auto(true);
    histogram
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_latency_only_for_answered_requests() {
        let collector = Collector::new(vec!["a".into(), "b".into()]);
        collector.record(0, Outcome::Ok, Duration::from_millis(10));
        collector.record(0, Outcome::RateLimited, Duration::from_secs(5));
        collector.record(0, Outcome::Timeout, Duration::from_secs(30));
        collector.record(1, Outcome::UnexpectedStatus(5), Duration::from_millis(20));
        collector.skip(1);
        let snap = collector.snapshot();
        let a = &snap.steps[0];
        assert_eq!(
            (
                a.outcomes.total(),
                a.outcomes.errors(),
                a.outcomes.rate_limited,
                a.latency.len()
            ),
            (3, 1, 1, 1)
        );
        assert!((9_990..=10_010).contains(&a.latency.max()), "{}", a.latency.max());
        assert_eq!(snap.steps[1].skipped, 1);
        let all = StepSnapshot::merged(&snap.steps);
        assert_eq!((all.outcomes.total(), all.latency.len()), (4, 2));
        assert_eq!(collector.totals().0, 4);
    }

    #[test]
    fn slow_requests_grow_the_histogram() {
        let mut step = StepRecorder::new(0);
        for micros in [80_000, 90_000, 3_000_000] {
            step.record(0, Outcome::Ok, micros, micros);
        }
        let snap = step.snapshot("s");
        let p50 = snap.latency.value_at_quantile(0.5);
        assert!((89_900..=90_100).contains(&p50), "p50 {p50}");
        assert!(snap.latency.max() >= 2_990_000, "max {}", snap.latency.max());
        assert_eq!(snap.series[0].max_us, snap.latency.max());
    }

    #[test]
    fn in_flight_peaks_are_taken_per_period() {
        let collector = Collector::new(vec!["a".into()]);
        collector.begin_request();
        collector.begin_request();
        collector.end_request();
        assert_eq!(collector.take_in_flight_peak(), 2);
        assert_eq!(collector.take_in_flight_peak(), 1, "one is still in flight");
    }

    #[test]
    fn windows_merge_the_seconds_asked_for() {
        let mut step = StepRecorder::new(3);
        for second in 0..6 {
            step.record(second, Outcome::Ok, 1_000 * (second + 1), 1_000 * (second + 1));
        }
        step.record(6, Outcome::UnexpectedStatus(5), 9_000, 9_000);
        let collector = Collector::with_windows(vec!["s".into()], 3);
        *collector.steps.lock().unwrap() = vec![step];
        let window = collector.window(None, 4, 6);
        assert_eq!((window.outcomes.total(), window.outcomes.errors()), (3, 1));
        assert!(
            (4_990..=5_010).contains(&window.latency.min()),
            "{}",
            window.latency.min()
        );
        let gone = collector.window(Some(0), 0, 2);
        assert_eq!(
            gone.outcomes.total(),
            0,
            "only the last 3 closed seconds are kept"
        );
    }

    #[test]
    fn seconds_roll_over_into_the_series() {
        let mut step = StepRecorder::new(0);
        step.record(0, Outcome::Ok, 1_000, 1_000);
        step.record(0, Outcome::Ok, 3_000, 3_000);
        step.record(2, Outcome::Connect, 1, 1);
        let snap = step.snapshot("s");
        assert_eq!(snap.series.len(), 2);
        assert_eq!(
            (
                snap.series[0].second,
                snap.series[0].requests,
                snap.series[0].errors
            ),
            (0, 2, 0)
        );
        assert_eq!(
            (
                snap.series[1].second,
                snap.series[1].errors,
                snap.series[1].max_us
            ),
            (2, 1, 0)
        );
    }
}
