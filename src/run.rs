//! One scenario run, phase by phase: resolve -> provision -> load -> evaluate ->
//! report. Each phase is its own function; this file only sequences them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::distributions::{Alphanumeric, DistString};

use crate::cli::ScenarioArgs;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::load::{self, LoadOptions, LoadResult};
use crate::metrics::Collector;
use crate::report::{self, RunInfo, RunVerdict, Summary, TargetInfo};
use crate::scenario::{LoadOverrides, Plan, Source};
use crate::seed::SeedReport;
use crate::slo::{Watch, WatchReport};
use crate::stack::{self, Stack, StackKind, StackOptions};
use crate::telemetry::{available_cores, Limits, Sampler, Targets};

/// How a run ended, when it ran at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    SloBreach,
    Regression,
    Interrupted,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Pass => crate::exit::PASS,
            Self::SloBreach => crate::exit::SLO_BREACH,
            Self::Regression => crate::exit::REGRESSION,
            Self::Interrupted => crate::exit::INTERRUPTED,
        }
    }
}

/// Runs a scenario end to end. `backend_exe` serves the reference backend when the
/// local stack needs one (normally this very executable).
pub async fn scenario(args: ScenarioArgs, backend_exe: PathBuf) -> Result<Outcome> {
    let interrupt = Interrupt::listen().map_err(|e| Error::Internal(e.into()))?;
    let plan = resolve(&args)?;
    let baseline = args.baseline.as_deref().map(report::load).transpose()?;
    let setup = prepare(&args, &plan, backend_exe)?;
    status(&format!(
        "run {}: starting the {} stack",
        setup.run_id,
        kind_name(setup.stack.kind)
    ));
    let provisioning = std::time::Instant::now();
    let Some(mut stack) = provision(&setup.stack, &interrupt).await? else {
        return interrupted_before_load(&plan, setup);
    };
    let start_s = provisioning.elapsed().as_secs_f64();
    check_targets(&plan, &stack)?;
    record_stack(&stack, start_s, &setup.report_dir)?;
    let dataset = seed_stack(&stack, &args, plan.seed_providers).await?;
    status(&format!(
        "stack ready: backend {} (logs in {})",
        stack.endpoints.backend,
        setup.stack.logs_dir.display()
    ));
    let started_at = now();
    let plan = Arc::new(plan);
    let collector = Arc::new(Collector::with_windows(plan.step_names(), plan.max_window()));
    let sampler = Sampler::start(telemetry_targets(&stack, &args), collector.clone());
    let watch = Watch::start(
        &plan.slos,
        &plan.step_names(),
        plan.abort_after,
        collector.clone(),
    );
    let injector = start_faults(&plan, &stack, &collector);
    let result = load::run(plan.clone(), collector, load_options(&stack, &args)).await;
    let faults = match injector {
        Some(injector) => injector.finish().await,
        None => Vec::new(),
    };
    let telemetry = sampler.finish().await;
    let windows = match watch {
        Some(watch) => watch.finish().await,
        None => WatchReport::default(),
    };
    stack.teardown();
    let mut result = result?;
    let mut telemetry = telemetry;
    telemetry.served = stack.served();
    result.telemetry = Some(telemetry);
    result.dataset = dataset;
    result.faults = faults;
    result.windows = windows.results;
    let info = RunInfo {
        run_id: setup.run_id,
        started_at,
        target: target_info(&stack),
        // Our own abort pulls Goose's killswitch too; only a signal is an interruption.
        interrupted: interrupt.fired() || (result.interrupted && windows.aborted.is_none()),
        aborted: windows.aborted,
    };
    let gate = baseline.map(|base| (base, args.gate.policy()));
    finish(&plan, &result, info, gate, &setup.report_dir)
}

/// Starts the scenario's fault schedule against the Docker stack's backends.
fn start_faults(plan: &Plan, stack: &Stack, clock: &Arc<Collector>) -> Option<crate::faults::Injector> {
    let parts = stack.docker.as_ref().filter(|_| !plan.faults.is_empty())?;
    let instances = parts
        .backends()
        .iter()
        .map(|b| (b.name.clone(), b.container_id.clone()))
        .collect();
    Some(crate::faults::Injector::start(
        plan.faults.clone(),
        instances,
        parts.docker().clone(),
        clock.clone(),
    ))
}

/// Seeds the stack's database when `--seed-providers` asks for it.
async fn seed_stack(
    stack: &Stack,
    args: &ScenarioArgs,
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
fn telemetry_targets(stack: &Stack, args: &ScenarioArgs) -> Targets {
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
struct Setup {
    run_id: String,
    report_dir: PathBuf,
    stack: StackOptions,
}

/// Names the run and creates its report folder, once the flags are known to be good.
fn prepare(args: &ScenarioArgs, plan: &Plan, backend_exe: PathBuf) -> Result<Setup> {
    let run_id = run_id(&plan.name);
    let report_dir = args
        .report_dir
        .clone()
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

/// A signal arrived while the stack was starting: an empty report, marked interrupted.
fn interrupted_before_load(plan: &Plan, setup: Setup) -> Result<Outcome> {
    status("interrupted before the load started; nothing was measured");
    let nothing = LoadResult {
        open: None,
        snapshot: Collector::new(plan.step_names()).snapshot(),
        interrupted: true,
        telemetry: None,
        windows: Vec::new(),
        dataset: None,
        faults: Vec::new(),
    };
    let info = RunInfo {
        run_id: setup.run_id,
        started_at: now(),
        target: TargetInfo {
            stack: kind_name(setup.stack.kind).into(),
            backend: setup
                .stack
                .target
                .clone()
                .unwrap_or_else(|| "(not started)".into()),
            frontend: setup.stack.frontend.clone(),
        },
        interrupted: true,
        aborted: None,
    };
    finish(plan, &nothing, info, None, &setup.report_dir)
}

/// Scenario file + command line -> a validated plan.
fn resolve(args: &ScenarioArgs) -> Result<Plan> {
    let source = Source::locate(&args.scenario)?;
    let overrides = LoadOverrides {
        users: args.users,
        increase_rate: args.increase_rate,
        duration: args.duration,
        test_plan: args.test_plan.clone(),
        rate: args.rate.clone(),
        arrivals: args.arrivals,
        max_workers: args.max_workers,
    };
    Plan::build_with_abort(&source, &overrides, &args.slos, args.abort_after)
}

/// The stack flags, checked before anything is created.
fn stack_options(
    args: &ScenarioArgs,
    plan: &Plan,
    report_dir: &Path,
    backend_exe: PathBuf,
    run_id: &str,
) -> Result<StackOptions> {
    let kind = if args.target.is_some() {
        StackKind::External
    } else {
        args.stack
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
fn record_stack(stack: &Stack, start_s: f64, report_dir: &Path) -> Result<()> {
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
async fn provision(options: &StackOptions, interrupt: &Interrupt) -> Result<Option<Stack>> {
    tokio::select! {
        stack = stack::provision(options) => stack.map(Some),
        _ = interrupt.wait() => Ok(None),
    }
}

fn check_targets(plan: &Plan, stack: &Stack) -> Result<()> {
    if !plan.faults.is_empty() {
        let replicas = stack.docker.as_ref().map_or(0, |parts| parts.backends().len());
        if replicas == 0 {
            return Err(Error::config(
                "faults need the Docker stack, and no Docker daemon answered (--stack auto chose local)",
            ));
        }
        if let Some(fault) = plan.faults.iter().find(|f| f.replica() > replicas) {
            return Err(Error::config(format!(
                "fault target {} does not exist: the stack has {replicas} backend replica(s) (--replicas)",
                fault.target
            )));
        }
    }
    if plan.uses_frontend() && stack.endpoints.frontend.is_none() {
        return Err(Error::config(format!(
            "scenario {} has frontend steps, but there is no frontend: pass --frontend URL",
            plan.name
        )));
    }
    Ok(())
}

fn load_options(stack: &Stack, args: &ScenarioArgs) -> LoadOptions {
    LoadOptions {
        backend_url: stack.endpoints.backend.clone(),
        frontend_url: stack.endpoints.frontend.clone(),
        run_tag: Alphanumeric
            .sample_string(&mut rand::thread_rng(), 8)
            .to_ascii_lowercase(),
        quiet: args.quiet,
    }
}

/// Evaluates the SLOs, compares with the baseline, prints the table, writes the
/// reports, picks the outcome.
fn finish(
    plan: &Plan,
    result: &LoadResult,
    info: RunInfo,
    gate: Option<(Summary, crate::compare::Policy)>,
    report_dir: &Path,
) -> Result<Outcome> {
    let verdicts = crate::slo::evaluate(
        &plan.slos,
        &result.snapshot,
        result.telemetry.as_ref(),
        &result.windows,
    );
    let mut summary = Summary::new(plan, &result.snapshot, result.telemetry.as_ref(), verdicts, info);
    summary.dataset = result.dataset.clone();
    summary.open_model = result.open.clone();
    summary.faults = crate::faults::analyse(
        &result.faults,
        &result.snapshot,
        crate::report::infrastructure::RESPONSE_TRIGGER_MS,
    );
    summary.comparison = gate.map(|(base, policy)| crate::compare::compare(&base, &summary, policy));
    print!("{}", report::console::render(&summary));
    report::write(&summary, report_dir)?;
    println!("reports: {}", report_dir.display());
    // A baseline is the gate the user asked for: a regression outranks an SLO breach.
    Ok(match summary.verdict {
        RunVerdict::Pass | RunVerdict::Fail if summary.regressed() => Outcome::Regression,
        RunVerdict::Pass => Outcome::Pass,
        RunVerdict::Fail => Outcome::SloBreach,
        RunVerdict::Interrupted => Outcome::Interrupted,
    })
}

fn target_info(stack: &Stack) -> TargetInfo {
    TargetInfo {
        stack: kind_name(stack.kind).into(),
        backend: stack.endpoints.backend.clone(),
        frontend: stack.endpoints.frontend.clone(),
    }
}

fn kind_name(kind: StackKind) -> &'static str {
    match kind {
        StackKind::Auto => "auto",
        StackKind::Local => "local",
        StackKind::Docker => "docker",
        StackKind::External => "external",
    }
}

/// The current time, RFC 3339, for reports.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `signup-20261125-171502-a3f9`: sortable, and unique enough for one machine.
fn run_id(scenario: &str) -> String {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let suffix = Alphanumeric
        .sample_string(&mut rand::thread_rng(), 4)
        .to_ascii_lowercase();
    format!("{scenario}-{stamp}-{suffix}")
}

/// A status line on stderr, apart from the results on stdout.
fn status(message: &str) {
    eprintln!("karigar-perf: {message}");
}
