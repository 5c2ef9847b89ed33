//! `scenario`: one run of a scenario, and the live view beside it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::*;

#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// A scenario name (./scenarios/NAME.toml, or built in) or a path to a TOML file.
    pub scenario: String,

    /// Virtual users (closed model: each runs the steps in a loop).
    #[arg(long, env = "KARIGAR_PERF_USERS")]
    pub users: Option<usize>,

    /// Users started per second (default: all at once).
    #[arg(long, env = "KARIGAR_PERF_INCREASE_RATE")]
    pub increase_rate: Option<f64>,

    /// How long the load runs once every user has started, e.g. 30s, 2m.
    #[arg(long, env = "KARIGAR_PERF_DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// A Goose test plan for ramps, "USERS,TIME;...", e.g. "10,10s;10,1m;0,5s".
    #[arg(long, env = "KARIGAR_PERF_TEST_PLAN")]
    pub test_plan: Option<String>,

    /// Open model: start iterations on a schedule, "50/s" or "10/s..200/s over 5m";
    /// latency then counts from each iteration's intended start.
    #[arg(long, env = "KARIGAR_PERF_RATE", conflicts_with_all = ["users", "test_plan"])]
    pub rate: Option<String>,

    /// How scheduled iterations are spaced (open model).
    #[arg(long, value_enum, env = "KARIGAR_PERF_ARRIVALS")]
    pub arrivals: Option<ArrivalsChoice>,

    /// Most workers the open model starts (by Little's law: the peak rate times 1 s).
    #[arg(long, value_name = "N", env = "KARIGAR_PERF_MAX_WORKERS")]
    pub max_workers: Option<usize>,

    /// Exactly this many open-model workers, instead of Little's law (e.g. for a
    /// server known to stall longer than a second).
    #[arg(
        long,
        value_name = "N",
        env = "KARIGAR_PERF_WORKERS",
        requires = "rate",
        conflicts_with = "max_workers"
    )]
    pub workers: Option<usize>,

    /// Cookies: none kept (shared), or each virtual user its own cookie jar, as a browser
    /// (per-user); plain HTTP goes on each user's own kept-alive connection either way.
    #[arg(long, value_enum, default_value = "shared", env = "KARIGAR_PERF_CLIENTS")]
    pub clients: ClientsChoice,

    /// An extra SLO, e.g. 'p95(register) < 500ms' (repeatable).
    #[arg(long = "slo", value_name = "EXPR")]
    pub slos: Vec<String>,

    #[command(flatten)]
    pub stack: StackArgs,

    /// Stop the load once a windowed SLO is breached in N consecutive windows (exit 3).
    #[arg(long, value_name = "N", env = "KARIGAR_PERF_ABORT_AFTER")]
    pub abort_after: Option<u32>,

    /// A baseline: one run's summary.json, or a folder (or several files) of earlier
    /// runs of the same scenario, a history; exit 4 when this run is slower beyond noise
    /// (repeatable).
    #[arg(long, env = "KARIGAR_PERF_BASELINE", value_delimiter = ',')]
    pub baseline: Vec<PathBuf>,

    /// After the run, add it to the history in DIR (its summary as DIR/RUN-ID/summary.json)
    /// unless it was interrupted, lost a generator or regressed: how a gate's history
    /// grows build by build (often the --baseline folder).
    #[arg(long, value_name = "DIR", env = "KARIGAR_PERF_ADD_TO_HISTORY")]
    pub add_to_history: Option<PathBuf>,

    #[command(flatten)]
    pub gate: GateArgs,

    #[command(flatten)]
    pub generators: GeneratorArgs,

    #[command(flatten)]
    pub live: LiveArgs,

    #[command(flatten)]
    pub reports: ReportDir,

    #[command(flatten)]
    pub progress: Quiet,
}

/// The run while it lasts: a dashboard, `/metrics`, remote write.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Serve a live dashboard (latency, throughput, errors, telemetry, SLOs) while the
    /// run lasts, then its final report (ADDR default: 127.0.0.1:5665).
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:5665")]
    pub dashboard: Option<std::net::SocketAddr>,

    /// How long the dashboard keeps serving the final report after the run.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub dashboard_linger: Duration,

    /// Serve OpenMetrics at ADDR/metrics while the run lasts, for Prometheus to scrape,
    /// e.g. 127.0.0.1:9464.
    #[arg(long, value_name = "ADDR", env = "KARIGAR_PERF_PROMETHEUS_LISTEN")]
    pub prometheus_listen: Option<std::net::SocketAddr>,

    /// Push the same series to a Prometheus remote-write receiver every 5 s, e.g.
    /// http://127.0.0.1:9090/api/v1/write.
    #[arg(long, value_name = "URL", env = "KARIGAR_PERF_REMOTE_WRITE")]
    pub remote_write: Option<String>,
}

choice! {
    /// `--arrivals`.
    ArrivalsChoice => crate::scenario::Arrivals {
        /// Evenly, as a timer would.
        Constant,
        /// At random, as independent users arrive (exponential gaps, same mean rate).
        Poisson,
    }
}

choice! {
    /// `--clients`.
    ClientsChoice => crate::load::Clients {
        /// No cookies kept: plain HTTP/1.1 goes on each user's own kept-alive connection,
        /// TLS and HTTP/2 through one pool shared by every user (about 60 KB a user).
        Shared,
        /// Each user keeps the cookies its answers set and sends them back, as a browser
        /// keeps its session: plain HTTP/1.1 on its own connections, TLS and HTTP/2 through
        /// a client of its own.
        PerUser,
    }
}
