//! Measurement: how requests end, the live [`Collector`] of per-step histograms, and
//! [`Measurements`], what one load run measured, lossless to save and exact to merge.

mod codec;
mod collector;
mod exemplars;
mod failures;
mod gaps;
mod measurements;
mod outcome;
mod second;

pub use collector::{Collector, DeltaCursor, Window};
pub use exemplars::{Exemplar, Exemplars, Sighting};
pub use failures::{sanitise, Failure, Failures};
pub use gaps::{Gap, Silences};
pub use measurements::{Interval, Measurements, Schedule, SecondStats, StepMeasurements};
pub use outcome::{OutcomeCounts, RequestOutcome};
