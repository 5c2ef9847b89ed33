//! Where the load goes (`--stack`, `--target`, the Docker stack's images and sizes, what to watch), and `stack up` / `stack down`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::*;

/// Where the load goes: the stack the harness starts (or an existing target), how it
/// is measured and what it is seeded with. Shared by `scenario` and `capacity`.
#[derive(Debug, Args)]
pub struct StackArgs {
    /// Which stack to run against (default: what the scenario's `[stack]` asks for,
    /// else local).
    #[arg(long = "stack", value_enum, env = "KARIGAR_PERF_STACK")]
    pub kind: Option<StackChoice>,

    /// Never install missing server packages of the local stack (by default, as root
    /// on a machine with apt-get, they are installed, saying which and why).
    #[arg(long, env = "KARIGAR_PERF_NO_INSTALL", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_install: bool,

    #[command(flatten)]
    pub docker: DockerArgs,

    /// Base URL of an existing backend; skips provisioning.
    #[arg(long, env = "KARIGAR_PERF_TARGET")]
    pub target: Option<String>,

    /// Base URL of the frontend, for steps with target = "frontend".
    #[arg(long, env = "KARIGAR_PERF_FRONTEND")]
    pub frontend: Option<String>,

    #[command(flatten)]
    pub http: HttpArgs,

    /// CPU limit of one backend instance in cores, the base of "CPU %" for local
    /// processes (default: the cores of this machine).
    #[arg(long, env = "KARIGAR_PERF_CPU_LIMIT")]
    pub cpu_limit: Option<f64>,

    /// Memory limit of one backend instance, the base of "memory %" for local
    /// processes, e.g. 512MiB, 2GiB (default: the seed's development budget of a
    /// backend).
    #[arg(long, env = "KARIGAR_PERF_MEMORY_LIMIT", value_parser = parse_bytes)]
    pub memory_limit: Option<u64>,

    /// Seed the local stack's database with this many providers before the load
    /// (default: the scenario's `seed_providers`, else none).
    #[arg(long, value_name = "N", env = "KARIGAR_PERF_SEED_PROVIDERS")]
    pub seed_providers: Option<usize>,

    #[command(flatten)]
    pub seed_shape: SeedShape,

    #[command(flatten)]
    pub observe: ObserveArgs,
}

/// Where the telemetry of a deployment comes from when the harness did not start it
/// (or to watch other parts than those it started).
#[derive(Debug, Args, Default)]
pub struct ObserveArgs {
    /// Postgres to watch (connections per instance, max_connections), e.g.
    /// postgres://user:pass@127.0.0.1:5432/karigar.
    #[arg(long, value_name = "URL", env = "KARIGAR_PERF_POSTGRES_URL")]
    pub postgres_url: Option<String>,

    /// Redis to watch (memory, evictions, hit ratio, AOF), e.g. redis://127.0.0.1:6379.
    #[arg(long, value_name = "URL", env = "KARIGAR_PERF_REDIS_URL")]
    pub redis_url: Option<String>,

    /// A backend instance's process on this machine (repeatable, one per instance):
    /// its CPU and memory.
    #[arg(long = "backend-pid", value_name = "PID")]
    pub backend_pids: Vec<u32>,

    /// A backend instance's container, by name or id (repeatable): its CPU and memory
    /// as shares of its own limits.
    #[arg(long = "backend-container", value_name = "NAME")]
    pub backend_containers: Vec<String>,

    /// Read the telemetry from this Prometheus by PromQL instead (postgres_exporter,
    /// redis_exporter, cAdvisor and kube-state-metrics by default; a scenario's
    /// [stack.prometheus] overrides the queries).
    #[arg(long, value_name = "URL", env = "KARIGAR_PERF_PROMETHEUS")]
    pub prometheus: Option<String>,
}

/// `--profile`: one of the seed's budgets, or a capacity report's sizing.
#[derive(Clone, Debug)]
pub enum ProfileArg {
    Seed(crate::stack::Profile),
    Sized(PathBuf),
}

pub(super) fn parse_profile(text: &str) -> Result<ProfileArg, String> {
    match text {
        "dev" => Ok(ProfileArg::Seed(crate::stack::Profile::Dev)),
        "prod" => Ok(ProfileArg::Seed(crate::stack::Profile::Prod)),
        _ => match text.strip_prefix("sized:") {
            Some(path) if !path.is_empty() => Ok(ProfileArg::Sized(PathBuf::from(path))),
            _ => Err(format!("{text:?} is not dev, prod or sized:CAPACITY.json")),
        },
    }
}

#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// Boot the stack a run would boot, print its URLs and the flags that point a run
    /// at it (--target, --postgres-url, ...), and keep it until Ctrl-C or `stack down`.
    Up(Box<StackUpArgs>),
    /// Stop a stack `stack up` keeps, then remove every container, network and built
    /// image of karigar-perf runs (labelled with a run id), e.g. after a harness was
    /// killed with SIGKILL.
    Down {
        /// Only those whose harness process is gone (what every Docker run sweeps at start).
        #[arg(long)]
        orphans: bool,
    },
}

#[derive(Debug, Args)]
pub struct StackUpArgs {
    /// The scenario whose [stack] needs (backend environment, replicas, dataset) the
    /// stack honours.
    #[arg(default_value = "signup")]
    pub scenario: String,

    #[command(flatten)]
    pub stack: StackArgs,

    #[command(flatten)]
    pub reports: ReportDir,
}

/// The Docker stack's shape and images (`--stack docker`).
#[derive(Debug, Args)]
pub struct DockerArgs {
    /// Resource limits per container: the seed's dev (backend 0.5 CPU / 512 MB) or prod
    /// (backend 2 CPU / 2 GB), or sized:CAPACITY.json, what `deploy` would deploy
    /// (limits, replicas and pool).
    #[arg(long, default_value = "prod", env = "KARIGAR_PERF_PROFILE", value_parser = parse_profile)]
    pub profile: ProfileArg,

    /// Backend containers; more than one run behind nginx (default: the scenario's
    /// `replicas`, else 1).
    #[arg(long, env = "KARIGAR_PERF_REPLICAS", value_parser = clap::value_parser!(u16).range(1..=crate::policy::HPA_MAX_REPLICAS as i64))]
    pub replicas: Option<u16>,

    /// Postgres image (default: karigar-perf/postgres:15 when docker/build.sh made it,
    /// else postgres:15-alpine).
    #[arg(long, env = "KARIGAR_PERF_POSTGRES_IMAGE")]
    pub postgres_image: Option<String>,

    /// Redis image (default: karigar-perf/redis:7 when built locally, else redis:7-alpine).
    #[arg(long, env = "KARIGAR_PERF_REDIS_IMAGE")]
    pub redis_image: Option<String>,

    /// Your own backend image, honouring the contract (default: the reference backend).
    #[arg(long, env = "KARIGAR_PERF_BACKEND_IMAGE", conflicts_with = "backend_build")]
    pub backend_image: Option<String>,

    /// Build the backend image from this Dockerfile context first, and run it.
    #[arg(long, value_name = "DIR", env = "KARIGAR_PERF_BACKEND_BUILD")]
    pub backend_build: Option<PathBuf>,

    /// Your own frontend image (default: the reference frontend).
    #[arg(long, env = "KARIGAR_PERF_FRONTEND_IMAGE")]
    pub frontend_image: Option<String>,

    /// Debian 12 image the reference backend and frontend run in (default:
    /// karigar-perf/base:bookworm when built locally, else debian:bookworm-slim).
    #[arg(long, env = "KARIGAR_PERF_RUNTIME_IMAGE")]
    pub runtime_image: Option<String>,

    /// Load balancer image with nginx (default: karigar-perf/base:bookworm when built
    /// locally, else nginx:1.27-alpine).
    #[arg(long, env = "KARIGAR_PERF_NGINX_IMAGE")]
    pub nginx_image: Option<String>,
}

choice! {
    /// `--stack`.
    StackChoice => crate::stack::StackKind {
        /// Docker when a daemon answers, else local processes.
        Auto,
        /// Postgres, Redis, the reference backend and frontend as local processes.
        Local,
        /// The same stack as containers (testcontainers), with the seed's limits.
        Docker,
        /// An existing deployment (`--target`); chosen automatically when a target is given.
        External,
    }
}
