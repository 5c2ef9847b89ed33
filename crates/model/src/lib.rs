//! karigar-perf's lowest layer: what every other crate of the harness reads and none of
//! them may be read by. It builds no HTTP client, starts no stack and renders no report.
//!
//! - [`scenario`]: TOML scenario files -> validated [`scenario::Plan`]; templates, pools,
//!   the load profile, faults and the stack a scenario needs
//! - [`accounts`]: the seeded accounts' emails and password
//! - [`exit`], [`error`]: exit codes and the errors that map to them
//! - [`policy`]: every threshold the seed states, in one place
//! - [`http`]: how requests reach a deployment, as settings: TLS files, `--resolve`,
//!   default headers and basic auth, HTTP/2 (the clients are built above)
//! - [`metrics`]: outcome classes, the live [`metrics::Collector`] and
//!   [`metrics::Measurements`], lossless to save and exact to merge
//! - [`samples`]: what the telemetry samplers saw, as data, and named series over it
//! - [`slo`]: SLO expressions, their verdicts over a run, sliding windows
//! - [`stats`]: median, mean and spread, Mann-Whitney U, Student's t quantiles
//! - [`cpu`]: CPU time of a process from `/proc`, and as a percentage of a limit
//! - [`console`]: status lines on stderr, apart from the results on stdout

pub mod accounts;
pub mod console;
pub mod cpu;
pub mod error;
pub mod exit;
pub mod http;
pub mod metrics;
pub mod policy;
pub mod samples;
pub mod scenario;
pub mod slo;
pub mod stats;
