//! Fault injection and deploys: `[[faults]]` in a scenario (see
//! [`crate::scenario::Fault`]) kill, pause or stop a backend instance of the Docker
//! stack at a point of the load and bring it back after a while, or deploy the whole
//! backend (rolling restart, blue-green, rollback) behind its balancer; the report
//! then shows the error burst that followed, how soon the balancer noticed, how long
//! latency took to recover, and for a deploy how many requests failed.
//!
//! - `inject`: the task that carries the schedule out, through the Docker API
//! - `deploy`: the deploy procedures, step by step
//! - `analysis`: the figures, from the per-second series, the silences between
//!   successes and the balancer's access log

mod analysis;
mod deploy;
mod inject;

pub use analysis::{analyse, DeployFigures, Detection, Evidence, FaultReport};
pub use deploy::Mark;
pub use inject::{Backends, FaultEvent, Injector};
