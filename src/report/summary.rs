//! The run's summary: plain serde data that every renderer reads and that
//! `summary.json` stores (snake_case throughout).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::distributed::GeneratorReport;
use crate::stack::TargetInfo;

use super::comparison::Comparison;
use crate::autoscale::Infrastructure;
use crate::faults::FaultReport;
use crate::load::OpenReport;
use crate::metrics::{Exemplars, Failures, Measurements, OutcomeCounts, SecondStats, StepMeasurements};
use crate::scenario::Plan;
use crate::seed::SeedReport;
use crate::server_logs::ServerLogs;
use crate::slo::Verdict;
use crate::telemetry::Telemetry;

/// Bumped when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunVerdict {
    Pass,
    Fail,
    /// Stopped early; the figures are partial and no SLO verdict is given.
    Interrupted,
    /// A load generator died or fell silent: part of the load is missing, so no SLO
    /// verdict is given (see `generators`).
    Incomplete,
}

impl Summary {
    /// Whether a baseline comparison found the run slower.
    pub fn regressed(&self) -> bool {
        self.comparison.as_ref().is_some_and(|c| c.regression)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    pub run_id: String,
    pub scenario: String,
    pub scenario_file: String,
    pub verdict: RunVerdict,
    pub interrupted: bool,
    /// Why the load was stopped early by an SLO (`abort_after`), when it was.
    #[serde(default)]
    pub aborted: Option<String>,
    /// RFC 3339, when the load started.
    pub started_at: String,
    /// Measured load duration in seconds.
    pub duration_s: f64,
    pub target: TargetInfo,
    pub load: LoadInfo,
    /// All steps together.
    pub totals: StepSummary,
    pub steps: Vec<StepSummary>,
    pub slos: Vec<Verdict>,
    /// Telemetry reduced to the seed's figures, triggers and the HPA simulation.
    pub infrastructure: Option<Infrastructure>,
    /// The per-second telemetry samples.
    pub telemetry: Option<Telemetry>,
    /// The dataset seeded before the load (`--seed-providers`), when there was one.
    #[serde(default)]
    pub dataset: Option<SeedReport>,
    /// The comparison with a baseline run, when one was given.
    #[serde(default)]
    pub comparison: Option<Comparison>,
    /// Faults injected during the run and what each did.
    #[serde(default)]
    pub faults: Vec<crate::faults::FaultReport>,
    /// The open model's schedule and how it was kept (`--rate`).
    #[serde(default)]
    pub open_model: Option<OpenReport>,
    /// Each load generator of a run on several (`--generators`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generators: Vec<GeneratorReport>,
    /// What the figures may hide (coordinated omission in a closed-model run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The stack's log lines of the requests the steps name (a stack the harness ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_logs: Option<ServerLogs>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoadInfo {
    /// `closed` (users in a loop) or `open` (iterations on a schedule, `--rate`).
    pub model: String,
    /// The open model's rate, e.g. `50/s`.
    #[serde(default)]
    pub rate: Option<String>,
    pub users: usize,
    pub increase_rate: f64,
    pub duration_s: f64,
    pub test_plan: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepSummary {
    pub name: String,
    /// Requests sent (every outcome).
    pub count: u64,
    /// Requests whose outcome was not `ok`.
    pub errors: u64,
    /// Iterations in which the step did not run because an earlier one failed.
    pub skipped: u64,
    pub error_rate: f64,
    pub rps: f64,
    pub outcomes: OutcomeCounts,
    /// Latency of answered requests in microseconds: the response time from the
    /// intended start under the open model (`--rate`), else the service time.
    pub latency_us: Latency,
    /// Service time (send to last byte), in microseconds.
    #[serde(default)]
    pub service_us: Latency,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SecondStats>,
    /// The first distinct failures: kind, count, first seen, the answer's first bytes.
    #[serde(default, skip_serializing_if = "Failures::is_empty")]
    pub failures: Failures,
    /// The slowest requests and the first failed ones, by id, to look up in the logs.
    #[serde(default, skip_serializing_if = "Exemplars::is_empty")]
    pub exemplars: Exemplars,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    pub p95: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

/// What the summary says about where and how the run happened, besides what was
/// measured.
pub struct RunFacts {
    pub run_id: String,
    pub started_at: String,
    pub target: TargetInfo,
    pub interrupted: bool,
    /// Why an SLO stopped the load early (`abort_after`), when one did.
    pub aborted: Option<String>,
    /// The dataset seeded before the load.
    pub dataset: Option<SeedReport>,
    /// Faults injected and deploys carried out while the load ran, and their effect.
    pub faults: Vec<FaultReport>,
    /// The comparison with a baseline run.
    pub comparison: Option<Comparison>,
    /// The generators of a run on several (empty for one process).
    pub generators: Vec<GeneratorReport>,
    /// The stack's log lines of the requests the steps name.
    pub server_logs: Option<ServerLogs>,
}

impl RunFacts {
    /// A run that went to `target`, with nothing else to tell yet.
    pub fn new(run_id: String, started_at: String, target: TargetInfo) -> Self {
        Self {
            run_id,
            started_at,
            target,
            interrupted: false,
            aborted: None,
            dataset: None,
            faults: Vec::new(),
            comparison: None,
            generators: Vec::new(),
            server_logs: None,
        }
    }
}

impl Summary {
    /// The whole summary, in one call: nothing is set afterwards.
    pub fn build(
        plan: &Plan,
        measured: &Measurements,
        telemetry: Option<&Telemetry>,
        slos: Vec<Verdict>,
        facts: RunFacts,
    ) -> Self {
        let seconds = measured.elapsed.as_secs_f64();
        let verdict = if facts.interrupted {
            RunVerdict::Interrupted
        } else if facts.generators.iter().any(|g| !g.complete) {
            RunVerdict::Incomplete
        } else if facts.aborted.is_none()
            && slos.iter().all(|v| v.pass)
            && facts.faults.iter().all(FaultReport::deploy_held)
        {
            RunVerdict::Pass
        } else {
            RunVerdict::Fail
        };
        Self {
            schema_version: SCHEMA_VERSION,
            run_id: facts.run_id,
            scenario: plan.name.clone(),
            scenario_file: plan.origin.clone(),
            verdict,
            interrupted: facts.interrupted,
            aborted: facts.aborted,
            started_at: facts.started_at,
            duration_s: seconds,
            target: facts.target,
            load: LoadInfo::of(plan),
            totals: StepSummary::of(&measured.all_steps(), seconds),
            steps: measured
                .steps
                .iter()
                .map(|s| StepSummary::of(s, seconds))
                .collect(),
            slos,
            infrastructure: telemetry.map(|t| Infrastructure::new(t, measured)),
            telemetry: telemetry.cloned(),
            dataset: facts.dataset,
            comparison: facts.comparison,
            faults: facts.faults,
            open_model: OpenReport::of(plan, measured),
            generators: facts.generators,
            warnings: super::omission::warning(measured).into_iter().collect(),
            server_logs: facts.server_logs,
        }
    }
}

impl LoadInfo {
    fn of(plan: &Plan) -> Self {
        let load = &plan.load;
        Self {
            model: if load.open.is_some() { "open" } else { "closed" }.into(),
            rate: load.open.map(|open| crate::load::rate_text(&open.rate)),
            users: load.users,
            increase_rate: load.increase_rate,
            duration_s: load.duration.as_secs_f64(),
            test_plan: load.test_plan.clone(),
        }
    }
}

impl StepSummary {
    /// A step's figures over `seconds` of load.
    pub fn of(step: &StepMeasurements, seconds: f64) -> Self {
        let count = step.outcomes.total();
        let errors = step.outcomes.errors();
        Self {
            name: step.name.clone(),
            count,
            errors,
            skipped: step.skipped,
            error_rate: if count == 0 {
                0.0
            } else {
                errors as f64 / count as f64
            },
            rps: if seconds > 0.0 {
                count as f64 / seconds
            } else {
                0.0
            },
            outcomes: step.outcomes,
            latency_us: Latency::of(&step.latency),
            service_us: Latency::of(&step.service),
            series: step.series(),
            failures: step.failures.clone(),
            exemplars: step.exemplars.clone(),
        }
    }
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p95: h.value_at_quantile(0.95),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        }
    }
}
