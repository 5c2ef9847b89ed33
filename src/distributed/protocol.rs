//! What coordinator and generators say to each other: JSON over HTTP, every call with
//! the run's token as a bearer token. A generator registers (with its clock's offset),
//! gets its assignment and the start instant once every generator has registered, then
//! reports what it measured every second until it is done; each answer says whether to
//! stop.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::split::Segment;
use crate::load::Clients;
use crate::metrics::Measurements;
use crate::scenario::Arrivals;

/// The environment variable that carries the run's token to a generator (never a flag:
/// flags show in process lists).
pub const TOKEN_ENV: &str = "KARIGAR_PERF_RUN_TOKEN";
/// A generator that cannot reach its coordinator for this long stops its load and exits.
pub const COORDINATOR_LOST_S: u64 = 5;
/// A generator silent for this long is taken for dead.
pub const GENERATOR_LOST_S: u64 = 5;

/// `POST /register`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Registration {
    /// How the engine names it (`local-2`, a Swarm task slot, a pod's index).
    pub name: String,
    pub pid: u32,
    /// Coordinator clock minus generator clock, in ms, and the round trip it was
    /// measured over.
    pub clock_offset_ms: f64,
    pub rtt_ms: f64,
}

/// The answer to a registration, once every generator has registered.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Assignment {
    pub segment: Segment,
    pub scenario: ScenarioText,
    /// The run's load as the coordinator resolved it; the segment narrows it.
    pub load: WireLoad,
    pub backend_url: String,
    pub frontend_url: Option<String>,
    /// Part of every unique value of the run.
    pub run_tag: String,
    pub clients: Clients,
    /// TLS, routing and headers as they travel ([`crate::http::Travelling`]: `${VAR}`s
    /// and paths unresolved, literal values in variables of their own): each generator
    /// resolves them in the environment its engine gave it, so no secret crosses the wire.
    #[serde(default)]
    pub http: crate::http::HttpOptions,
    /// When the load starts, in ms since the epoch by the coordinator's clock.
    pub t0_unix_ms: u64,
}

/// A scenario file as the coordinator read it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioText {
    pub origin: String,
    pub text: String,
    /// Where its data files are (the same path on every generator of this machine).
    pub dir: Option<PathBuf>,
}

/// The resolved load, in the words of the command line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireLoad {
    pub duration_ms: u64,
    pub increase_rate: f64,
    pub rate: Option<String>,
    pub arrivals: Option<Arrivals>,
}

/// `POST /report/INDEX`: what was measured since the last report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub delta: Measurements,
    /// Every second before this one is in this report or an earlier one.
    pub closed_until: u64,
    /// The load has ended: nothing follows.
    pub done: bool,
    /// The most requests it had in flight at once since the last report.
    pub in_flight_peak: u64,
}

/// The answer to a report.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Ack {
    /// Stop the load now (Ctrl-C, an SLO's abort, the run's end).
    pub stop: bool,
}

/// `GET /clock`: the coordinator's time, for the offset estimate.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Clock {
    pub unix_ms: f64,
}

/// Now, in ms since the epoch, with a fraction.
pub fn unix_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
