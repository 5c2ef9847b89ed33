//! `karigar-perf scenario`: one run, phase by phase: resolve -> provision -> load ->
//! evaluate -> report. Each phase is its own function; `run` only sequences them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::ScenarioArgs;
use crate::config::{Gate, ScenarioConfig};
use crate::console::status;
use crate::distributed::GeneratorReport;
use crate::distributed::{self, Generation, GenerationContext, GeneratorsConfig};
use crate::error::{Error, Result};
use crate::faults::{Backends, Evidence, FaultEvent, FaultReport, Injector};
use crate::interrupt::Interrupt;
use crate::live::{Feed, Listeners, Live};
use crate::load::{self, LoadRun};
use crate::metrics::{Collector, Measurements, Silences};
use crate::report::{self, RunFacts, RunVerdict, Summary};
use crate::scenario::Plan;
use crate::setup::{self, Setup};
use crate::slo::{WatchReport, WindowResult};
use crate::stack::Stack;
use crate::stop::Stop;
use crate::telemetry::{Sampler, Targets, Telemetry};
use crate::watch::Watch;

/// Runs a scenario end to end and returns the exit code. `backend_exe` serves the
/// reference backend when the local stack needs one (normally this very executable).
pub async fn run(args: &ScenarioArgs, backend_exe: PathBuf) -> Result<u8> {
    let config = ScenarioConfig::resolve(args)?;
    let listeners = Listeners::bind(&config.live)?;
    let interrupt = Interrupt::listen().map_err(|e| Error::Internal(e.into()))?;
    let setup = Setup::prepare(&config.stack, &config.reports, &config.plan.name, backend_exe)?;
    let Some(mut stack) = setup.start_stack(&interrupt, "run").await? else {
        return interrupted_before_load(&config, setup);
    };
    check_targets(&config.plan, &stack)?;
    let dataset = setup::seed_stack(&stack, &config.stack).await?;
    status(&format!(
        "stack ready: backend {} (logs in {})",
        stack.endpoints.backend,
        setup.stack.logs_dir.display()
    ));
    let started_at = crate::config::now();
    let driven = drive(&config, &stack, &setup, &interrupt, listeners).await;
    stack.teardown();
    let Some(driven) = driven? else {
        return interrupted_before_load(&config, setup);
    };
    let faults = fault_reports(&driven, &setup.stack.logs_dir);
    let named = crate::server_logs::named_ids(&driven.load.measurements);
    let server_logs = crate::server_logs::find(&setup.stack.logs_dir, &named);
    let telemetry = Telemetry {
        served: stack.served(),
        ..driven.telemetry
    };
    let facts = RunFacts {
        // A signal is an interruption, here or on the coordinator's side; an abort is not.
        interrupted: interrupt.fired() || driven.load.ending.by_signal(),
        aborted: driven.windows.aborted,
        dataset,
        faults,
        generators: driven.generators,
        server_logs,
        ..RunFacts::new(
            setup.run_id.clone(),
            started_at,
            setup::target_info(&stack, &config.stack),
        )
    };
    let judged = Judged {
        measured: &driven.load.measurements,
        telemetry: Some(&telemetry),
        windows: &driven.windows.results,
    };
    let (code, summary) = finish(&config, judged, facts, &setup.report_dir)?;
    if let Some(live) = driven.live {
        live.finish(report::html(&summary)).await;
    }
    Ok(code)
}

/// What the load phase produced, each part from its own module.
struct Driven {
    load: LoadRun,
    telemetry: Telemetry,
    windows: WatchReport,
    faults: Vec<FaultEvent>,
    /// Stretches without a successful response (not sent by generators).
    silences: Option<Silences>,
    generators: Vec<GeneratorReport>,
    /// The live view, kept until the final report can be shown on it.
    live: Option<Live>,
}

/// The load, here or on several generators; `None` when a signal came before it began.
async fn drive(
    config: &ScenarioConfig,
    stack: &Stack,
    setup: &Setup,
    interrupt: &Interrupt,
    listeners: Listeners,
) -> Result<Option<Driven>> {
    // What telemetry watches is checked before any load starts.
    let watch = Watched {
        targets: setup::telemetry_targets(stack, &config.stack).await?,
        listeners,
        run_id: setup.run_id.clone(),
    };
    let stop = interrupt.load_stop();
    match &config.generators {
        None => drive_here(config, stack, watch, stop).await.map(Some),
        Some(generators) => drive_generators(config, generators, stack, watch, setup, stop).await,
    }
}

/// The load in this process, with its companions.
async fn drive_here(config: &ScenarioConfig, stack: &Stack, watch: Watched, stop: Stop) -> Result<Driven> {
    let plan = config.plan.clone();
    let collector = Arc::new(Collector::with_windows(plan.step_keys(), plan.max_window()));
    let companions = Companions::start(config, stack, watch, &collector, &stop)?;
    let options = setup::load_options(stack, &config.stack, config.reports.quiet, config.clients);
    let load = load::run(plan, collector.clone(), options, stop).await;
    let (telemetry, windows, faults, live) = companions.finish().await;
    Ok(Driven {
        load: load?,
        telemetry,
        windows,
        faults,
        silences: Some(collector.silences()),
        generators: Vec::new(),
        live,
    })
}

/// The load on `generators`, merged live into one collector the companions watch;
/// `None` when `stop` fired before they all registered.
async fn drive_generators(
    config: &ScenarioConfig,
    generators: &GeneratorsConfig,
    stack: &Stack,
    watch: Watched,
    setup: &Setup,
    stop: Stop,
) -> Result<Option<Driven>> {
    let options = setup::load_options(stack, &config.stack, true, config.clients);
    let placement = setup.placement(generators).await?;
    let context = GenerationContext {
        scenario: distributed::scenario_text(&config.source),
        options: &options,
        placement: &placement,
    };
    let Some(generation) = Generation::start(generators, &config.plan, context, stop.stopped()).await? else {
        return Ok(None);
    };
    let companions = Companions::start(config, stack, watch, &generation.collector, &stop)?;
    let (load, finished) = generation.finish(config.reports.quiet, &stop).await;
    let (telemetry, windows, faults, live) = companions.finish().await;
    if finished.incomplete {
        let lost: Vec<&str> = finished
            .generators
            .iter()
            .filter(|g| !g.complete)
            .map(|g| g.name.as_str())
            .collect();
        status(&format!(
            "lost generator(s): {}; the run is incomplete",
            lost.join(", ")
        ));
    }
    Ok(Some(Driven {
        load,
        telemetry,
        windows,
        faults,
        silences: None,
        generators: finished.generators,
        live,
    }))
}

/// What telemetry watches and where the live view listens, settled before the load.
struct Watched {
    targets: Targets,
    listeners: Listeners,
    run_id: String,
}

/// What runs beside the load: telemetry samplers, the windowed SLO watch, faults, the
/// live view.
struct Companions {
    sampler: Sampler,
    watch: Option<Watch>,
    injector: Option<Injector>,
    live: Option<Live>,
}

impl Companions {
    fn start(
        config: &ScenarioConfig,
        stack: &Stack,
        watched: Watched,
        collector: &Arc<Collector>,
        stop: &Stop,
    ) -> Result<Self> {
        let plan = &config.plan;
        let limits = (
            watched.targets.limits.cpu_cores,
            watched.targets.limits.memory_bytes,
        );
        let sampler = Sampler::start(watched.targets, collector.clone());
        let feed = Feed {
            run_id: watched.run_id,
            scenario: plan.name.clone(),
            steps: plan.step_keys(),
            slos: plan.slos.clone(),
            collector: collector.clone(),
            latest: sampler.latest(),
            limits,
            open_model: plan.load.open.is_some(),
        };
        let live = Live::start(&config.live, watched.listeners, feed)?;
        Ok(Self {
            sampler,
            live,
            watch: Watch::start(
                &plan.slos,
                &plan.step_names(),
                plan.abort_after,
                collector.clone(),
                stop.clone(),
            ),
            injector: start_faults(plan, stack, collector),
        })
    }

    async fn finish(self) -> (Telemetry, WatchReport, Vec<FaultEvent>, Option<Live>) {
        let faults = match self.injector {
            Some(injector) => injector.finish().await,
            None => Vec::new(),
        };
        let telemetry = self.sampler.finish().await;
        let windows = match self.watch {
            Some(watch) => watch.finish().await,
            None => WatchReport::default(),
        };
        (telemetry, windows, faults, self.live)
    }
}

/// Starts the scenario's fault schedule against the Docker stack's backends.
fn start_faults(plan: &Plan, stack: &Stack, clock: &Arc<Collector>) -> Option<Injector> {
    let parts = stack.docker.as_ref().filter(|_| !plan.faults.is_empty())?;
    let backends = Backends {
        docker: parts.docker().clone(),
        members: parts.members(),
        fleet: parts.fleet(),
    };
    Some(Injector::start(plan.faults.clone(), backends, clock.clone()))
}

/// Each fault and deploy with its effect, from the series, the silences and the
/// balancer's access log (saved with the other logs at teardown).
fn fault_reports(driven: &Driven, logs_dir: &Path) -> Vec<FaultReport> {
    if driven.faults.is_empty() {
        return Vec::new();
    }
    let log = std::fs::read_to_string(logs_dir.join("lb.log")).unwrap_or_default();
    let balancer = crate::stack::access_log(&log);
    let evidence = Evidence {
        measured: &driven.load.measurements,
        silences: driven.silences.as_ref(),
        balancer: &balancer,
        threshold_ms: crate::policy::RESPONSE_MS,
    };
    crate::faults::analyse(&driven.faults, &evidence)
}

/// A signal arrived while the stack was starting: an empty report, marked interrupted.
fn interrupted_before_load(config: &ScenarioConfig, setup: Setup) -> Result<u8> {
    status("interrupted before the load started; nothing was measured");
    let facts = RunFacts {
        interrupted: true,
        ..RunFacts::new(setup.run_id.clone(), crate::config::now(), setup.planned_target())
    };
    let nothing = Measurements::empty(&config.plan.step_keys());
    let judged = Judged {
        measured: &nothing,
        telemetry: None,
        windows: &[],
    };
    finish(config, judged, facts, &setup.report_dir).map(|(code, _)| code)
}

fn check_targets(plan: &Plan, stack: &Stack) -> Result<()> {
    if !plan.faults.is_empty() {
        let replicas = stack.docker.as_ref().map_or(0, |parts| parts.backends().len());
        if replicas == 0 {
            return Err(Error::config(format!(
                "{}: faults need the Docker stack, and no Docker daemon answered (--stack auto chose local)",
                plan.faults[0].written_at
            )));
        }
        if let Some(deploy) = plan.faults.iter().find(|f| f.action.is_deploy() && replicas < 2) {
            return Err(Error::config(format!(
                "{}: a {} needs two or more backend replicas behind the balancer; the stack has {replicas} (--replicas)",
                deploy.written_at,
                deploy.action.name()
            )));
        }
        if let Some(fault) = plan.faults.iter().find(|f| f.replica() > replicas) {
            return Err(Error::config(format!(
                "{}: fault target {} does not exist: the stack has {replicas} backend replica(s) (--replicas)",
                fault.written_at, fault.target
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

/// What the verdicts are taken from.
struct Judged<'a> {
    measured: &'a Measurements,
    telemetry: Option<&'a Telemetry>,
    windows: &'a [Option<WindowResult>],
}

/// Evaluates the SLOs, compares with the baseline, prints the table, writes the
/// reports, picks the exit code.
fn finish(
    config: &ScenarioConfig,
    judged: Judged<'_>,
    facts: RunFacts,
    report_dir: &Path,
) -> Result<(u8, Summary)> {
    let plan = &config.plan;
    let verdicts = crate::slo::evaluate(&plan.slos, judged.measured, judged.telemetry, judged.windows);
    let comparison = config.gate.as_ref().map(|gate: &Gate| {
        gate.baseline
            .compare(&facts.run_id, judged.measured, gate.policy, &gate.history)
    });
    let facts = RunFacts { comparison, ..facts };
    let summary = Summary::build(plan, judged.measured, judged.telemetry, verdicts, facts);
    print!("{}", report::console(&summary));
    report::write(&summary, report_dir)?;
    write_measurements(judged.measured, &config.source.text, report_dir)?;
    println!("reports: {}", report_dir.display());
    if let Some(history) = &config.add_to_history {
        add_to_history(&summary, report_dir, history)?;
    }
    Ok((exit_code(&summary), summary))
}

/// Adds the run to `history` (`history/RUN-ID/summary.json`) unless a gate should not
/// learn from it: interrupted, a generator lost, or slower than the baseline.
fn add_to_history(summary: &Summary, report_dir: &Path, history: &Path) -> Result<()> {
    let refused = match summary.verdict {
        RunVerdict::Interrupted => Some("it was interrupted"),
        RunVerdict::Incomplete => Some("a load generator was lost"),
        _ if summary.regressed() => Some("it regressed against the baseline"),
        _ => None,
    };
    if let Some(why) = refused {
        println!("history: not added to {} ({why})", history.display());
        return Ok(());
    }
    let dir = history.join(&summary.run_id);
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::copy(report_dir.join("summary.json"), dir.join("summary.json")))
        .map_err(|e| Error::config(format!("--add-to-history {}: {e}", history.display())))?;
    println!("history: added to {}", history.display());
    Ok(())
}

/// `measurements.json`: what the load measured, lossless, and `scenario.toml`, the
/// scenario it ran: together what `merge` and re-analysis read.
fn write_measurements(measured: &Measurements, scenario: &str, report_dir: &Path) -> Result<()> {
    for (name, text) in [
        ("measurements.json", measured.to_json() + "\n"),
        ("scenario.toml", scenario.to_owned()),
    ] {
        let path = report_dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| Error::Internal(anyhow::anyhow!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

/// A baseline is the gate the user asked for: a regression outranks an SLO breach.
fn exit_code(summary: &Summary) -> u8 {
    match summary.verdict {
        RunVerdict::Pass | RunVerdict::Fail if summary.regressed() => crate::exit::REGRESSION,
        RunVerdict::Pass => crate::exit::PASS,
        RunVerdict::Fail => crate::exit::SLO_BREACH,
        RunVerdict::Interrupted => crate::exit::INTERRUPTED,
        RunVerdict::Incomplete => crate::exit::INCOMPLETE,
    }
}
