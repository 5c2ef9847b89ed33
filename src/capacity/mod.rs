//! `karigar-perf capacity`: how much load one backend instance holds inside the SLO.
//! Steps of constant open-model rate, each warmed up then measured, grow geometrically
//! until one breaks a check, then bisect; the steps are then reduced to a knee, a USL
//! fit, a CPU model with an independent estimate, and a sizing for a target rate.
//!
//! The report is rewritten after every step, so an interrupted search keeps what it
//! measured.

pub mod analysis;
pub mod knee;
mod report;
pub mod search;
pub mod sizing;
pub mod step;
pub mod usl;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cli::CapacityArgs;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::report::TargetInfo;
use crate::run::{self, status};
use crate::scenario::{LoadOverrides, Plan, Source};
use crate::stack::{Stack, StackKind};
use analysis::{Context, Findings};
use search::{Search, SearchSettings};
use step::{StepContext, StepResult};

/// The seed's response-time threshold every step is held to.
pub const P95_LIMIT_MS: f64 = 500.0;
/// Pause between steps, so that one step's backlog does not start the next.
const COOL_DOWN: Duration = Duration::from_secs(2);
/// Bumped when a field of `capacity.json` changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// `capacity.json`: the search, every step and what they add up to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CapacityReport {
    pub schema_version: u32,
    pub run_id: String,
    pub scenario: String,
    pub started_at: String,
    pub target: TargetInfo,
    pub settings: Settings,
    /// One line: the sustainable rate and, with a target, the replicas it needs.
    pub verdict: String,
    pub steps: Vec<StepResult>,
    pub findings: Findings,
    /// The search reached the asked precision (not stopped by `--max-steps` or a signal).
    pub complete: bool,
    pub interrupted: bool,
    /// Wall time of the search so far.
    pub elapsed_s: f64,
}

/// How the search was run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub search: SearchSettings,
    pub warmup_s: f64,
    pub step_s: f64,
    pub max_steps: usize,
    pub error_budget: f64,
    /// Every check a step must pass (the scenario's SLOs and the seed's).
    pub checks: Vec<String>,
    pub target_rate: Option<f64>,
    /// CPU limit of one backend instance and this machine's cores.
    pub limit_cores: f64,
    pub machine_cores: f64,
}

/// Runs the search end to end and returns the exit code.
pub async fn run(args: CapacityArgs, backend_exe: PathBuf) -> Result<u8> {
    let interrupt = Interrupt::listen().map_err(|e| Error::Internal(e.into()))?;
    let source = Source::locate(&args.scenario)?;
    let plan = Plan::build(&source, &LoadOverrides::default(), &[])?;
    let settings = settings(&args, &plan)?;
    let setup = run::prepare(&args.stack, args.report_dir.as_deref(), &plan, backend_exe)?;
    status(&format!(
        "capacity {}: starting the {} stack",
        setup.run_id,
        run::kind_name(setup.stack.kind)
    ));
    let provisioning = Instant::now();
    let Some(mut stack) = run::provision(&setup.stack, &interrupt).await? else {
        status("interrupted before the first step; nothing was measured");
        return Ok(crate::exit::INTERRUPTED);
    };
    run::record_stack(&stack, provisioning.elapsed().as_secs_f64(), &setup.report_dir)?;
    let searched = async {
        run::seed_stack(&stack, &args.stack, plan.seed_providers).await?;
        let mut report = new_report(&setup.run_id, &plan, &stack, settings);
        search(&args, &source, &stack, &interrupt, &mut report, &setup.report_dir).await?;
        Ok::<_, Error>(report)
    }
    .await;
    stack.teardown();
    let report = searched?;
    print!("{}", report::console(&report));
    report::write(&report, &setup.report_dir)?;
    println!("reports: {}", setup.report_dir.display());
    Ok(exit_code(&report))
}

/// The flags and the scenario, checked and resolved into the search's settings.
fn settings(args: &CapacityArgs, plan: &Plan) -> Result<Settings> {
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
    let target_rate = args.target_rps.or(plan.target_rps);
    if target_rate.is_some_and(|t| !positive(t)) {
        return bad("--target-rps must be above 0");
    }
    let machine_cores = crate::telemetry::available_cores();
    Ok(Settings {
        search: SearchSettings {
            start: args.start_rate,
            growth: args.growth,
            precision: args.precision,
            max_rate: args.max_rate,
        },
        warmup_s: args.warmup.as_secs() as f64,
        step_s: args.step_duration.as_secs() as f64,
        max_steps: args.max_steps,
        error_budget: args.error_budget,
        checks: checks(plan, args.error_budget),
        target_rate,
        limit_cores: args.stack.cpu_limit.unwrap_or(machine_cores),
        machine_cores,
    })
}

/// The seed's checks the scenario does not already make: p95 under 500 ms for every
/// step, and the error budget.
fn checks(plan: &Plan, error_budget: f64) -> Vec<String> {
    let has = |predicate: &dyn Fn(&crate::slo::SloExpr) -> bool| plan.slos.iter().any(predicate);
    let mut checks: Vec<String> = plan
        .step_names()
        .into_iter()
        .filter(|name| {
            !has(&|slo| {
                slo.step.as_ref() == Some(name)
                    && matches!(slo.metric, crate::slo::Metric::Percentile(q) if q == 0.95)
            })
        })
        .map(|name| format!("p95({name}) < {P95_LIMIT_MS}ms"))
        .collect();
    checks.push(format!("error_rate < {}%", error_budget * 100.0));
    checks
}

fn new_report(run_id: &str, plan: &Plan, stack: &Stack, settings: Settings) -> CapacityReport {
    CapacityReport {
        schema_version: SCHEMA_VERSION,
        run_id: run_id.to_owned(),
        scenario: plan.name.clone(),
        started_at: run::now(),
        target: TargetInfo {
            stack: run::kind_name(stack.kind).into(),
            backend: stack.endpoints.backend.clone(),
            frontend: stack.endpoints.frontend.clone(),
        },
        settings,
        verdict: String::new(),
        steps: Vec::new(),
        findings: Findings::default(),
        complete: false,
        interrupted: false,
        elapsed_s: 0.0,
    }
}

/// Steps until the search is as precise as asked, `--max-steps` is reached or a
/// signal arrives; the report is rewritten after each.
async fn search(
    args: &CapacityArgs,
    source: &Source,
    stack: &Stack,
    interrupt: &Interrupt,
    report: &mut CapacityReport,
    report_dir: &std::path::Path,
) -> Result<()> {
    let started = Instant::now();
    let targets = run::telemetry_targets(stack, &args.stack);
    report.settings.limit_cores = targets.limits.cpu_cores;
    let load = || run::load_options(stack, args.quiet, crate::load::Clients::Shared);
    let ctx = StepContext {
        source,
        checks: &report.settings.checks.clone(),
        warmup: args.warmup,
        measure: args.step_duration,
        max_workers: args.max_workers,
        targets: &targets,
        load: &load,
    };
    let mut search = Search::new(report.settings.search);
    while let Some(rate) = search.next() {
        if report.steps.len() >= report.settings.max_steps || interrupt.fired() {
            break;
        }
        status(&format!(
            "step {}: offering {rate:.1} iterations/s",
            report.steps.len() + 1
        ));
        let result = step::measure(&ctx, rate).await?;
        status(&report::step_line(&result));
        search.record(rate, result.sustainable);
        report.interrupted = result.interrupted || interrupt.fired();
        report.steps.push(result);
        conclude(report, started, stack);
        report::write(report, report_dir)?;
        if report.interrupted {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(COOL_DOWN) => {}
            _ = interrupt.wait() => {}
        }
    }
    report.interrupted = interrupt.fired();
    report.complete = !report.interrupted && search.next().is_none();
    conclude(report, started, stack);
    Ok(())
}

/// Re-derives the findings and the verdict from the steps so far.
fn conclude(report: &mut CapacityReport, started: Instant, stack: &Stack) {
    let settings = &report.settings;
    let context = Context {
        target_rate: settings.target_rate,
        limit_cores: settings.limit_cores,
        machine_cores: settings.machine_cores,
        shared_machine: stack.kind != StackKind::External,
    };
    report.findings = analysis::analyse(&report.steps, context);
    report.verdict = analysis::verdict(&report.scenario, &report.findings, P95_LIMIT_MS);
    report.elapsed_s = started.elapsed().as_secs_f64();
}

/// 130 interrupted; 3 when nothing held or the target needs more than HPA max; else 0.
fn exit_code(report: &CapacityReport) -> u8 {
    let findings = &report.findings;
    if report.interrupted {
        crate::exit::INTERRUPTED
    } else if findings.sustainable_rate.is_none()
        || findings.sizing.as_ref().is_some_and(|s| s.exceeds_hpa_max)
    {
        crate::exit::SLO_BREACH
    } else {
        crate::exit::PASS
    }
}
