//! One resolution step: the command line (flags and their `KARIGAR_PERF_*` variables,
//! read by clap) and the scenario file become one validated, typed configuration before
//! anything starts. Everything after this module takes these types, never clap's.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::capacity::{SearchPlan, SearchSettings};
use crate::cli::{
    CapacityArgs, DockerArgs, GateArgs, GeneratorArgs, ProfileArg, ScenarioArgs, SeedShape, StackArgs,
};
use crate::compare::{Baseline, HistorySettings};
use crate::distributed::{EngineKind, GeneratorsConfig};
use crate::error::{Error, Result};
use crate::live::LiveConfig;
use crate::load::Clients;
use crate::report::GatePolicy;
use crate::scenario::{LoadOverrides, Plan, Source};
use crate::seed::SeedSize;
use crate::stack::{ContainerLimits, DockerOptions, ImageChoice, Profile, StackKind, StackLimits};

/// `scenario`: everything one run needs, checked.
pub struct ScenarioConfig {
    /// The scenario file, as generators of a distributed run get it.
    pub source: Source,
    /// Several generators, when asked for (`--generators N`).
    pub generators: Option<GeneratorsConfig>,
    /// Shared with the load engine's tasks.
    pub plan: Arc<Plan>,
    pub stack: StackConfig,
    pub reports: ReportConfig,
    /// How virtual users get their HTTP clients.
    pub clients: Clients,
    /// The baseline to compare with, and how.
    pub gate: Option<Gate>,
    /// The dashboard, `/metrics` and remote write.
    pub live: LiveConfig,
}

/// `capacity`: the scenario, the search and the stack, checked.
pub struct CapacityConfig {
    /// The scenario file, rebuilt into a plan for every step's rate.
    pub source: Source,
    /// Each step's load on several generators, when asked for (`--generators N`).
    pub generators: Option<GeneratorsConfig>,
    pub plan: Plan,
    pub search: SearchPlan,
    pub stack: StackConfig,
    pub reports: ReportConfig,
}

/// The stack to provision (or the deployment to reach) and how it is measured.
#[derive(Clone, Debug)]
pub struct StackConfig {
    pub kind: StackKind,
    pub target: Option<String>,
    pub frontend: Option<String>,
    pub docker: DockerOptions,
    /// Extra environment of every backend instance (the scenario's `[stack]`), less
    /// what the user's own environment sets.
    pub backend_env: Vec<(String, String)>,
    pub install_missing: bool,
    /// The base of "CPU %" for local processes (`None`: this machine's cores) and of
    /// "memory %".
    pub cpu_limit_cores: Option<f64>,
    pub memory_limit_bytes: u64,
    /// The dataset to seed before the load, if any.
    pub seed: Option<SeedSize>,
    /// Telemetry sources given on the command line.
    pub observe: Observe,
}

/// Telemetry sources named by the user: they take the place of the started stack's.
#[derive(Clone, Debug, Default)]
pub struct Observe {
    pub postgres_url: Option<String>,
    pub redis_url: Option<String>,
    pub backend_pids: Vec<u32>,
    pub backend_containers: Vec<String>,
    /// Prometheus and the PromQL to read each figure with.
    pub prometheus: Option<crate::telemetry::PrometheusSource>,
}

/// Where reports go and whether progress is shown.
#[derive(Clone, Debug)]
pub struct ReportConfig {
    /// `None`: `reports/RUN-ID`.
    pub dir: Option<PathBuf>,
    pub quiet: bool,
}

/// A baseline and the policy that tells a regression from noise.
pub struct Gate {
    pub baseline: Baseline,
    pub policy: GatePolicy,
    pub history: HistorySettings,
}

impl ScenarioConfig {
    pub fn resolve(args: &ScenarioArgs) -> Result<Self> {
        Self::resolve_source(Source::locate(&args.scenario)?, args)
    }

    /// [`ScenarioConfig::resolve`] of a scenario already located (e.g. a built-in copy).
    pub fn resolve_source(source: Source, args: &ScenarioArgs) -> Result<Self> {
        let overrides = LoadOverrides {
            users: args.users,
            increase_rate: args.increase_rate,
            duration: args.duration,
            test_plan: args.test_plan.clone(),
            rate: args.rate.clone(),
            arrivals: args.arrivals.map(Into::into),
            max_workers: args.max_workers,
            workers: args.workers,
            ..Default::default()
        };
        let plan = Plan::build_with_abort(&source, &overrides, &args.slos, args.abort_after)?;
        let stack = StackConfig::resolve(&args.stack, &plan)?;
        let gate = match args.baseline.is_empty() {
            true => None,
            false => Some(Gate {
                baseline: Baseline::load(&args.baseline, Some(&plan.name))?,
                policy: gate_policy(&args.gate)?,
                history: history_settings(&args.gate)?,
            }),
        };
        let generators = generators_config(&args.generators, Some(&plan))?;
        Ok(Self {
            source,
            generators,
            plan: Arc::new(plan),
            stack,
            reports: ReportConfig {
                dir: args.reports.report_dir.clone(),
                quiet: args.progress.quiet,
            },
            clients: args.clients.into(),
            gate,
            live: live_config(&args.live)?,
        })
    }
}

impl CapacityConfig {
    pub fn resolve(args: &CapacityArgs) -> Result<Self> {
        let source = Source::locate(&args.scenario)?;
        let plan = Plan::build(&source, &LoadOverrides::default(), &[])?;
        let search = search_plan(args, &plan)?;
        let stack = StackConfig::resolve(&args.stack, &plan)?;
        let generators = generators_config(&args.generators, None)?;
        Ok(Self {
            generators,
            source,
            plan,
            search,
            stack,
            reports: ReportConfig {
                dir: args.reports.report_dir.clone(),
                quiet: args.progress.quiet,
            },
        })
    }
}

impl StackConfig {
    /// The stack flags over the scenario's `[stack]`, `replicas` and `seed_providers`.
    pub fn resolve(args: &StackArgs, plan: &Plan) -> Result<Self> {
        let kind = match (&args.target, args.kind.map(StackKind::from), plan.stack.provider) {
            (Some(_), _, _) => StackKind::External,
            (None, Some(kind), _) => kind,
            (None, None, Some(needed)) => needed,
            (None, None, None) if !plan.faults.is_empty() => StackKind::Docker,
            (None, None, None) => StackKind::Local,
        };
        if !plan.faults.is_empty() && !matches!(kind, StackKind::Docker | StackKind::Auto) {
            return Err(Error::config(format!(
                "scenario {} injects faults: they need --stack docker",
                plan.name
            )));
        }
        if kind == StackKind::External && args.target.is_none() {
            return Err(Error::config(
                "--stack external needs --target URL (the deployment to test)",
            ));
        }
        if let Some(cores) = args.cpu_limit {
            if !(cores.is_finite() && cores > 0.0) {
                return Err(Error::config("--cpu-limit must be a number of cores above 0"));
            }
        }
        let sized = match &args.docker.profile {
            ProfileArg::Sized(path) => Some(crate::deploy::plan_from_file(path)?),
            ProfileArg::Seed(_) => None,
        };
        let mut backend_env = unless_exported(&plan.stack.backend_env);
        if let Some(sized) = &sized {
            backend_env.extend(unless_exported(&[(
                "DB_MAX_OPEN_CONNS".to_owned(),
                sized.pool_per_replica.to_string(),
            )]));
        }
        Ok(Self {
            kind,
            target: args.target.clone(),
            frontend: args.frontend.clone(),
            docker: docker_options(&args.docker, plan, sized.as_ref()),
            backend_env,
            install_missing: !args.no_install,
            cpu_limit_cores: args.cpu_limit,
            memory_limit_bytes: args
                .memory_limit
                .unwrap_or(crate::policy::DEVELOPMENT.backend.memory_bytes),
            seed: seed_size(args.seed_providers.or(plan.seed_providers), args.seed_shape),
            observe: observe(&args.observe, plan)?,
        })
    }
}

/// The live-view flags, checked: a remote-write URL that parses.
fn live_config(args: &crate::cli::LiveArgs) -> Result<LiveConfig> {
    let remote_write = match &args.remote_write {
        Some(url) => Some(crate::stack::normalise(url, "--remote-write")?),
        None => None,
    };
    Ok(LiveConfig {
        metrics: args.prometheus_listen,
        dashboard: args.dashboard,
        remote_write,
        linger: args.dashboard_linger,
    })
}

/// The telemetry flags, checked: URLs that parse, processes that exist.
fn observe(args: &crate::cli::ObserveArgs, plan: &Plan) -> Result<Observe> {
    for (flag, url, schemes) in [
        (
            "--postgres-url",
            &args.postgres_url,
            &["postgres", "postgresql"][..],
        ),
        ("--redis-url", &args.redis_url, &["redis", "rediss"][..]),
    ] {
        if let Some(url) = url {
            let scheme = reqwest::Url::parse(url).map(|u| u.scheme().to_owned());
            if !scheme.as_ref().is_ok_and(|s| schemes.contains(&s.as_str())) {
                return Err(Error::config(format!(
                    "{flag} needs a {}:// URL, not {:?}",
                    schemes[0],
                    crate::seed::redact(url)
                )));
            }
        }
    }
    if let Some(pid) = args
        .backend_pids
        .iter()
        .find(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
    {
        return Err(Error::config(format!(
            "--backend-pid {pid}: no such process on this machine"
        )));
    }
    let prometheus = match &args.prometheus {
        Some(url) => Some(crate::telemetry::PrometheusSource::new(
            crate::stack::normalise(url, "--prometheus")?,
            &plan.stack.prometheus_queries,
        )),
        None => None,
    };
    Ok(Observe {
        postgres_url: args.postgres_url.clone(),
        redis_url: args.redis_url.clone(),
        backend_pids: args.backend_pids.clone(),
        backend_containers: args.backend_containers.clone(),
        prometheus,
    })
}

/// `--generators N` and its engine, checked against the plan's closed-model load when
/// there is one (capacity's steps are open-model: any count splits).
fn generators_config(args: &GeneratorArgs, closed: Option<&Plan>) -> Result<Option<GeneratorsConfig>> {
    let Some(count) = args.generators.map(usize::from) else {
        return Ok(None);
    };
    let closed = closed.filter(|plan| plan.load.open.is_none() && plan.load.test_plan.is_none());
    if let Some(plan) = closed.filter(|plan| plan.load.users < count) {
        return Err(Error::config(format!(
            "{} users cannot be spread over {count} generators: give at least one each (--users)",
            plan.load.users
        )));
    }
    let listen = args
        .coordinator_listen
        .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let engine = EngineKind::from(args.engine);
    if engine == EngineKind::External && listen.port() == 0 {
        return Err(Error::config(
            "--engine external needs --coordinator-listen ADDR:PORT: the generators must know where to register",
        ));
    }
    Ok(Some(GeneratorsConfig {
        count,
        engine,
        listen,
        image: args.image.clone(),
        register_timeout: args.register_timeout,
    }))
}

/// The scenario's backend environment, less the variables the user exported: those
/// reach the backend anyway, and the user's word wins.
fn unless_exported(env: &[(String, String)]) -> Vec<(String, String)> {
    env.iter()
        .filter(|(name, _)| std::env::var_os(name).is_none())
        .cloned()
        .collect()
}

/// The Docker flags; the scenario's replicas apply unless `--replicas` was given, and
/// its deploys ask for the balancer that can be reconfigured under load.
fn docker_options(
    args: &DockerArgs,
    plan: &Plan,
    sized: Option<&crate::deploy::DeploymentPlan>,
) -> DockerOptions {
    let profile = match (&args.profile, sized) {
        (_, Some(sized)) => Profile::Sized(sized_limits(sized)),
        (ProfileArg::Seed(profile), None) => *profile,
        (ProfileArg::Sized(_), None) => Profile::Prod,
    };
    let sized_replicas = sized.map(|s| s.replicas.min(u32::from(u16::MAX)) as u16);
    DockerOptions {
        profile,
        replicas: usize::from(args.replicas.or(plan.replicas).or(sized_replicas).unwrap_or(1)),
        edge: plan.faults.iter().any(|f| f.action.is_deploy()),
        images: ImageChoice {
            postgres: args.postgres_image.clone(),
            redis: args.redis_image.clone(),
            backend: args.backend_image.clone(),
            frontend: args.frontend_image.clone(),
            runtime: args.runtime_image.clone(),
            nginx: args.nginx_image.clone(),
        },
        backend_build: args.backend_build.clone(),
    }
}

/// A sizing's limits as the Docker stack's, each CPU limit at most this machine's
/// cores (Docker refuses more).
fn sized_limits(plan: &crate::deploy::DeploymentPlan) -> StackLimits {
    let cores = std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64);
    let limits = |r: &crate::deploy::Resources| ContainerLimits {
        cpus: (f64::from(r.cpu_limit_millis) / 1000.0).min(cores),
        memory_bytes: r.memory_limit_bytes,
    };
    StackLimits {
        backend: limits(&plan.backend),
        frontend: limits(&plan.frontend),
        postgres: limits(&plan.postgres),
        redis: limits(&plan.redis),
    }
}

/// What the manifests name that a capacity report does not know.
/// `seed`: the database to seed and the dataset's size.
pub fn seed_target(args: &crate::cli::SeedArgs) -> (String, SeedSize) {
    let size = SeedSize {
        providers: args.providers,
        services_per_provider: args.shape.services_per_provider,
        customers: args.shape.seed_customers,
    };
    (args.database_url.clone(), size)
}

/// `worker`: where the coordinator is, the run's token and this generator's name.
pub fn worker_settings(args: &crate::cli::WorkerArgs) -> Result<crate::distributed::WorkerSettings> {
    Ok(crate::distributed::WorkerSettings {
        coordinator: args.coordinator.clone(),
        token: worker_token(args)?,
        name: args.name.clone().unwrap_or_else(default_worker_name),
        output: args.output.clone(),
        quiet: args.progress.quiet,
    })
}

/// The run's token: from `--token-file` (a Swarm or Kubernetes secret), else the
/// environment. Never from a flag: flags show in process lists.
fn worker_token(args: &crate::cli::WorkerArgs) -> Result<String> {
    use crate::distributed::TOKEN_ENV;
    use crate::error::Context as _;
    let token = match &args.token_file {
        Some(path) => std::fs::read_to_string(path)
            .config_context(|| format!("cannot read the token file {}", path.display()))?,
        None => std::env::var(TOKEN_ENV)
            .map_err(|_| Error::config(format!("no run token: set {TOKEN_ENV} or give --token-file")))?,
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(Error::config("the run token is empty"));
    }
    Ok(token)
}

/// `HOSTNAME-PID`: unique enough to tell generators apart in a report.
fn default_worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_else(|_| "generator".into());
    format!("{}-{}", host.trim(), std::process::id())
}

/// Where a command writes what it writes: the folder (or file) given, else `name` under
/// `reports/` in the working directory.
pub fn output_path(given: Option<&std::path::Path>, name: &str) -> PathBuf {
    given.map_or_else(
        || PathBuf::from("reports").join(name),
        std::path::Path::to_path_buf,
    )
}

pub fn k8s_options(args: &crate::cli::K8sManifestArgs) -> crate::deploy::K8sOptions {
    crate::deploy::K8sOptions {
        namespace: args.k8s_namespace.clone(),
        backend_image: args.k8s_backend_image.clone(),
        frontend_image: args.k8s_frontend_image.clone(),
        host: args.k8s_host.clone(),
    }
}

/// The dataset to seed: none for 0 providers.
pub fn seed_size(providers: Option<usize>, shape: SeedShape) -> Option<SeedSize> {
    providers.filter(|&n| n > 0).map(|providers| SeedSize {
        providers,
        services_per_provider: shape.services_per_provider,
        customers: shape.seed_customers,
    })
}

/// The gate flags for one baseline run, checked.
pub fn gate_policy(args: &GateArgs) -> Result<GatePolicy> {
    let defaults = GatePolicy::default();
    let min_effect = args.min_effect.unwrap_or(defaults.min_effect);
    let alpha_ok = args.alpha > 0.0 && args.alpha < 1.0;
    let effect_ok = min_effect >= 0.0 && min_effect.is_finite();
    if !alpha_ok || !effect_ok {
        return Err(Error::config(
            "--alpha must be between 0 and 1 and --min-effect a fraction of 0 or more",
        ));
    }
    Ok(GatePolicy {
        alpha: args.alpha,
        min_effect,
        min_delta_us: args.min_delta.as_secs_f64() * 1e6,
        ..defaults
    })
}

/// The gate flags for a history of runs, checked.
pub fn history_settings(args: &GateArgs) -> Result<HistorySettings> {
    let defaults = HistorySettings::default();
    let min_effect = args.min_effect.unwrap_or(defaults.min_effect);
    if !(args.confidence > 0.5 && args.confidence < 1.0) {
        return Err(Error::config(
            "--confidence must be above 0.5 and below 1, e.g. 0.999",
        ));
    }
    if !(min_effect >= 0.0 && min_effect.is_finite()) {
        return Err(Error::config("--min-effect must be a fraction of 0 or more"));
    }
    Ok(HistorySettings {
        confidence: args.confidence,
        min_effect,
        gated: args.gate_metrics.iter().map(|&f| f.into()).collect(),
    })
}

/// The search flags and the scenario, checked.
fn search_plan(args: &CapacityArgs, plan: &Plan) -> Result<SearchPlan> {
    let bad = |message: &str| Err(Error::config(message.to_owned()));
    let positive = |value: f64| value.is_finite() && value > 0.0;
    if !positive(args.start_rate) || args.start_rate > args.max_rate {
        return bad("--start-rate must be above 0 and at most --max-rate");
    }
    if !positive(args.growth - 1.0) || !positive(args.precision) {
        return bad("--growth must be above 1 and --precision above 0");
    }
    if args.step_duration < Duration::from_secs(5) || args.max_steps == 0 {
        return bad("--step-duration must be at least 5s and --max-steps at least 1");
    }
    if args.max_workers == 0 || args.max_workers > crate::scenario::MAX_USERS {
        return bad("--max-workers must be from 1 to 1000000");
    }
    let target_rate = args.target_rps.or(plan.target_rps);
    if target_rate.is_some_and(|t| !positive(t)) {
        return bad("--target-rps must be above 0");
    }
    Ok(SearchPlan {
        search: SearchSettings {
            start: args.start_rate,
            growth: args.growth,
            precision: args.precision,
            max_rate: args.max_rate,
        },
        warmup: args.warmup,
        measure: args.step_duration,
        max_steps: args.max_steps,
        error_budget: args.error_budget,
        checks: crate::capacity::checks(plan, args.error_budget),
        target_rate,
        max_workers: args.max_workers,
    })
}
