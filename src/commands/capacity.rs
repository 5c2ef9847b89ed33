//! `karigar-perf capacity`: the stepped search for the highest rate one backend
//! instance holds inside every SLO, on one stack, with the report rewritten after every
//! step so an interrupted search keeps what it measured.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::capacity::{self, Context, Search, StepContext, StepGenerators};
use crate::capacity::{CapacityReport, CapacitySettings, CAPACITY_SCHEMA_VERSION};
use crate::cli::CapacityArgs;
use crate::config::CapacityConfig;
use crate::console::status;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::policy;
use crate::report;
use crate::setup::{self, Setup};
use crate::stack::{Stack, StackKind};
use crate::telemetry::Targets;

/// Pause between steps, so that one step's backlog does not start the next.
const COOL_DOWN: Duration = Duration::from_secs(2);

/// Runs the search end to end and returns the exit code.
pub async fn run(args: &CapacityArgs, backend_exe: PathBuf) -> Result<u8> {
    let config = CapacityConfig::resolve(args)?;
    let interrupt = Interrupt::listen().map_err(|e| Error::Internal(e.into()))?;
    let setup = Setup::prepare(&config.stack, &config.reports, &config.plan.name, backend_exe)?;
    let Some(mut stack) = setup.start_stack(&interrupt, "capacity").await? else {
        status("interrupted before the first step; nothing was measured");
        return Ok(crate::exit::INTERRUPTED);
    };
    let searched = async {
        setup::seed_stack(&stack, &config.stack).await?;
        let targets = setup::telemetry_targets(&stack, &config.stack).await?;
        let mut report = new_report(&setup.run_id, &config, &stack, &targets);
        search(&config, &stack, &targets, &interrupt, &mut report, &setup).await?;
        Ok::<_, Error>(report)
    }
    .await;
    stack.teardown();
    let report = searched?;
    print!("{}", report::capacity_console(&report));
    report::write_capacity(&report, crate::deploy::table(&report).as_ref(), &setup.report_dir)?;
    println!("reports: {}", setup.report_dir.display());
    if let Some(out) = &args.emit_k8s {
        emit_k8s(&report, args, out)?;
    }
    Ok(exit_code(&report))
}

/// `--emit-k8s DIR`: the manifests of the sizing, or why there are none.
fn emit_k8s(report: &CapacityReport, args: &CapacityArgs, out: &std::path::Path) -> Result<()> {
    match crate::deploy::plan(report) {
        Ok(plan) => {
            let options = crate::config::k8s_options(&args.k8s);
            print!("{}", crate::deploy::emit_k8s(&plan, &options, out)?);
        }
        Err(why) => status(&format!("no manifests written: {why}")),
    }
    Ok(())
}

fn new_report(run_id: &str, config: &CapacityConfig, stack: &Stack, targets: &Targets) -> CapacityReport {
    let search = &config.search;
    CapacityReport {
        schema_version: CAPACITY_SCHEMA_VERSION,
        run_id: run_id.to_owned(),
        scenario: config.plan.name.clone(),
        started_at: crate::config::now(),
        target: setup::target_info(stack, &config.stack),
        settings: CapacitySettings {
            search: search.search,
            warmup_s: search.warmup.as_secs_f64(),
            step_s: search.measure.as_secs_f64(),
            max_steps: search.max_steps,
            error_budget: search.error_budget,
            checks: search.checks.clone(),
            target_rate: search.target_rate,
            limit_cores: targets.limits.cpu_cores,
            machine_cores: crate::telemetry::available_cores(),
        },
        verdict: String::new(),
        steps: Vec::new(),
        findings: Default::default(),
        complete: false,
        interrupted: false,
        elapsed_s: 0.0,
    }
}

/// Steps until the search is as precise as asked, `--max-steps` is reached or a
/// signal arrives; the report is rewritten after each.
async fn search(
    config: &CapacityConfig,
    stack: &Stack,
    targets: &Targets,
    interrupt: &Interrupt,
    report: &mut CapacityReport,
    setup: &Setup,
) -> Result<()> {
    let report_dir = &setup.report_dir;
    let started = Instant::now();
    let load = || {
        setup::load_options(
            stack,
            &config.stack,
            config.reports.quiet,
            crate::load::Clients::Shared,
        )
    };
    let generators = match &config.generators {
        Some(generators) => Some(StepGenerators {
            config: generators,
            placement: setup.placement(generators).await?,
        }),
        None => None,
    };
    let ctx = StepContext {
        generators,
        source: &config.source,
        checks: &config.search.checks,
        warmup: config.search.warmup,
        measure: config.search.measure,
        max_workers: config.search.max_workers,
        targets,
        load: &load,
        stop: interrupt.load_stop(),
    };
    let mut search = Search::new(config.search.search);
    while let Some(rate) = search.next() {
        if report.steps.len() >= config.search.max_steps || interrupt.fired() {
            break;
        }
        status(&format!(
            "step {}: offering {rate:.1} iterations/s",
            report.steps.len() + 1
        ));
        let result = capacity::measure(&ctx, rate).await?;
        status(&report::step_line(&result));
        search.record(rate, result.sustainable);
        report.interrupted = result.interrupted || interrupt.fired();
        report.steps.push(result);
        conclude(report, started, stack);
        report::write_capacity(report, crate::deploy::table(report).as_ref(), report_dir)?;
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
    report.findings = capacity::analyse(&report.steps, context);
    report.verdict = capacity::verdict(&report.scenario, &report.findings, policy::RESPONSE_MS);
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
