//! karigar-perf's judgements: what a run's measurements and telemetry say against the
//! seed's thresholds, as data for the reports to render. It reads what a run saw and
//! starts nothing.
//!
//! - [`autoscale`]: the seed's scale-out triggers, an HPA simulation over a run, and the
//!   infrastructure figures they are judged on

pub mod autoscale;

// The model's modules under the names the whole harness uses.
pub(crate) use karigar_perf_model::{metrics, policy, samples};
