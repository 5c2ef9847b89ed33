//! One step of the search: the scenario at a constant rate for warm-up + measurement,
//! reduced to what the measured seconds alone show (the warm-up's are discarded).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::distributed::{Generation, GenerationContext, GeneratorsConfig, Placement};
use crate::error::Result;
use crate::load::{self, LoadOptions, LoadRun, OpenReport};
use crate::metrics::{Collector, Measurements};
use crate::scenario::{LoadOverrides, Plan, Source};
use crate::slo::Verdict;
use crate::stop::Stop;
use crate::telemetry::{Aggregate, Sampler, SeriesName, Targets, Telemetry};

/// Achieved throughput may trail the offered rate by this much (iterations in flight
/// at the edges of the measured seconds) and still count as keeping up.
const KEEP_UP: f64 = 0.95;
/// Workers per iteration per second: enough that an instance past its capacity shows
/// queueing in latency before the harness runs out of workers.
const WORKER_SECONDS: f64 = 5.0;

/// What a step measured at one offered rate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// Iterations per second offered by the schedule.
    pub offered: f64,
    /// Seconds measured (the warm-up excluded).
    pub measured_s: f64,
    /// Iterations per second that completed every step, over the measured seconds.
    pub achieved: f64,
    /// Requests per second (every step).
    pub requests_per_s: f64,
    pub workers: usize,
    /// Response time from the intended start, all steps merged, in ms.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The step with the highest p95, and that p95.
    pub slowest_step: String,
    pub slowest_p95_ms: f64,
    pub error_rate: f64,
    /// Arrivals the schedule called for and never started; late starts.
    pub unserved: u64,
    pub late_starts: u64,
    /// Requests in flight at the server on average (Little's law: rate x service time).
    pub concurrency: f64,
    /// Backend CPU, summed over instances, in cores; and the busiest instance's share
    /// of its limit.
    pub backend_cpu_cores: Option<f64>,
    pub backend_cpu_percent: Option<f64>,
    /// The largest backend instance's peak memory (resident set), in bytes.
    #[serde(default)]
    pub backend_memory_bytes: Option<u64>,
    /// Most Postgres connections one backend instance held.
    pub db_connections_max: Option<u32>,
    /// Redis memory at the end of the step, and how much it grew while measured.
    pub redis_used_bytes: Option<u64>,
    pub redis_growth_bytes: Option<i64>,
    /// Redis `maxmemory` as configured (0 = none).
    pub redis_maxmemory_bytes: Option<u64>,
    /// Postgres `max_connections`.
    pub max_connections: Option<u32>,
    /// Cores the harness itself used.
    pub generator_cpu_cores: f64,
    pub sustainable: bool,
    /// Why the step did not hold (empty when it did).
    pub reasons: Vec<String>,
    /// A signal stopped the step: its figures are partial and it decides nothing.
    pub interrupted: bool,
}

/// What every step shares.
pub struct StepContext<'a> {
    pub source: &'a Source,
    /// SLOs each step must hold: the scenario's plus the seed's (`p95 < 500ms` per
    /// step, the error budget).
    pub checks: &'a [String],
    pub warmup: Duration,
    pub measure: Duration,
    pub max_workers: usize,
    pub targets: &'a Targets,
    pub load: &'a dyn Fn() -> LoadOptions,
    /// Each step's load on several generators (`--generators N`), else in this process.
    pub generators: Option<StepGenerators<'a>>,
    /// What stops a step's load (a signal).
    pub stop: Stop,
}

/// What a step needs to spread its load over generators.
pub struct StepGenerators<'a> {
    pub config: &'a GeneratorsConfig,
    pub placement: Placement,
}

/// Offers `rate` iterations per second and measures the steady state.
pub async fn measure(ctx: &StepContext<'_>, rate: f64) -> Result<StepResult> {
    let plan = Arc::new(step_plan(ctx, rate)?);
    let (run, telemetry, lost) = match &ctx.generators {
        None => {
            let collector = Arc::new(Collector::new(plan.step_keys()));
            let sampler = Sampler::start(ctx.targets.clone(), collector.clone());
            let run = load::run(plan.clone(), collector, (ctx.load)(), ctx.stop.clone()).await;
            let telemetry = sampler.finish().await;
            (run?, telemetry, false)
        }
        Some(generators) => on_generators(ctx, generators, &plan).await?,
    };
    let open = OpenReport::of(&plan, &run.measurements);
    let measured = Measured::new(ctx, &plan, &run.measurements, telemetry);
    let mut result = measured.reduce(rate, open.as_ref(), run.ending.by_signal());
    if lost {
        result
            .reasons
            .push("a load generator was lost: part of the load is missing".into());
        result.sustainable = false;
    }
    Ok(result)
}

/// The step's load spread over generators, merged; whether one was lost.
async fn on_generators(
    ctx: &StepContext<'_>,
    generators: &StepGenerators<'_>,
    plan: &Plan,
) -> Result<(LoadRun, Telemetry, bool)> {
    let options = (ctx.load)();
    let context = GenerationContext {
        scenario: crate::distributed::scenario_text(ctx.source),
        options: &options,
        placement: &generators.placement,
    };
    let Some(generation) = Generation::start(generators.config, plan, context, ctx.stop.stopped()).await?
    else {
        // A signal before every generator registered: nothing measured.
        let run = LoadRun {
            measurements: Measurements::empty(&plan.step_keys()),
            ending: ctx.stop.ending(),
        };
        return Ok((run, Telemetry::default(), false));
    };
    let sampler = Sampler::start(ctx.targets.clone(), generation.collector.clone());
    let (run, finished) = generation.finish(true, &ctx.stop).await;
    let telemetry = sampler.finish().await;
    Ok((run, telemetry, finished.incomplete))
}

/// The scenario with its load replaced by `rate` for the step's whole length.
fn step_plan(ctx: &StepContext<'_>, rate: f64) -> Result<Plan> {
    let overrides = LoadOverrides {
        rate: Some(format!("{rate}/s")),
        duration: Some(ctx.warmup + ctx.measure),
        max_workers: Some(ctx.max_workers),
        workers: Some(((rate * WORKER_SECONDS).ceil() as usize + 1).min(ctx.max_workers.max(1))),
        increase_rate: Some(0.0),
        ..Default::default()
    };
    Plan::build(ctx.source, &overrides, ctx.checks)
}

/// The measured seconds of one step, per scenario step, with their telemetry.
struct Measured<'a> {
    plan: &'a Plan,
    /// Only the measured seconds (the warm-up's are discarded).
    measured: Measurements,
    /// Mean service time of each step over the whole step (warm-up included), in s.
    service_s: Vec<f64>,
    telemetry: Telemetry,
}

impl<'a> Measured<'a> {
    fn new(ctx: &StepContext<'_>, plan: &'a Plan, whole: &Measurements, mut telemetry: Telemetry) -> Self {
        let from = ctx.warmup.as_secs();
        let to = from + ctx.measure.as_secs().max(1) - 1;
        telemetry.samples.retain(|s| (from..=to).contains(&s.second));
        Self {
            plan,
            measured: whole.seconds(from..=to),
            service_s: whole.steps.iter().map(|s| s.service.mean() / 1e6).collect(),
            telemetry,
        }
    }

    fn reduce(&self, rate: f64, open: Option<&OpenReport>, interrupted: bool) -> StepResult {
        let seconds = self.measured.elapsed.as_secs_f64();
        let merged = self.measured.all_steps();
        let ms = |q: f64| merged.latency.value_at_quantile(q) as f64 / 1000.0;
        let slowest = self
            .measured
            .steps
            .iter()
            .max_by_key(|s| s.latency.value_at_quantile(0.95))
            .map(|s| (s.name.clone(), s.latency.value_at_quantile(0.95) as f64 / 1000.0))
            .unwrap_or_default();
        let total = merged.outcomes.total();
        let mut result = StepResult {
            offered: rate,
            measured_s: seconds,
            achieved: self.completed_iterations() as f64 / seconds,
            requests_per_s: total as f64 / seconds,
            workers: open.map_or(0, |o| o.workers),
            p50_ms: ms(0.5),
            p95_ms: ms(0.95),
            p99_ms: ms(0.99),
            max_ms: merged.latency.max() as f64 / 1000.0,
            slowest_step: slowest.0,
            slowest_p95_ms: slowest.1,
            error_rate: merged.outcomes.errors() as f64 / total.max(1) as f64,
            unserved: open.map_or(0, |o| o.unserved),
            late_starts: open.map_or(0, |o| o.late_starts),
            concurrency: self.concurrency(),
            generator_cpu_cores: open.map_or(0.0, |o| o.generator_cpu_cores),
            sustainable: false,
            reasons: Vec::new(),
            interrupted,
            ..self.infrastructure()
        };
        result.reasons = self.reasons(&result, open);
        result.sustainable = !interrupted && result.reasons.is_empty();
        result
    }

    /// Iterations whose last step succeeded, over every kind of user.
    fn completed_iterations(&self) -> u64 {
        self.plan
            .kinds
            .iter()
            .filter(|kind| kind.len > 0)
            .map(|kind| self.measured.steps[kind.first + kind.len - 1].outcomes.ok)
            .sum()
    }

    fn concurrency(&self) -> f64 {
        let seconds = self.measured.elapsed.as_secs_f64();
        self.measured
            .steps
            .iter()
            .zip(&self.service_s)
            .map(|(step, service)| step.outcomes.total() as f64 / seconds * service)
            .sum()
    }

    /// The telemetry of the measured seconds, reduced.
    fn infrastructure(&self) -> StepResult {
        let t = &self.telemetry;
        let demand: Vec<f64> = t.cpu_demand().into_iter().map(|(_, v)| v).collect();
        let redis: Vec<_> = t.samples.iter().filter_map(|s| s.redis.as_ref()).collect();
        StepResult {
            backend_cpu_cores: Aggregate::Mean.apply(&demand).map(|d| d * t.cpu_limit_cores),
            backend_cpu_percent: Aggregate::Mean
                .apply(&t.values(SeriesName::BackendCpu))
                .map(|fraction| fraction * 100.0),
            backend_memory_bytes: Aggregate::Max
                .apply(&t.values(SeriesName::BackendMemory))
                .map(|fraction| (fraction * t.memory_limit_bytes as f64) as u64),
            db_connections_max: Aggregate::Max
                .apply(&t.values(SeriesName::DbConnections))
                .map(|max| max as u32),
            redis_used_bytes: redis.last().map(|r| r.used_memory_bytes),
            redis_growth_bytes: match (redis.first(), redis.last()) {
                (Some(a), Some(b)) => Some(b.used_memory_bytes as i64 - a.used_memory_bytes as i64),
                _ => None,
            },
            redis_maxmemory_bytes: redis.last().map(|r| r.maxmemory_bytes),
            max_connections: t.max_connections,
            ..Default::default()
        }
    }

    /// Every way the step fell short: throughput, unserved arrivals, failed SLOs.
    fn reasons(&self, result: &StepResult, open: Option<&OpenReport>) -> Vec<String> {
        let mut reasons = Vec::new();
        // One iteration of slack: the measured seconds cut iterations at both edges.
        let completed = result.achieved * result.measured_s;
        if completed + 1.0 < KEEP_UP * result.offered * result.measured_s {
            reasons.push(format!(
                "throughput {:.1}/s fell behind the offered {:.1}/s",
                result.achieved, result.offered
            ));
        }
        let scheduled = open.map_or(0, |o| o.scheduled);
        if result.unserved > (scheduled / 100).max(1) {
            reasons.push(format!(
                "{} of {scheduled} arrivals found no free worker",
                result.unserved
            ));
        }
        let verdicts = crate::slo::evaluate(&self.plan.slos, &self.measured, Some(&self.telemetry), &[]);
        reasons.extend(verdicts.iter().filter(|v| !v.pass).map(failed_slo));
        reasons
    }
}

fn failed_slo(verdict: &Verdict) -> String {
    match verdict.observed {
        Some(value) => format!("{}: observed {value:.1}{}", verdict.expr, verdict.unit),
        None => format!("{}: nothing measured", verdict.expr),
    }
}
