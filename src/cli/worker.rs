//! `--generators N` and `worker`: load from many generators.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::*;

/// Load from several generator processes, merged exactly (`--generators N`).
#[derive(Debug, Args)]
pub struct GeneratorArgs {
    /// Spread the load over N generators, coordinated by this process (default: the
    /// load runs in this process).
    #[arg(long, value_name = "N", env = "KARIGAR_PERF_GENERATORS", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub generators: Option<u16>,

    /// Where the generators run.
    #[arg(
        long,
        value_enum,
        default_value = "local",
        env = "KARIGAR_PERF_ENGINE",
        requires = "generators"
    )]
    pub engine: EngineChoice,

    /// Where the coordinator listens for its generators (default: 127.0.0.1, a free
    /// port); e.g. 0.0.0.0:7878 inside a Kubernetes pod.
    #[arg(
        long,
        value_name = "ADDR",
        env = "KARIGAR_PERF_COORDINATOR_LISTEN",
        requires = "generators"
    )]
    pub coordinator_listen: Option<std::net::SocketAddr>,

    /// An image with the harness in it for Swarm tasks (default: the local runtime image
    /// with this binary mounted, which works on a one-node swarm).
    #[arg(long, env = "KARIGAR_PERF_GENERATOR_IMAGE", requires = "generators")]
    pub image: Option<String>,

    /// How long every generator has to register.
    #[arg(long, default_value = "60s", value_parser = parse_duration, requires = "generators")]
    pub register_timeout: Duration,
}

/// `karigar-perf worker`: one load generator of a coordinated run.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The coordinator's URL, e.g. http://127.0.0.1:41234.
    #[arg(long, env = "KARIGAR_PERF_COORDINATOR")]
    pub coordinator: String,

    /// This generator's name in reports (default: the host name and pid).
    #[arg(long, env = "KARIGAR_PERF_WORKER_NAME")]
    pub name: Option<String>,

    /// A file holding the run's token (else KARIGAR_PERF_RUN_TOKEN).
    #[arg(long, env = "KARIGAR_PERF_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,

    /// A file of NAME=VALUE lines the HTTP settings' ${VAR}s are read from before the
    /// environment (a secret its engine mounted).
    #[arg(long, value_name = "FILE", env = "KARIGAR_PERF_ENV_FILE")]
    pub env_file: Option<PathBuf>,

    /// Also keep what this generator measured in DIR, for `karigar-perf merge`.
    #[arg(long, value_name = "DIR", env = "KARIGAR_PERF_WORKER_OUTPUT")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub progress: Quiet,
}

choice! {
    /// `--engine`.
    EngineChoice => crate::distributed::EngineKind {
        /// Worker processes of this executable on this machine.
        Local,
        /// A Docker Swarm service with one replica per generator.
        Swarm,
        /// Started by someone else (a Kubernetes Job, say): only wait for them.
        External,
    }
}
