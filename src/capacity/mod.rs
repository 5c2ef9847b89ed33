//! How much load one backend instance holds inside the SLO: steps of constant
//! open-model rate ([`measure`]), grown geometrically until one breaks a check and then
//! bisected ([`Search`]), reduced to a knee, a USL fit, a CPU model with an independent
//! estimate, and a sizing for a target rate ([`analyse`]). The `capacity` command drives
//! it; its report (`capacity.json`) is [`CapacityReport`], rendered by [`crate::report`].
//!
//! - `step`: one step: the scenario at one rate, warm-up discarded, reduced
//! - `search`: the rates to try, a pure state machine
//! - `knee`, `usl`: the curve's knee (Kneedle) and the Universal Scalability Law fit
//! - `sizing`: replicas, DB connections and Redis memory for a target rate
//! - `analysis`: the steps so far -> findings and a one-line verdict

mod analysis;
mod knee;
mod report;
mod search;
mod sizing;
mod step;
mod usl;

use std::time::Duration;

pub use analysis::{analyse, verdict, Context, CrossCheck, Findings, Knee};
pub use report::{CapacityReport, CapacitySettings, CAPACITY_SCHEMA_VERSION};
pub use search::{Search, SearchSettings};
pub use sizing::{CpuModel, DbBudget, RedisProjection, Sizing};
pub use step::{measure, StepContext, StepGenerators, StepResult};
pub use usl::UslFit;

use crate::policy;
use crate::scenario::Plan;

/// The search as resolved from the flags and the scenario.
#[derive(Clone, Debug)]
pub struct SearchPlan {
    pub search: SearchSettings,
    /// Warm-up of each step, run but not measured, and its measured length.
    pub warmup: Duration,
    pub measure: Duration,
    pub max_steps: usize,
    /// Share of failed requests a step may have and still hold.
    pub error_budget: f64,
    /// Every check a step must pass (the scenario's SLOs and the seed's).
    pub checks: Vec<String>,
    /// Iterations per second the deployment must hold, for the sizing.
    pub target_rate: Option<f64>,
    /// Most open-model workers a step starts.
    pub max_workers: usize,
}

/// The seed's checks the scenario does not already make: p95 under 500 ms for every
/// step, and the error budget.
pub fn checks(plan: &Plan, error_budget: f64) -> Vec<String> {
    let has = |predicate: &dyn Fn(&crate::slo::SloExpr) -> bool| plan.slos.iter().any(predicate);
    let mut checks: Vec<String> = plan
        .step_names()
        .into_iter()
        .filter(|name| {
            !has(&|slo| {
                slo.step.as_ref() == Some(name)
                    && matches!(slo.metric, crate::slo::Metric::Percentile(q) if q == 0.95)
            })
        })
        .map(|name| format!("p95({name}) < {}ms", policy::RESPONSE_MS))
        .collect();
    checks.push(format!("error_rate < {}%", error_budget * 100.0));
    checks
}
