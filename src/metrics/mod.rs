//! Measurement: outcome classes and the live [`Collector`] of per-step histograms.

mod collector;
mod outcome;

pub use collector::{Collector, SecondStats, Snapshot, StepSnapshot, Window};
pub use outcome::{Outcome, OutcomeCounts};
