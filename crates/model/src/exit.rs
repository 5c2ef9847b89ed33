//! Exit codes. Documented in the README; scripts and CI gates rely on them.

/// Every SLO held.
pub const PASS: u8 = 0;
/// A bug or an environment failure in the harness itself.
pub const INTERNAL: u8 = 1;
/// Bad usage or configuration: flags, scenario file, SLO names.
pub const CONFIG: u8 = 2;
/// The run completed and at least one SLO was breached.
pub const SLO_BREACH: u8 = 3;
/// Every SLO held, but the run is slower than its baseline beyond noise.
pub const REGRESSION: u8 = 4;
/// The stack could not be started, or the target is unreachable.
pub const STACK: u8 = 5;
/// A load generator died or fell silent: the report marks what is missing.
pub const INCOMPLETE: u8 = 6;
/// Stopped by Ctrl-C or SIGTERM; a partial report was written.
pub const INTERRUPTED: u8 = 130;
