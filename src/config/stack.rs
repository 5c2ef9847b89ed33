//! The stack flags over the scenario's `[stack]`: what to provision or reach, and the
//! telemetry to read it with.

use super::seed::seed_size;
use super::ReportConfig;
use crate::cli::{DockerArgs, HttpArgs, ProfileArg, StackArgs, StackUpArgs};
use crate::error::{Error, Result};
use crate::http::{HttpOptions, HttpSettings};
use crate::scenario::{LoadOverrides, Plan, Source};
use crate::seed::SeedSize;
use crate::stack::{ContainerLimits, DockerOptions, ImageChoice, Profile, StackKind, StackLimits};

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
    /// How the load and the probes reach the deployment: the HTTP flags over the
    /// scenario's `[http]`.
    pub http: HttpSettings,
}

/// `stack up`: the stack to start and keep, and where its logs go.
pub struct StackUpConfig {
    pub stack: StackConfig,
    pub reports: ReportConfig,
}

impl StackUpConfig {
    pub fn resolve(args: &StackUpArgs) -> Result<Self> {
        if args.stack.target.is_some() {
            return Err(Error::config(
                "stack up starts a stack: --target names one that runs already",
            ));
        }
        let plan = Plan::build(&Source::locate(&args.scenario)?, &LoadOverrides::default(), &[])?;
        Ok(Self {
            stack: StackConfig::resolve(&args.stack, &plan)?,
            reports: ReportConfig {
                dir: args.reports.report_dir.clone(),
                quiet: false,
            },
        })
    }
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
                "{}: scenario {} injects faults, which need the Docker stack (--stack docker); this run's is {}",
                plan.faults[0].written_at,
                plan.name,
                match kind {
                    StackKind::External => "a deployment it did not start (--target)",
                    _ => "local processes",
                }
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
        let http_options = http_flags(&args.http).over(plan.http.clone());
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
            http: crate::client::settings(&http_options).map_err(Error::config)?,
        })
    }
}

/// The HTTP flags as options; those not given leave the scenario's `[http]` in force.
pub(super) fn http_flags(args: &HttpArgs) -> HttpOptions {
    HttpOptions {
        ca_cert: args.ca_cert.clone(),
        insecure: on_or_off(args.insecure, args.no_insecure),
        client_cert: args.client_cert.clone(),
        client_key: args.client_key.clone(),
        resolve: args.resolve.clone(),
        headers: args.headers.clone(),
        basic_auth: args.basic_auth.clone(),
        http2: on_or_off(args.http2, args.no_http2),
        request_id_header: args.request_id_header.clone(),
        request_ids: args.no_request_id.then_some(false),
    }
}

/// A switch the flags turn on (`--X`) or off (`--no-X`); neither leaves the table's.
fn on_or_off(on: bool, off: bool) -> Option<bool> {
    match (on, off) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
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
