//! What every command that starts a stack shares: naming the run, the stack's
//! options from the flags, bringing it up, seeding it, recording it, and what the
//! telemetry samplers watch.

use std::path::{Path, PathBuf};

use rand::distributions::{Alphanumeric, DistString};

use crate::cli::StackArgs;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::load::{Clients, LoadOptions};
use crate::scenario::Plan;
use crate::seed::SeedReport;
use crate::stack::{self, Stack, StackKind, StackOptions};
use crate::telemetry::{available_cores, Limits, Targets};

/// Seeds the stack's database when `--seed-providers` asks for it.
pub(crate) async fn seed_stack(
    stack: &Stack,
    args: &StackArgs,
    scenario_default: Option<usize>,
) -> Result<Option<SeedReport>> {
    let providers = args.seed_providers.or(scenario_default).unwrap_or(0);
    if providers == 0 {
        return Ok(None);
    }
    let url = stack.endpoints.postgres.as_deref().ok_or_else(|| {
        Error::config(
            "--seed-providers needs a stack the harness started (for a deployment, use `karigar-perf seed`)",
        )
    })?;
    let report = crate::commands::seed_url(url, args.seed_shape.size(providers)).await?;
    status(&format!(
        "seeded {} providers, {} services, {} customers in {:.1}s",
        report.size.providers, report.services, report.size.customers, report.seconds
    ));
    Ok(Some(report))
}

/// What the telemetry samplers watch: the stack's backend processes or containers,
/// and its stores.
pub(crate) fn telemetry_targets(stack: &Stack, args: &StackArgs) -> Targets {
    let mut targets = Targets {
        backends: stack
            .pids()
            .into_iter()
            .filter(|(name, _)| name == "backend")
            .collect(),
        containers: Vec::new(),
        docker: None,
        addresses: Default::default(),
        backend_url: stack.endpoints.backend.clone(),
        postgres_url: stack.endpoints.postgres.clone(),
        redis_url: stack.endpoints.redis.clone(),
        limits: Limits {
            cpu_cores: args.cpu_limit.unwrap_or_else(available_cores),
            memory_bytes: args.memory_limit,
        },
    };
    if let Some(parts) = &stack.docker {
        let instances = parts.backends();
        targets.containers = instances
            .iter()
            .map(|i| (i.name.clone(), i.container_id.clone()))
            .collect();
        targets.addresses = instances.iter().map(|i| (i.ip.clone(), i.name.clone())).collect();
        targets.docker = Some(parts.docker().clone());
        if let Some(first) = instances.first() {
            targets.limits = Limits {
                cpu_cores: first.limits.cpus,
                memory_bytes: first.limits.memory_bytes,
            };
        }
    }
    targets
}

/// What a run needs before its stack starts.
pub(crate) struct Setup {
    pub run_id: String,
    pub report_dir: PathBuf,
    pub stack: StackOptions,
}

/// Names the run and creates its report folder, once the flags are known to be good.
pub(crate) fn prepare(
    args: &StackArgs,
    report_dir: Option<&Path>,
    plan: &Plan,
    backend_exe: PathBuf,
) -> Result<Setup> {
    let run_id = run_id(&plan.name);
    let report_dir = report_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("reports").join(&run_id));
    let stack = stack_options(args, plan, &report_dir, backend_exe, &run_id)?;
    std::fs::create_dir_all(&stack.logs_dir).map_err(|e| {
        Error::config(format!(
            "cannot create report folder {}: {e}",
            report_dir.display()
        ))
    })?;
    Ok(Setup {
        run_id,
        report_dir,
        stack,
    })
}

/// The stack flags, checked before anything is created.
pub(crate) fn stack_options(
    args: &StackArgs,
    plan: &Plan,
    report_dir: &Path,
    backend_exe: PathBuf,
    run_id: &str,
) -> Result<StackOptions> {
    let kind = if args.target.is_some() {
        StackKind::External
    } else {
        args.kind
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
    Ok(StackOptions {
        kind,
        target: args.target.clone(),
        frontend: args.frontend.clone(),
        logs_dir: report_dir.join("logs"),
        backend_exe,
        run_id: run_id.to_owned(),
        docker: args.docker.options(plan.replicas),
    })
}

/// `stack.json`: what ran where (no secrets) and how long it took to start, so a run
/// can be inspected afterwards.
pub(crate) fn record_stack(stack: &Stack, start_s: f64, report_dir: &Path) -> Result<()> {
    let processes: Vec<_> = stack
        .pids()
        .into_iter()
        .map(|(name, pid)| serde_json::json!({ "name": name, "pid": pid }))
        .collect();
    let containers: Vec<_> = stack
        .docker
        .as_ref()
        .map(|parts| parts.containers())
        .unwrap_or_default()
        .into_iter()
        .map(|(name, id, image)| serde_json::json!({ "name": name, "id": id, "image": image }))
        .collect();
    let record = serde_json::json!({
        "stack": kind_name(stack.kind),
        "start_s": (start_s * 100.0).round() / 100.0,
        "backend": stack.endpoints.backend,
        "frontend": stack.endpoints.frontend,
        "processes": processes,
        "containers": containers,
    });
    let path = report_dir.join("stack.json");
    std::fs::write(&path, format!("{record:#}\n"))
        .map_err(|e| Error::Internal(anyhow::anyhow!("cannot write {}: {e}", path.display())))
}

/// Brings the stack up unless a signal arrives first (`Ok(None)`); a half-started
/// stack is torn down as its future is dropped.
pub(crate) async fn provision(options: &StackOptions, interrupt: &Interrupt) -> Result<Option<Stack>> {
    tokio::select! {
        stack = stack::provision(options) => stack.map(Some),
        _ = interrupt.wait() => Ok(None),
    }
}

pub(crate) fn kind_name(kind: StackKind) -> &'static str {
    match kind {
        StackKind::Auto => "auto",
        StackKind::Local => "local",
        StackKind::Docker => "docker",
        StackKind::External => "external",
    }
}

/// The current time, RFC 3339, for reports.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `signup-20261125-171502-a3f9`: sortable, and unique enough for one machine.
pub(crate) fn run_id(scenario: &str) -> String {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let suffix = Alphanumeric
        .sample_string(&mut rand::thread_rng(), 4)
        .to_ascii_lowercase();
    format!("{scenario}-{stamp}-{suffix}")
}

/// A status line on stderr, apart from the results on stdout.
pub(crate) fn status(message: &str) {
    eprintln!("karigar-perf: {message}");
}

/// Where the load goes, with a fresh tag for this run's unique values.
pub(crate) fn load_options(stack: &Stack, quiet: bool, clients: Clients) -> LoadOptions {
    LoadOptions {
        backend_url: stack.endpoints.backend.clone(),
        frontend_url: stack.endpoints.frontend.clone(),
        run_tag: Alphanumeric
            .sample_string(&mut rand::thread_rng(), 8)
            .to_ascii_lowercase(),
        quiet,
        clients,
    }
}
