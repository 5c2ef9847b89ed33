//! What the live view knows of a run, brought up to date once a second from the
//! collector's deltas (so the whole-run figures are exact, not sampled) and the
//! sampler's latest telemetry.

use serde::Serialize;

use crate::metrics::{Collector, DeltaCursor, Measurements, StepMeasurements};
use crate::slo::SloExpr;
use crate::slo::Verdict;
use crate::telemetry::{Sample, SeriesName, Telemetry};

/// The run so far.
pub struct State {
    pub run_id: String,
    pub scenario: String,
    /// Whole-run figures per step (no seconds kept).
    pub measured: Measurements,
    /// Every telemetry sample so far.
    pub telemetry: Telemetry,
    /// One point a second, for the dashboard's charts.
    pub points: Vec<Point>,
    pub slos: Vec<Verdict>,
    /// Whether the load follows a schedule (`--rate`): then lateness is drawn.
    pub open_model: bool,
    /// Open model: late starts and the worst lateness so far.
    pub late_starts: u64,
    pub max_lateness_ms: f64,
    /// CPU this process used since the load started, in seconds.
    pub generator_cpu_s: f64,
    /// The final report, once the run has ended.
    pub report_html: Option<String>,
    cursor: DeltaCursor,
    last_tick_s: f64,
}

/// One second of the run, as the dashboard draws it.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// Seconds since the load started.
    pub t: f64,
    pub steps: Vec<StepPoint>,
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    pub db_connections: Option<f64>,
    pub in_flight: u64,
    pub max_lateness_ms: f64,
}

/// One step over the last second: requests and errors per second, latency quantiles
/// of the requests answered in it (ms).
#[derive(Clone, Debug, Serialize)]
pub struct StepPoint {
    pub rps: f64,
    pub errors_per_s: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl State {
    pub fn new(feed: &super::Feed) -> Self {
        let (run_id, scenario, steps, cpu) = (&feed.run_id, &feed.scenario, &feed.steps, feed.limits);
        Self {
            run_id: run_id.clone(),
            scenario: scenario.clone(),
            measured: Measurements::empty(steps),
            telemetry: Telemetry {
                cpu_limit_cores: cpu.0,
                memory_limit_bytes: cpu.1,
                ..Telemetry::default()
            },
            points: Vec::new(),
            slos: Vec::new(),
            open_model: feed.open_model,
            late_starts: 0,
            max_lateness_ms: 0.0,
            generator_cpu_s: 0.0,
            report_html: None,
            cursor: DeltaCursor::default(),
            last_tick_s: 0.0,
        }
    }

    /// Takes what the collector measured since the last tick, the latest telemetry
    /// sample, and judges the SLOs on the run so far.
    pub fn tick(&mut self, collector: &Collector, sample: Option<Sample>, slos: &[SloExpr], cpu_s: f64) {
        let mut delta = collector.take_delta(&mut self.cursor, None, false);
        let now = delta.elapsed.as_secs_f64();
        let seconds = (now - self.last_tick_s).max(1e-3);
        self.last_tick_s = now;
        for step in &mut delta.steps {
            step.seconds.clear();
        }
        let steps = delta.steps.iter().map(|s| StepPoint::of(s, seconds)).collect();
        self.measured.merge(&delta);
        self.measured.elapsed = delta.elapsed;
        let (late, worst) = collector.lateness();
        self.late_starts = late;
        self.max_lateness_ms = worst.as_secs_f64() * 1000.0;
        self.generator_cpu_s = cpu_s;
        if let Some(sample) =
            sample.filter(|s| self.telemetry.samples.last().is_none_or(|l| l.second != s.second))
        {
            self.telemetry.samples.push(sample);
        }
        let latest = self.telemetry.samples.last();
        let value = |name: SeriesName| self.telemetry.latest(name);
        self.points.push(Point {
            t: (now * 10.0).round() / 10.0,
            steps,
            cpu_percent: value(SeriesName::BackendCpu).map(|v| v * 100.0),
            memory_percent: value(SeriesName::BackendMemory).map(|v| v * 100.0),
            db_connections: value(SeriesName::DbConnections),
            in_flight: latest.map_or(0, |s| s.in_flight),
            max_lateness_ms: self.max_lateness_ms,
        });
        self.slos = crate::slo::evaluate(slos, &self.measured, Some(&self.telemetry), &[]);
    }
}

impl StepPoint {
    fn of(step: &StepMeasurements, seconds: f64) -> Self {
        let answered = !step.latency.is_empty();
        let quantile = |q: f64| answered.then(|| step.latency.value_at_quantile(q) as f64 / 1000.0);
        Self {
            rps: step.outcomes.total() as f64 / seconds,
            errors_per_s: step.outcomes.errors() as f64 / seconds,
            p50_ms: quantile(0.5),
            p95_ms: quantile(0.95),
            p99_ms: quantile(0.99),
        }
    }
}
