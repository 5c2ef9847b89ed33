//! Fault injection: `[[faults]]` in a scenario (see [`crate::scenario::Fault`]) kill, pause or stop a backend instance
//! of the Docker stack at a point of the load and bring it back after a while; the
//! report then shows the error burst that followed and how long latency took to
//! recover.
//!
//! - `inject`: the task that carries the faults out on schedule, through the Docker API
//! - `analysis`: the error burst and recovery time, from the per-second series

mod analysis;
mod inject;

pub use analysis::{analyse, FaultReport};
pub use inject::{action_name, FaultEvent, Injector};
