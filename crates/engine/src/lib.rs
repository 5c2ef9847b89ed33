//! karigar-perf's load engine: a validated plan run as virtual users (Goose, the closed
//! model) or as arrivals on a schedule (the open model's pacer), each request recorded
//! into the model's collector. It knows no stack: where the load goes comes in as URLs
//! and HTTP settings, and what a drill wants of each request as a hook.
//!
//! - [`load`]: Goose wiring, per-step execution, the open model's pacer, progress line
//! - [`client`]: the HTTP clients of the load and the reachability probes, built from
//!   the run's settings
//! - [`transport`]: a request sent and its whole answer read, on the user's own
//!   HTTP/1.1 connections or through `reqwest`
//! - [`stop`]: one stop signal for a load, with its reason, handed back as a value
//! - [`tls`]: the TLS configuration of every client, its trusted roots read once

pub mod client;
pub mod load;
pub mod stop;
pub mod tls;
pub mod transport;

// The model's modules under the names the whole harness uses.
pub(crate) use karigar_perf_model::{cpu, error, http, metrics, scenario};
