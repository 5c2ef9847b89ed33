//! karigar-perf's importer: a recorded session (a browser's HAR, "Copy as cURL"
//! commands) -> a scenario file that runs as new users, not as a replay. It reads and
//! writes text; the harness validates the scenario before writing it.
//!
//! - [`import`]: the readers, the inference (captures, unique emails, secrets as
//!   `[vars]`) and the scenario file

pub mod import;

// The scenario model under the name the whole harness uses, for the tests that parse
// what the importer writes.
#[cfg(test)]
pub(crate) use karigar_perf_model::scenario;
