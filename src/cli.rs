//! The command line. Help text comes from these doc comments.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::stack::StackKind;

/// Load testing and SLO verification for the Karigar stack.
#[derive(Debug, Parser)]
#[command(name = "karigar-perf", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 every SLO held, 1 internal error, 2 usage or configuration error, \
3 an SLO was breached or a drill failed its verdict, 4 slower than the baseline, 5 stack failed to start or target unreachable, \
6 a load generator was lost (incomplete run), 130 interrupted (partial report written)";

const CAPACITY_EXIT_CODES: &str = "Exit codes: 0 a sustainable rate was found (and the target fits \
within HPA max), 1 internal error, 2 usage or configuration error, 3 no rate held or the target \
needs more replicas than HPA max, 5 stack failed to start or target unreachable, 130 interrupted \
(partial report written)";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Boot the stack, run a scenario, check its SLOs and write reports.
    #[command(after_help = EXIT_CODES)]
    Scenario(Box<ScenarioArgs>),
    /// Find the highest rate one backend instance holds within every SLO (open-model
    /// steps, grown then bisected), fit the knee and the Universal Scalability Law, and
    /// size a deployment for a target rate.
    #[command(after_help = CAPACITY_EXIT_CODES)]
    Capacity(Box<CapacityArgs>),
    /// Compare two runs' summary.json: exit 4 when NEW is slower than BASE beyond noise.
    #[command(after_help = EXIT_CODES)]
    Compare(CompareArgs),
    /// Load the deterministic marketplace dataset into a database.
    Seed(SeedArgs),
    /// One load generator of a run coordinated elsewhere (what an engine starts).
    #[command(
        after_help = "Exit codes: 0 the segment ran and was reported, 2 bad settings or token, \
5 the coordinator is unreachable or was lost (the load stopped)"
    )]
    Worker(WorkerArgs),
    /// What a CI gate can see: `gate calibrate` measures a scenario's noise.
    #[command(subcommand)]
    Gate(GateCommand),
    /// Merge saved generator outputs (`worker --output DIR`) or runs into one report.
    #[command(after_help = EXIT_CODES)]
    Merge(MergeArgs),
    /// Kubernetes objects for a distributed run: `k8s generators` writes them.
    #[command(subcommand)]
    K8s(K8sCommand),
    /// Manage Docker stacks: `stack down` removes what runs left behind.
    #[command(subcommand)]
    Stack(StackCommand),
    /// Turn a capacity report into the seed's deployment: `deploy k8s` writes the
    /// Kubernetes manifests, `deploy compose` the Compose override, each number sized
    /// from the measurements.
    #[command(subcommand)]
    Deploy(DeployCommand),
    /// Resilience drills under load, judged against the seed's RTO (4 h) and RPO (24 h):
    /// `drill restore` destroys Postgres and restores it, `drill redis-kill` kills Redis.
    #[command(subcommand)]
    Drill(DrillCommand),
    /// Serve the reference backend, configured from the environment (used by the
    /// local stack so that one build serves both).
    #[command(hide = true)]
    Backend,
    /// Serve the reference frontend, configured from the environment (`HOSTNAME`,
    /// `PORT`, `NEXT_PUBLIC_API_URL`).
    #[command(hide = true)]
    Frontend,
}

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
    pub arrivals: Option<crate::scenario::Arrivals>,

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

    /// HTTP clients: one shared by every virtual user (no cookies), or one per user
    /// (own connection pool and cookie jar, as Goose does by default).
    #[arg(long, value_enum, default_value = "shared", env = "KARIGAR_PERF_CLIENTS")]
    pub clients: crate::load::Clients,

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

    #[command(flatten)]
    pub gate: GateArgs,

    #[command(flatten)]
    pub generators: GeneratorArgs,

    #[command(flatten)]
    pub live: LiveArgs,

    /// Where to write reports (default: reports/RUN-ID).
    #[arg(long, env = "KARIGAR_PERF_REPORT_DIR")]
    pub report_dir: Option<PathBuf>,

    /// No progress line.
    #[arg(long, short)]
    pub quiet: bool,
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

/// Where the load goes: the stack the harness starts (or an existing target), how it
/// is measured and what it is seeded with. Shared by `scenario` and `capacity`.
#[derive(Debug, Args)]
pub struct StackArgs {
    /// Which stack to run against (default: what the scenario's `[stack]` asks for,
    /// else local).
    #[arg(long = "stack", value_enum, env = "KARIGAR_PERF_STACK")]
    pub kind: Option<StackKind>,

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

    /// CPU limit of one backend instance in cores, the base of "CPU %" for local
    /// processes (default: the cores of this machine).
    #[arg(long, env = "KARIGAR_PERF_CPU_LIMIT")]
    pub cpu_limit: Option<f64>,

    /// Memory limit of one backend instance, the base of "memory %" for local
    /// processes, e.g. 512MiB, 2GiB (default: the seed's development 512MiB).
    #[arg(long, env = "KARIGAR_PERF_MEMORY_LIMIT", value_parser = parse_bytes, default_value = "512MiB")]
    pub memory_limit: u64,

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

#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// A scenario name (./scenarios/NAME.toml, or built in) or a path to a TOML file;
    /// one pass through its steps is one iteration.
    pub scenario: String,

    /// Iterations per second the deployment must hold: sizes replicas, DB connections
    /// and Redis memory (default: the scenario's `target_rps`).
    #[arg(long, value_name = "N", env = "KARIGAR_PERF_TARGET_RPS")]
    pub target_rps: Option<f64>,

    /// Also write the Kubernetes manifests of the sizing into DIR (as `deploy k8s`).
    #[arg(long, value_name = "DIR")]
    pub emit_k8s: Option<PathBuf>,

    #[command(flatten)]
    pub k8s: K8sManifestArgs,

    /// First rate offered, iterations per second.
    #[arg(long, value_name = "N", default_value_t = 2.0)]
    pub start_rate: f64,

    /// Highest rate offered.
    #[arg(long, value_name = "N", default_value_t = 10_000.0)]
    pub max_rate: f64,

    /// Each step that holds multiplies the rate by this, until one does not.
    #[arg(long, default_value_t = 2.0)]
    pub growth: f64,

    /// Bisection stops once the lowest failing rate is within this fraction above the
    /// highest passing one.
    #[arg(long, default_value_t = 0.1)]
    pub precision: f64,

    /// Warm-up of each step, run but not measured.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub warmup: Duration,

    /// Measured length of each step.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub step_duration: Duration,

    /// Most steps the search runs.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_steps: usize,

    /// Share of failed requests a step may have and still hold, e.g. 1%.
    #[arg(long, default_value = "1%", value_parser = parse_percent)]
    pub error_budget: f64,

    /// Most open-model workers a step starts.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_workers: usize,

    #[command(flatten)]
    pub stack: StackArgs,

    #[command(flatten)]
    pub generators: GeneratorArgs,

    /// Where to write capacity.json, capacity.md and capacity.html (default:
    /// reports/RUN-ID).
    #[arg(long, env = "KARIGAR_PERF_REPORT_DIR")]
    pub report_dir: Option<PathBuf>,

    /// No progress line during each step.
    #[arg(long, short)]
    pub quiet: bool,
}

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
    pub engine: crate::distributed::EngineKind,

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

    /// Also keep what this generator measured in DIR, for `karigar-perf merge`.
    #[arg(long, value_name = "DIR", env = "KARIGAR_PERF_WORKER_OUTPUT")]
    pub output: Option<PathBuf>,

    /// No progress line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `karigar-perf merge DIR...`: saved generator outputs (or runs) merged into one report.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Folders with a `measurements.json` and the `scenario.toml` it ran.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,

    /// An extra SLO, e.g. 'p95(register) < 500ms' (repeatable).
    #[arg(long = "slo", value_name = "EXPR")]
    pub slos: Vec<String>,

    /// Where to write the merged reports (default: reports/merge-RUN-ID).
    #[arg(long, env = "KARIGAR_PERF_REPORT_DIR")]
    pub report_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum K8sCommand {
    /// Write the objects of a run whose generators are a Kubernetes Indexed Job: the
    /// coordinator Pod and Service, the Job, a ConfigMap with the scenario and a Secret
    /// with the run's token. `kubectl apply -f FILE` runs it.
    Generators(K8sGeneratorsArgs),
}

#[derive(Debug, Args)]
pub struct K8sGeneratorsArgs {
    /// A scenario name (./scenarios/NAME.toml, or built in) or a path to a TOML file.
    pub scenario: String,
    /// Generator pods (the Job's parallelism and completions).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub workers: u16,
    /// The backend the load goes to, as the pods reach it.
    #[arg(long)]
    pub target: String,
    /// The frontend, for steps with target = "frontend".
    #[arg(long)]
    pub frontend: Option<String>,
    /// An image with `karigar-perf` on its PATH (docker/build.sh makes
    /// karigar-perf/harness:latest; push it where the cluster pulls from).
    #[arg(long)]
    pub image: String,
    /// The namespace of every object (default: kubectl's).
    #[arg(long)]
    pub namespace: Option<String>,
    /// Virtual users over all generators (closed model).
    #[arg(long)]
    pub users: Option<usize>,
    /// How long the load runs, e.g. 5m.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Open model: iterations per second over all generators, e.g. 200/s.
    #[arg(long)]
    pub rate: Option<String>,
    /// Where to write the objects (default: reports/k8s-RUN.yaml).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `--profile`: one of the seed's budgets, or a capacity report's sizing.
#[derive(Clone, Debug)]
pub enum ProfileArg {
    Seed(crate::stack::Profile),
    Sized(PathBuf),
}

fn parse_profile(text: &str) -> Result<ProfileArg, String> {
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
pub enum DeployCommand {
    /// The seed's k8s/ files (backend and frontend Deployments, Postgres and Redis
    /// StatefulSets, Services, Ingress) plus the HPA and a PodDisruptionBudget.
    #[command(after_help = "Exit codes: 0 written, 2 the report cannot be read or sized")]
    K8s(DeployK8sArgs),
    /// A Compose override of docker-compose.test.yml and the command line that scales it.
    #[command(after_help = "Exit codes: 0 written, 2 the report cannot be read or sized")]
    Compose(DeployComposeArgs),
}

#[derive(Debug, Args)]
pub struct DeployK8sArgs {
    /// A capacity.json of a search with a target rate (`capacity --target-rps N`).
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Where to write the manifests.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub k8s: K8sManifestArgs,
}

/// What the manifests name that a capacity report does not know.
#[derive(Debug, Args, Clone)]
pub struct K8sManifestArgs {
    /// Namespace of every object (default: none, kubectl's current one).
    #[arg(long)]
    pub k8s_namespace: Option<String>,
    /// The backend image the Deployment runs.
    #[arg(long, default_value = "karigar/backend:latest")]
    pub k8s_backend_image: String,
    /// The frontend image the Deployment runs.
    #[arg(long, default_value = "karigar/frontend:latest")]
    pub k8s_frontend_image: String,
    /// The Ingress's host.
    #[arg(long, default_value = "karigar.example.com")]
    pub k8s_host: String,
}

#[derive(Debug, Args)]
pub struct DeployComposeArgs {
    /// A capacity.json of a search with a target rate.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Where to write docker-compose.sized.yml.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

const DRILL_EXIT_CODES: &str = "Exit codes: 0 every check held, 1 internal error, 2 usage or \
configuration error, 3 a check failed (RTO, RPO, integrity, writes lost), 5 the stack failed to start \
or a recovery step failed, 130 interrupted (partial report written)";

#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// Under a write load, take a base backup (pg_basebackup, with WAL streamed to an
    /// archive), destroy Postgres (SIGKILL, data directory removed), follow the seed's
    /// recovery procedure, and report RTO with its phases and RPO write by write, for
    /// WAL archiving and for the base backup alone, with a 100 GB projection.
    #[command(after_help = DRILL_EXIT_CODES)]
    Restore(Box<RestoreArgs>),
    /// Under a load that rotates refresh tokens, SIGKILL Redis, restart it on its AOF
    /// and try every refresh token the users hold: rejected ones are lost writes.
    #[command(after_help = DRILL_EXIT_CODES)]
    RedisKill(Box<RedisKillArgs>),
}

/// What every drill takes.
#[derive(Debug, Args)]
pub struct DrillArgs {
    /// A scenario whose load writes (./scenarios/NAME.toml, built in, or a path).
    #[arg(default_value = "signup")]
    pub scenario: String,

    /// Virtual users (default: the scenario's).
    #[arg(long)]
    pub users: Option<usize>,

    /// The steps whose 2xx acknowledges a write (comma-separated; default: restore,
    /// `register`; redis-kill, every step that captures the key).
    #[arg(long, value_delimiter = ',')]
    pub write: Vec<String>,

    /// The session variable naming each write (default: restore `email`, redis-kill
    /// `refresh_token`).
    #[arg(long)]
    pub key: Option<String>,

    /// Where to write drill.json, drill.md and drill.html (default: reports/RUN-ID).
    #[arg(long, env = "KARIGAR_PERF_REPORT_DIR")]
    pub report_dir: Option<PathBuf>,

    /// Never install missing Postgres or Redis packages.
    #[arg(long)]
    pub no_install: bool,

    /// No progress lines (each step of the drill as it happens).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub drill: DrillArgs,

    /// Which backup policies to drill, one cycle each.
    #[arg(long, value_enum, default_value = "both")]
    pub policy: PolicyChoice,

    /// When the base backup starts, into the load (T1).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub backup_at: Duration,

    /// How long after the backup Postgres is destroyed (T2).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub destroy_after: Duration,

    /// How long the load goes on once the backend is back.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub after: Duration,

    /// `TABLE.COLUMN` where each write's key must be found after the restore.
    #[arg(long, default_value = "users.email")]
    pub check: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyChoice {
    Both,
    Wal,
    Base,
}

#[derive(Debug, Args)]
pub struct RedisKillArgs {
    #[command(flatten)]
    pub drill: DrillArgs,

    /// Which `appendfsync` settings to drill, one cycle each (the seed's: everysec).
    #[arg(long, value_enum, default_value = "both")]
    pub appendfsync: FsyncChoice,

    /// When Redis is killed, into the load.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub kill_at: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FsyncChoice {
    Both,
    Everysec,
    Always,
}

#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// Boot the stack a run would boot, print its URLs and the flags that point a run
    /// at it (--target, --postgres-url, ...), and keep it until Ctrl-C or `stack down`.
    Up(Box<StackUpArgs>),
    /// Stop a stack `stack up` keeps, then remove every container and network of
    /// karigar-perf runs (labelled with a run id), e.g. after a harness was killed
    /// with SIGKILL.
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

    /// Where the stack's logs and stack.json go (default: reports/stack-RUN-ID).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
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
    #[arg(long, env = "KARIGAR_PERF_REPLICAS", value_parser = clap::value_parser!(u16).range(1..=10))]
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

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Postgres URL of a database with the Karigar schema.
    #[arg(long, env = "KARIGAR_PERF_DATABASE_URL")]
    pub database_url: String,
    /// Providers to create, spread around five city centres.
    #[arg(long, default_value_t = 10_000)]
    pub providers: usize,
    #[command(flatten)]
    pub shape: SeedShape,
}

/// The rest of a dataset's size, relative to its providers.
#[derive(Clone, Copy, Debug, Args)]
pub struct SeedShape {
    /// Services per seeded provider.
    #[arg(long, default_value_t = 5)]
    pub services_per_provider: usize,
    /// Customers (emails customer-N@seed.karigar.test, password Seeded123).
    #[arg(long, default_value_t = 1_000)]
    pub seed_customers: usize,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// BASE... NEW: the baseline (one run's summary.json, or folders or files of a
    /// history of runs), then the new run's summary.json.
    #[arg(required_unless_present = "history", num_args = 2..)]
    pub paths: Vec<PathBuf>,
    /// Instead: the runs in DIR in time order, and where a step's level shifted.
    #[arg(long, value_name = "DIR", conflicts_with = "paths")]
    pub history: Option<PathBuf>,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Also write a JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
}

/// `karigar-perf gate ...`: what a CI gate can see.
#[derive(Debug, Subcommand)]
pub enum GateCommand {
    /// Run the same build N times into a baseline folder and print each step's noise
    /// and the smallest change a gate on that history detects.
    Calibrate(CalibrateArgs),
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// A scenario name (./scenarios/NAME.toml, or built in) or a path to a TOML file.
    pub scenario: String,
    /// Runs of the same build.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=100))]
    pub runs: u16,
    /// The baseline folder the runs go to (default: reports/baseline-SCENARIO).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Flags for every run, after `--`, e.g. `-- --duration 20s --users 10`.
    #[arg(last = true)]
    pub scenario_args: Vec<String>,
}

/// How a regression is told from noise.
#[derive(Clone, Debug, Args)]
pub struct GateArgs {
    /// Smallest slowdown that counts, as a fraction (default: 0.15 against one run's
    /// per-second medians, 0.05 against a history).
    #[arg(long)]
    pub min_effect: Option<f64>,
    /// One-sided confidence of the history's prediction interval.
    #[arg(long, default_value_t = 0.999)]
    pub confidence: f64,
    /// The figures that gate against a history (the others are shown).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "p50,p95,throughput,error-rate"
    )]
    pub gate_metrics: Vec<crate::compare::Figure>,
    /// Smallest slowdown that counts in absolute terms, e.g. 5ms.
    #[arg(long, default_value = "5ms", value_parser = parse_duration)]
    pub min_delta: Duration,
    /// Significance level of the one-sided Mann-Whitney U test.
    #[arg(long, default_value_t = 0.001)]
    pub alpha: f64,
}

/// `512MiB`, `2GiB`, `1.5GB`, `1048576`.
fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number: f64 = text[..split]
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 512MiB"))?;
    let unit: f64 = match text[split..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit {other:?}: use B, KiB, MiB, GiB, KB, MB or GB"
            ))
        }
    };
    Ok((number * unit) as u64)
}

/// `1%` or `0.01`, as a fraction.
fn parse_percent(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.trim().strip_suffix('%') {
        Some(number) => (number, 100.0),
        None => (text.trim(), 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(value) if (0.0..=scale).contains(&value) => Ok(value / scale),
        _ => Err(format!("{text:?} is not a share such as 1% or 0.01")),
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::scenario::parse_duration(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_bytes("512MiB"), Ok(512 * 1024 * 1024));
        assert_eq!(super::parse_bytes("1.5GB"), Ok(1_500_000_000));
        assert_eq!(super::parse_bytes("2048"), Ok(2048));
        assert!(super::parse_bytes("12 parsecs").is_err());
    }

    #[test]
    fn shares() {
        assert_eq!(super::parse_percent("1%"), Ok(0.01));
        assert_eq!(super::parse_percent("0.05"), Ok(0.05));
        assert!(super::parse_percent("150%").is_err());
        assert!(super::parse_percent("lots").is_err());
    }
}
