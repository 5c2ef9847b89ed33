//! What the seed's autoscaling would have done during a run: when each scale-out
//! trigger fires ([`triggers`]) and how a Kubernetes HPA would size the backend
//! ([`hpa`]). Pure functions over the run's series, tested without a clock.

pub mod hpa;
pub mod triggers;

pub use hpa::{simulate, HpaPolicy, HpaSimulation};
pub use triggers::{timeline, Trigger, TriggerReport};
