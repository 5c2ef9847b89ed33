//! Live recording: per step, HdrHistograms of latency and service time for the whole
//! run (µs, 3 significant digits), outcome counts, and every second's histogram. Samples
//! are never kept. A request records into its thread's shard, under a lock no other
//! thread takes in the normal course; once a second the load engine closes the second
//! that ended ([`Collector::close_seconds`]): the shards' parts merged, added to the
//! whole run and encoded, off every request's path. What it holds is handed on as
//! [`Measurements`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::exemplars::Sighting;
use super::gaps::{Gaps, Silences};
use super::measurements::{add, new_histogram, Interval, Measurements, StepMeasurements};
use super::outcome::{OutcomeCounts, RequestOutcome};
use super::second::{merge_seconds, shard_index, SecondRecorder, Shard, MAX_CLOSED_PER_SHARD};

/// Shared by every virtual user; a request takes its own thread's shard's lock only.
pub struct Collector {
    started: Instant,
    started_unix_ms: u64,
    /// What requests record into: the second each thread is filling, per step.
    shards: Box<[Mutex<Shard>]>,
    /// The closed seconds, merged: the whole run, the series, the recent seconds.
    steps: Mutex<Vec<StepRecorder>>,
    /// Per step, the response time (µs) a request must pass to be among its slowest
    /// (the slowest kept's floor): most requests read it and go on.
    slow_floors: Box<[AtomicU64]>,
    /// Requests sent and not yet answered.
    in_flight: AtomicU64,
    /// The most in flight at once since telemetry last asked.
    in_flight_peak: AtomicU64,
    /// Open model: iterations that began later than scheduled, and the worst delay.
    late_starts: AtomicU64,
    max_lateness_us: AtomicU64,
    /// Fed by other collectors ([`absorb`](Self::absorb)): the last second every one of
    /// them has closed, plus one (0: none yet). Unused for a collector that records.
    complete_until: AtomicU64,
    absorbing: std::sync::atomic::AtomicBool,
    /// Stretches without a successful response.
    gaps: Gaps,
    /// Held while seconds are closed, so that they join each step's series in order.
    closing: Mutex<()>,
}

/// What a [`Collector::take_delta`] has already handed out, so the next one holds only
/// what came since: deltas add up exactly to the whole.
#[derive(Default)]
pub struct DeltaCursor {
    steps: Vec<StepMeasurements>,
    seconds_sent: Vec<usize>,
    schedule: super::Schedule,
}

/// Requests of a range of seconds merged: what a sliding-window SLO looks at.
#[derive(Clone, Debug)]
pub struct Window {
    pub latency: Histogram<u64>,
    pub outcomes: OutcomeCounts,
}

struct StepRecorder {
    /// The step's kind and name, and everything closed so far.
    measured: StepMeasurements,
    /// The last closed seconds, kept whole for sliding windows (none without them).
    recent: VecDeque<SecondRecorder>,
    keep_recent: usize,
}

impl Collector {
    /// A collector for steps given as `(kind, name)`.
    pub fn new(steps: Vec<(String, String)>) -> Self {
        Self::with_windows(steps, 0)
    }

    /// A collector that keeps the last `window_s` seconds whole, for sliding windows.
    pub fn with_windows(steps: Vec<(String, String)>, window_s: u64) -> Self {
        Self::with_windows_from(steps, window_s, Instant::now())
    }

    /// As [`with_windows`](Self::with_windows), with the run starting at `start` (which
    /// may be a moment ahead: the start several generators agreed on).
    pub fn with_windows_from(steps: Vec<(String, String)>, window_s: u64, start: Instant) -> Self {
        let mut empty = Measurements::empty(&steps);
        let ahead = start.saturating_duration_since(Instant::now()).as_millis() as u64;
        empty.started_unix_ms += ahead;
        let count = steps.len();
        // Twice the cores: threads of the runtime and of the caller rarely share one.
        let shards = 2 * std::thread::available_parallelism().map_or(2, usize::from);
        let shards = (0..shards)
            .map(|_| {
                Mutex::new(Shard {
                    steps: (0..count).map(|_| SecondRecorder::new(0)).collect(),
                    closed: Vec::new(),
                })
            })
            .collect();
        let steps = empty
            .steps
            .into_iter()
            .map(|measured| StepRecorder::new(measured, window_s as usize))
            .collect();
        Self {
            started: start,
            started_unix_ms: empty.started_unix_ms,
            shards,
            steps: Mutex::new(steps),
            slow_floors: (0..count).map(|_| AtomicU64::new(0)).collect(),
            in_flight: AtomicU64::new(0),
            in_flight_peak: AtomicU64::new(0),
            late_starts: AtomicU64::new(0),
            max_lateness_us: AtomicU64::new(0),
            complete_until: AtomicU64::new(0),
            absorbing: std::sync::atomic::AtomicBool::new(false),
            gaps: Gaps::default(),
            closing: Mutex::new(()),
        }
    }

    /// Closes every second before the current one: the shards' parts of it merged, added
    /// to the whole run, kept for the windows and encoded into the series. What the
    /// load engine does just after each second, so that no request pays for it.
    pub fn close_seconds(&self) {
        self.close_seconds_before(self.started.elapsed().as_secs());
    }

    /// Closes every second before `now` (`u64::MAX`: every second).
    fn close_seconds_before(&self, now: u64) {
        let order = self.closing.lock().unwrap_or_else(|e| e.into_inner());
        self.close_in_order(now, &order);
    }

    /// [`close_seconds_before`](Self::close_seconds_before) with the `closing` lock
    /// held: a reader holds it to see the open seconds and the closed ones at one
    /// instant, neither twice nor missing.
    fn close_in_order(&self, now: u64, _order: &std::sync::MutexGuard<'_, ()>) {
        let mut closed = self.take_closed(now);
        if closed.is_empty() {
            return;
        }
        let merged = merge_seconds(&mut closed);
        let encoded: Vec<(usize, SecondRecorder, Option<Interval>)> = merged
            .into_iter()
            .map(|(step, second)| {
                let interval = second.interval();
                (step, second, interval)
            })
            .collect();
        let mut steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        for (step, second, interval) in encoded {
            if let Some(recorder) = steps.get_mut(step) {
                recorder.add_second(second, interval);
            }
        }
    }

    /// Every shard's seconds before `now`, moved out; what each shard fills next is at
    /// `now` or later (a request of an earlier second counts in the current one).
    fn take_closed(&self, now: u64) -> Vec<(usize, SecondRecorder)> {
        let mut closed = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            let (before, after): (Vec<_>, Vec<_>) = shard.closed.drain(..).partition(|(_, s)| s.second < now);
            shard.closed = after;
            closed.extend(before);
            for (step, filling) in shard.steps.iter_mut().enumerate() {
                if filling.second >= now {
                    continue;
                }
                if filling.outcomes.total() == 0 {
                    filling.second = now;
                } else {
                    closed.push((step, std::mem::replace(filling, SecondRecorder::new(now))));
                }
            }
        }
        closed
    }

    /// Copies of what the shards hold that is not closed yet, merged per step and
    /// second: for readers that look at the run as it is.
    fn open_seconds(&self) -> Vec<(usize, SecondRecorder)> {
        let mut open = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            open.extend(shard.closed.iter().cloned());
            open.extend(
                shard
                    .steps
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.outcomes.total() > 0)
                    .map(|(step, s)| (step, s.clone())),
            );
        }
        merge_seconds(&mut open)
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

    /// Requests in flight elsewhere (the generators that feed this collector), at most.
    pub fn note_in_flight(&self, peak: u64) {
        self.in_flight_peak.fetch_max(peak, Ordering::Relaxed);
    }

    /// The peak in flight since the last call; the next period starts from now.
    pub fn take_in_flight_peak(&self) -> u64 {
        let current = self.in_flight.load(Ordering::Relaxed);
        self.in_flight_peak.swap(current, Ordering::Relaxed)
    }

    /// Records a request of step `step` that ended now after `latency`.
    pub fn record(&self, step: usize, outcome: RequestOutcome, latency: Duration) {
        self.record_delayed(step, outcome, latency, Duration::ZERO);
    }

    /// Records a request whose iteration began `delay` after its intended start: its
    /// response time is `service + delay`.
    pub fn record_delayed(&self, step: usize, outcome: RequestOutcome, service: Duration, delay: Duration) {
        self.record_at(self.started.elapsed().as_secs(), step, outcome, service, delay);
    }

    /// As [`record_delayed`](Self::record_delayed), in second `second` of the run.
    /// Seconds only move forward: an earlier one counts as the current one.
    pub fn record_at(
        &self,
        second: u64,
        step: usize,
        outcome: RequestOutcome,
        service: Duration,
        delay: Duration,
    ) {
        let service = (service.as_micros() as u64).max(1);
        let response = service + delay.as_micros() as u64;
        if outcome.is_ok() {
            self.gaps.success(self.started.elapsed().as_micros() as u64);
        }
        let shard = &self.shards[shard_index(self.shards.len())];
        let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
        let Shard { steps, closed } = &mut *shard;
        let Some(filling) = steps.get_mut(step) else {
            return;
        };
        if second > filling.second {
            let finished = std::mem::replace(filling, SecondRecorder::new(second));
            if finished.outcomes.total() > 0 {
                closed.push((step, finished));
            }
        }
        filling.record(outcome, response, service);
        let overflowing = closed.len() > MAX_CLOSED_PER_SHARD;
        drop(shard);
        if overflowing {
            self.close_seconds();
        }
    }

    /// Notes how a request of step `step` failed: `kind` (`status 500`, `timeout`), the
    /// start of the answer or error, and the request itself, among the step's first
    /// failed requests.
    pub fn note_failure(&self, step: usize, kind: &str, snippet: &[u8], request: Sighting<'_>) {
        let now = self.started.elapsed();
        let at_s = (now.as_secs_f64() * 1000.0).round() / 1000.0;
        let exemplar = request.exemplar(now, Some(kind));
        let mut steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(recorder) = steps.get_mut(step) {
            let measured = &mut recorder.measured;
            measured.failures.note(kind, at_s, snippet, request.request_id);
            measured.exemplars.failed(exemplar);
        }
    }

    /// Keeps an answered request of step `step` if it is among the step's slowest; one
    /// atomic read for the others.
    pub fn consider_slow(&self, step: usize, request: Sighting<'_>) {
        let Some(floor) = self.slow_floors.get(step) else {
            return;
        };
        if request.latency_us() <= floor.load(Ordering::Relaxed) {
            return;
        }
        let exemplar = request.exemplar(self.started.elapsed(), None);
        let mut steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(recorder) = steps.get_mut(step) {
            let exemplars = &mut recorder.measured.exemplars;
            exemplars.slow(exemplar);
            floor.store(exemplars.slow_floor_us(), Ordering::Relaxed);
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
            recorder.measured.skipped += 1;
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// How long until `past` after the run's next whole second: what a task that acts
    /// once a second, on the second just ended, sleeps for.
    pub fn until_next_second(&self, past: Duration) -> Duration {
        let elapsed = self.elapsed();
        (Duration::from_secs(elapsed.as_secs() + 1) + past).saturating_sub(elapsed)
    }

    /// Every notable stretch without a successful response so far.
    pub fn silences(&self) -> Silences {
        self.gaps.snapshot(self.started.elapsed().as_micros() as u64)
    }

    /// Everything so far, the current second included (no schedule: the load engine
    /// adds the open model's).
    pub fn measurements(&self) -> Measurements {
        let _instant = self.closing.lock().unwrap_or_else(|e| e.into_inner());
        let open = self.open_seconds();
        let steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        let mut measured: Vec<StepMeasurements> = steps.iter().map(|r| r.measured.clone()).collect();
        drop(steps);
        for (step, second) in open {
            if let Some(step) = measured.get_mut(step) {
                second.add_to(step);
                step.seconds.extend(second.interval());
            }
        }
        Measurements {
            started_unix_ms: self.started_unix_ms,
            elapsed: self.started.elapsed(),
            steps: measured,
            schedule: None,
            generator_cpu_s: 0.0,
        }
    }

    /// Seconds `from..=to` of step `step` (all steps when `None`) merged. Seconds older
    /// than the window the collector was made for are gone.
    pub fn window(&self, step: Option<usize>, from: u64, to: u64) -> Window {
        let _instant = self.closing.lock().unwrap_or_else(|e| e.into_inner());
        let open = self.open_seconds();
        let mut window = Window {
            latency: new_histogram(),
            outcomes: OutcomeCounts::default(),
        };
        let mut take = |index: usize, second: &SecondRecorder| {
            if step.is_none_or(|s| s == index) && (from..=to).contains(&second.second) {
                add(&mut window.latency, &second.latency);
                window.outcomes.merge(&second.outcomes);
            }
        };
        for (index, second) in &open {
            take(*index, second);
        }
        let steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        for (index, recorder) in steps.iter().enumerate() {
            recorder.recent.iter().for_each(|second| take(index, second));
        }
        window
    }

    /// The last second whose requests are all in: the one before the current second, or
    /// for a collector fed by others, the last one all of them have sent.
    pub fn last_complete_second(&self) -> Option<u64> {
        if self.absorbing.load(Ordering::Relaxed) {
            self.complete_until.load(Ordering::Relaxed).checked_sub(1)
        } else {
            self.started.elapsed().as_secs().checked_sub(1)
        }
    }

    /// Every second before `second` is in, from every collector that feeds this one.
    pub fn set_complete_until(&self, second: u64) {
        self.absorbing.store(true, Ordering::Relaxed);
        self.complete_until.fetch_max(second, Ordering::Relaxed);
    }

    /// What was measured since the last call with `cursor`: histograms, counters and the
    /// seconds closed since (with `last`, the current second too: nothing follows it).
    /// Seconds before the current one are closed first, so a quiet step's last second
    /// is not held back.
    pub fn take_delta(
        &self,
        cursor: &mut DeltaCursor,
        schedule: Option<super::Schedule>,
        last: bool,
    ) -> Measurements {
        let now = match last {
            true => u64::MAX,
            false => self.started.elapsed().as_secs(),
        };
        let order = self.closing.lock().unwrap_or_else(|e| e.into_inner());
        self.close_in_order(now, &order);
        // The second being filled counts in the whole-run figures already (a live view
        // sees it); its series entry comes when it closes.
        let open = self.open_seconds();
        let steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        if cursor.steps.is_empty() {
            cursor.steps = steps
                .iter()
                .map(|r| StepMeasurements::empty(&r.measured.kind, &r.measured.name))
                .collect();
            cursor.seconds_sent = vec![0; steps.len()];
        }
        let delta = steps
            .iter()
            .zip(cursor.steps.iter_mut().zip(cursor.seconds_sent.iter_mut()))
            .enumerate()
            .map(|(index, (recorder, (sent, seconds_sent)))| {
                let mut whole = recorder.measured.clone_without_seconds();
                for (_, second) in open.iter().filter(|(step, _)| *step == index) {
                    second.add_to(&mut whole);
                }
                let new_seconds = recorder.measured.seconds[*seconds_sent..].to_vec();
                *seconds_sent = recorder.measured.seconds.len();
                let step = whole.minus(sent, new_seconds);
                std::mem::swap(sent, &mut whole);
                step
            })
            .collect();
        let schedule = schedule.map(|now| {
            let delta = now.minus(&cursor.schedule);
            cursor.schedule = now;
            delta
        });
        Measurements {
            started_unix_ms: self.started_unix_ms,
            elapsed: self.started.elapsed(),
            steps: delta,
            schedule,
            generator_cpu_s: 0.0,
        }
    }

    /// Adds what another collector measured (a delta of it, whose seconds count from the
    /// same start): into the whole run, and into the recent seconds windows look at.
    pub fn absorb(&self, delta: &Measurements) {
        let _order = self.closing.lock().unwrap_or_else(|e| e.into_inner());
        let mut steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        for step in &delta.steps {
            let Some(recorder) = steps
                .iter_mut()
                .find(|r| r.measured.kind == step.kind && r.measured.name == step.name)
            else {
                continue;
            };
            recorder.absorb(step);
        }
    }

    /// Requests, errors and the p95 over all steps, for the progress line (the p95 of
    /// the closed seconds).
    pub fn totals(&self) -> (u64, u64, u64) {
        let _instant = self.closing.lock().unwrap_or_else(|e| e.into_inner());
        let mut outcomes = OutcomeCounts::default();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            let open = shard.closed.iter().map(|(_, s)| s).chain(shard.steps.iter());
            open.for_each(|second| outcomes.merge(&second.outcomes));
        }
        let steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        let mut p95 = 0;
        for recorder in steps.iter() {
            outcomes.merge(&recorder.measured.outcomes);
            p95 = p95.max(recorder.measured.latency.value_at_quantile(0.95));
        }
        (outcomes.total(), outcomes.errors(), p95)
    }
}

impl StepRecorder {
    fn new(measured: StepMeasurements, keep_recent: usize) -> Self {
        Self {
            measured,
            recent: VecDeque::with_capacity(keep_recent),
            keep_recent,
        }
    }

    /// A closed second (the shards' parts merged) and its encoding: into the whole run,
    /// the series and the windows' recent seconds.
    fn add_second(&mut self, second: SecondRecorder, interval: Option<Interval>) {
        second.add_to(&mut self.measured);
        self.measured.seconds.extend(interval);
        if self.keep_recent > 0 {
            if self.recent.len() == self.keep_recent {
                self.recent.pop_front();
            }
            self.recent.push_back(second);
        }
    }

    /// Another collector's delta for this step: the whole-run figures add, its seconds
    /// join ours (merged where both have one), and the recent ones feed the windows.
    fn absorb(&mut self, step: &StepMeasurements) {
        self.measured.merge(step);
        if self.keep_recent == 0 {
            return;
        }
        for interval in &step.seconds {
            match self.recent.iter_mut().find(|s| s.second == interval.second) {
                Some(second) => {
                    add(&mut second.latency, &interval.latency());
                    second.outcomes.merge(&interval.outcomes);
                }
                None => {
                    let at = self.recent.partition_point(|s| s.second < interval.second);
                    let mut second = SecondRecorder::new(interval.second);
                    second.latency = interval.latency();
                    second.outcomes = interval.outcomes;
                    self.recent.insert(at, second);
                }
            }
        }
        while self.recent.len() > self.keep_recent {
            self.recent.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_latency_only_for_answered_requests() {
        let collector = Collector::new(vec![("k".into(), "a".into()), ("k".into(), "b".into())]);
        collector.record(0, RequestOutcome::Ok, Duration::from_millis(10));
        collector.record(0, RequestOutcome::RateLimited, Duration::from_secs(5));
        collector.record(0, RequestOutcome::Timeout, Duration::from_secs(30));
        collector.record(1, RequestOutcome::UnexpectedStatus(5), Duration::from_millis(20));
        collector.skip(1);
        let snap = collector.measurements();
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
        let all = snap.all_steps();
        assert_eq!((all.outcomes.total(), all.latency.len()), (4, 2));
        assert_eq!(collector.totals().0, 4);
    }

    #[test]
    fn seconds_closed_by_requests_are_encoded_later_and_in_order() {
        let collector = Collector::new(vec![("k".into(), "a".into())]);
        let seconds = |m: &Measurements| -> Vec<(u64, u64)> {
            m.steps[0]
                .seconds
                .iter()
                .map(|i| (i.second, i.outcomes.total()))
                .collect()
        };
        for second in 0..4 {
            for micros in [1_000, 2_000, 3_000] {
                collector.record_at(
                    second,
                    0,
                    RequestOutcome::Ok,
                    Duration::from_micros(micros),
                    Duration::ZERO,
                );
            }
            if second == 1 {
                collector.close_seconds();
            }
        }
        let every = [(0, 3), (1, 3), (2, 3), (3, 3)];
        assert_eq!(
            seconds(&collector.measurements()),
            every,
            "closed or not, encoded or not"
        );
        collector.close_seconds();
        let mut cursor = DeltaCursor::default();
        let delta = collector.take_delta(&mut cursor, None, true);
        assert_eq!(seconds(&delta), every);
        let whole: u64 = delta.steps[0].seconds.iter().map(|i| i.latency().len()).sum();
        assert_eq!(
            whole,
            delta.steps[0].latency.len(),
            "the seconds add up to the run"
        );

        // Without anyone closing seconds, the series is whole and in order.
        let alone = Collector::new(vec![("k".into(), "a".into())]);
        for second in 0..12 {
            alone.record_at(
                second,
                0,
                RequestOutcome::Ok,
                Duration::from_millis(1),
                Duration::ZERO,
            );
        }
        let series: Vec<u64> = alone.measurements().steps[0]
            .seconds
            .iter()
            .map(|i| i.second)
            .collect();
        assert_eq!(series, (0..12).collect::<Vec<_>>());
    }

    /// A collector of one step `s`, keeping `window_s` seconds whole.
    fn one_step(window_s: u64) -> Collector {
        Collector::with_windows(vec![("k".into(), "s".into())], window_s)
    }

    fn record(collector: &Collector, second: u64, outcome: RequestOutcome, micros: u64) {
        collector.record_at(second, 0, outcome, Duration::from_micros(micros), Duration::ZERO);
    }

    #[test]
    fn slow_requests_grow_the_histogram() {
        let collector = one_step(0);
        for micros in [80_000, 90_000, 3_000_000] {
            record(&collector, 0, RequestOutcome::Ok, micros);
        }
        let snap = collector.measurements().steps.remove(0);
        let series = snap.series();
        let p50 = snap.latency.value_at_quantile(0.5);
        assert!((89_900..=90_100).contains(&p50), "p50 {p50}");
        assert!(snap.latency.max() >= 2_990_000, "max {}", snap.latency.max());
        assert_eq!(series[0].max_us, snap.latency.max());
    }

    #[test]
    fn threads_record_apart_and_their_seconds_merge_exactly() {
        let collector = std::sync::Arc::new(one_step(0));
        let threads: Vec<_> = (0..4u64)
            .map(|thread| {
                let collector = collector.clone();
                std::thread::spawn(move || {
                    for i in 0..1_000u64 {
                        record(
                            &collector,
                            i / 250,
                            RequestOutcome::Ok,
                            1_000 + thread * 1_000 + i,
                        );
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let open = collector.measurements().steps.remove(0);
        collector.close_seconds_before(u64::MAX);
        let closed = collector.measurements().steps.remove(0);
        for snap in [&open, &closed] {
            let seconds: Vec<(u64, u64)> = snap
                .seconds
                .iter()
                .map(|i| (i.second, i.outcomes.total()))
                .collect();
            assert_eq!(seconds, [(0, 1_000), (1, 1_000), (2, 1_000), (3, 1_000)]);
            assert_eq!(
                (snap.outcomes.total(), snap.latency.len(), snap.service.len()),
                (4_000, 4_000, 4_000)
            );
        }
        assert_eq!(open, closed, "the open seconds read as they close");
    }

    #[test]
    fn deltas_add_up_to_the_whole_run_and_feed_another_collector() {
        let keys = vec![
            ("k".to_string(), "a".to_string()),
            ("k".to_string(), "b".to_string()),
        ];
        let source = Collector::new(keys.clone());
        let sink = Collector::with_windows(keys.clone(), 10);
        let mut cursor = DeltaCursor::default();
        let mut merged = Measurements::empty(&keys);
        for second in 0..6u64 {
            for k in 0..=second {
                let outcome = if k == 3 {
                    RequestOutcome::Timeout
                } else {
                    RequestOutcome::Ok
                };
                let service = Duration::from_millis(1 + second * 10 + k);
                source.record_at(second, (k % 2) as usize, outcome, service, Duration::ZERO);
            }
            if second % 2 == 1 {
                let delta = source.take_delta(&mut cursor, None, false);
                sink.absorb(&delta);
                merged.merge(&delta);
            }
        }
        let last = source.take_delta(&mut cursor, None, true);
        sink.absorb(&last);
        merged.merge(&last);
        let whole = source.measurements();
        assert_eq!(merged.steps, whole.steps, "the deltas add up exactly");
        assert_eq!(
            sink.measurements().steps,
            whole.steps,
            "and feed another collector"
        );
        assert_eq!(whole.all_steps().outcomes.total(), 21);
        sink.set_complete_until(6);
        assert_eq!(sink.last_complete_second(), Some(5));
        let window = sink.window(None, 4, 5);
        assert_eq!(window.outcomes.total(), 11, "seconds 4 and 5 of both steps");
    }

    #[test]
    fn in_flight_peaks_are_taken_per_period() {
        let collector = Collector::new(vec![("k".into(), "a".into())]);
        collector.begin_request();
        collector.begin_request();
        collector.end_request();
        assert_eq!(collector.take_in_flight_peak(), 2);
        assert_eq!(collector.take_in_flight_peak(), 1, "one is still in flight");
    }

    #[test]
    fn windows_merge_the_seconds_asked_for() {
        let collector = one_step(3);
        for second in 0..6 {
            record(&collector, second, RequestOutcome::Ok, 1_000 * (second + 1));
        }
        record(&collector, 6, RequestOutcome::UnexpectedStatus(5), 9_000);
        collector.close_seconds_before(6);
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
        let collector = one_step(0);
        record(&collector, 0, RequestOutcome::Ok, 1_000);
        record(&collector, 0, RequestOutcome::Ok, 3_000);
        record(&collector, 2, RequestOutcome::Connect, 1);
        let snap = collector.measurements().steps.remove(0);
        let series = snap.series();
        assert_eq!(series.len(), 2);
        assert_eq!(
            (series[0].second, series[0].requests, series[0].errors),
            (0, 2, 0)
        );
        assert_eq!((series[1].second, series[1].errors, series[1].max_us), (2, 1, 0));
    }
}
