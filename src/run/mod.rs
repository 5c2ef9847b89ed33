//! One scenario run, phase by phase: resolve -> provision -> load -> evaluate ->
//! report. Each phase is its own function; this file only sequences them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

mod setup;

use crate::cli::ScenarioArgs;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::load::{self, LoadResult};
use crate::metrics::Collector;
use crate::report::{self, RunInfo, RunVerdict, Summary, TargetInfo};
use crate::scenario::{LoadOverrides, Plan, Source};
use crate::slo::{Watch, WatchReport};
use crate::stack::Stack;
use crate::telemetry::Sampler;
pub(crate) use setup::*;

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
    let setup = prepare(&args.stack, args.report_dir.as_deref(), &plan, backend_exe)?;
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
    let dataset = seed_stack(&stack, &args.stack, plan.seed_providers).await?;
    status(&format!(
        "stack ready: backend {} (logs in {})",
        stack.endpoints.backend,
        setup.stack.logs_dir.display()
    ));
    let started_at = now();
    let plan = Arc::new(plan);
    let collector = Arc::new(Collector::with_windows(plan.step_names(), plan.max_window()));
    let sampler = Sampler::start(telemetry_targets(&stack, &args.stack), collector.clone());
    let watch = Watch::start(
        &plan.slos,
        &plan.step_names(),
        plan.abort_after,
        collector.clone(),
    );
    let injector = start_faults(&plan, &stack, &collector);
    let result = load::run(
        plan.clone(),
        collector,
        load_options(&stack, args.quiet, args.clients),
    )
    .await;
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
