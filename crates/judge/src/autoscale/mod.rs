//! What the seed's autoscaling would have done during a run: when each scale-out
//! trigger fires (`triggers`) and how a Kubernetes HPA would size the backend (`hpa`),
//! pure functions over the run's series tested without a clock; and the
//! [`Infrastructure`] figures of a run those are judged on (`infrastructure`).

mod hpa;
mod infrastructure;
mod triggers;

pub use hpa::{simulate, HpaPolicy, HpaSimulation};
pub use infrastructure::{response_time_ms, Infrastructure, InstanceReport};
pub use triggers::{timeline, Trigger, TriggerReport};
