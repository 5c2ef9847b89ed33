//! karigar-perf's stack under test: local processes, Docker containers (testcontainers)
//! or an existing deployment, behind one guard that tears it down; the telemetry sampled
//! from outside while the load runs; the faults and deploys carried out on it. Nothing
//! here runs load: the engine's clients only check that a target answers.
//!
//! - [`stack`]: the stack under test: local processes, Docker containers or an external
//!   target, behind a guard; installs the local servers' packages when allowed
//! - [`telemetry`]: 1 Hz samplers of backend CPU/memory, Postgres, Redis, health and
//!   in-flight, from the stack's parts, from the processes, containers and stores a user
//!   names, or from Prometheus by PromQL
//! - [`faults`]: kill, pause or stop a backend instance mid-run, or deploy the whole
//!   backend (rolling restart, blue-green, rollback); the error burst, detection and
//!   recovery, and what a deploy dropped

pub mod faults;
pub mod stack;
pub mod telemetry;

// The lower crates' modules under the names the whole harness uses.
pub(crate) use karigar_perf_engine::client;
pub(crate) use karigar_perf_model::{console, cpu, error, http, metrics, policy, samples, scenario};
