//! `karigar-perf drill restore` and `drill redis-kill`: per policy one cycle (a rig
//! of its own, the scenario's load, the drill beside it), then one report of every
//! cycle with its checks and an exit code.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{RedisKillArgs, RestoreArgs};
use crate::config::{DrillConfig, RedisKillConfig, RestoreConfig};
use crate::console::status;
use crate::drill::{
    self, Clock, DrillKind, DrillReport, Journal, Policy, RedisTiming, RestoreTiming, Timeline,
};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::load::{self, Clients, LoadOptions, LoadRun};
use crate::metrics::Collector;
use crate::scenario::{LoadOverrides, Plan};
use crate::stack::{Rig, RigSettings};
use crate::stop::{Stop, StopReason};

/// A restore drill can take this long past T2 before the load gives up on it.
const RESTORE_BUDGET: Duration = Duration::from_secs(15 * 60);

pub async fn restore(args: &RestoreArgs, exe: PathBuf) -> Result<u8> {
    let RestoreConfig {
        drill,
        policies,
        timing,
    } = RestoreConfig::resolve(args, exe)?;
    create_report_dir(&drill)?;
    let interrupt = Interrupt::listen().map_err(|e| Error::Internal(e.into()))?;
    let mut report = new_report(&drill, DrillKind::Restore);
    for policy in policies {
        restore_cycle(&drill, policy, &timing, &interrupt, &mut report).await?;
        if report.interrupted {
            break;
        }
    }
    if let Some(first) = report.restores.first() {
        let projection = drill::projection(first);
        report.checks.push(drill::projection_check(&projection));
        report.projection = Some(projection);
    }
    finish(&drill, report)
}

/// One restore cycle under `policy`, added to `report` (or marked interrupted).
async fn restore_cycle(
    drill: &DrillConfig,
    policy: Policy,
    timing: &RestoreTiming,
    interrupt: &Interrupt,
    report: &mut DrillReport,
) -> Result<()> {
    let settings = RigSettings {
        postgres: drill::postgres_settings(),
        appendfsync: "everysec".into(),
    };
    let horizon = timing.backup_at + timing.destroy_after + RESTORE_BUDGET;
    let label = format!("drill restore ({})", policy.name());
    let mut cycle = Cycle::start(drill, &settings, horizon, &label, interrupt.load_stop()).await?;
    let clock = cycle.clock(label, drill.quiet);
    let outcome = tokio::select! {
        outcome = drill::restore_cycle(&mut cycle.rig, policy, timing, &clock, &cycle.journal) => Some(outcome),
        _ = interrupt.wait() => None,
    };
    let measured = cycle.stop().await?;
    let mut marks = Vec::new();
    match outcome {
        Some(Ok(outcome)) => {
            marks.extend([
                (outcome.backup_started_s, "base backup".to_string()),
                (outcome.destroyed_s, "Postgres destroyed (T2)".to_string()),
            ]);
            marks.extend(outcome.phases.iter().map(|p| (p.start_s, p.name.clone())));
            report.checks.extend(drill::restore_checks(&outcome));
            report.restores.push(outcome);
        }
        Some(Err(e)) => report.errors.push(format!("{}: {e}", policy.name())),
        None => report.interrupted = true,
    }
    report.timelines.push(Timeline {
        label: format!("{} policy", policy.name()),
        seconds: drill::seconds(&measured.measurements),
        marks,
    });
    Ok(())
}

pub async fn redis_kill(args: &RedisKillArgs, exe: PathBuf) -> Result<u8> {
    let RedisKillConfig {
        drill,
        appendfsync,
        timing,
    } = RedisKillConfig::resolve(args, exe)?;
    create_report_dir(&drill)?;
    let interrupt = Interrupt::listen().map_err(|e| Error::Internal(e.into()))?;
    let mut report = new_report(&drill, DrillKind::RedisKill);
    for setting in appendfsync {
        redis_cycle(&drill, setting, &timing, &interrupt, &mut report).await?;
        if report.interrupted {
            break;
        }
    }
    finish(&drill, report)
}

/// One Redis kill with `appendfsync`, added to `report` (or marked interrupted).
async fn redis_cycle(
    drill: &DrillConfig,
    appendfsync: &str,
    timing: &RedisTiming,
    interrupt: &Interrupt,
    report: &mut DrillReport,
) -> Result<()> {
    let settings = RigSettings {
        postgres: Vec::new(),
        appendfsync: appendfsync.into(),
    };
    let label = format!("drill redis-kill ({appendfsync})");
    let horizon = timing.kill_at + Duration::from_secs(60);
    let mut cycle = Cycle::start(drill, &settings, horizon, &label, interrupt.load_stop()).await?;
    let clock = cycle.clock(label, drill.quiet);
    let killed = tokio::select! {
        killed = drill::redis_kill_now(&mut cycle.rig, timing, &clock) => Some(killed),
        _ = interrupt.wait() => None,
    };
    let measured = cycle.stop().await?;
    let Some(killed_s) = killed else {
        report.interrupted = true;
        return Ok(());
    };
    let seconds = drill::seconds(&measured.measurements);
    let recovered = drill::redis_recover(&mut cycle.rig, appendfsync, killed_s, &clock, &cycle.journal).await;
    let mut marks = vec![(killed_s, "Redis killed (SIGKILL)".to_string())];
    match recovered {
        Ok(mut outcome) => {
            outcome.failed_requests = seconds
                .iter()
                .filter(|s| s.second >= killed_s.floor() as u64)
                .map(|s| s.errors)
                .sum();
            marks.extend(outcome.phases.iter().map(|p| (p.start_s, p.name.clone())));
            report.checks.push(drill::redis_check(&outcome));
            report.redis.push(outcome);
        }
        Err(e) => report.errors.push(format!("{appendfsync}: {e}")),
    }
    report.timelines.push(Timeline {
        label: format!("appendfsync {appendfsync}"),
        seconds,
        marks,
    });
    Ok(())
}

/// The report folder and its `logs/`, made before the first rig writes there.
fn create_report_dir(drill: &DrillConfig) -> Result<()> {
    crate::setup::create_report_dir(&drill.report_dir, &drill.stack.logs_dir)
}

fn new_report(drill: &DrillConfig, kind: DrillKind) -> DrillReport {
    DrillReport {
        schema_version: drill::DRILL_SCHEMA_VERSION,
        kind,
        run_id: drill.run_id.clone(),
        scenario: drill.plan.name.clone(),
        started_at: drill.started_at.clone(),
        users: drill.plan.load.users,
        pass: false,
        interrupted: false,
        checks: Vec::new(),
        restores: Vec::new(),
        projection: None,
        redis: Vec::new(),
        timelines: Vec::new(),
        errors: Vec::new(),
    }
}

/// Settles the verdict, prints it, writes the reports, picks the exit code.
fn finish(drill: &DrillConfig, mut report: DrillReport) -> Result<u8> {
    report.settle();
    print!("{}", crate::report::drill_console(&report));
    crate::report::write_drill(&report, &drill.report_dir)?;
    println!("reports: {}", drill.report_dir.display());
    Ok(if report.interrupted {
        crate::exit::INTERRUPTED
    } else if !report.errors.is_empty() {
        crate::exit::STACK
    } else if report.pass {
        crate::exit::PASS
    } else {
        crate::exit::SLO_BREACH
    })
}

/// One cycle: a rig of its own and the scenario's load against it, logging writes.
struct Cycle {
    rig: Rig,
    collector: Arc<Collector>,
    journal: Arc<Journal>,
    load: tokio::task::JoinHandle<Result<LoadRun>>,
    /// The load's stop: the drill's own when its work is done, or a signal.
    stop: Stop,
}

impl Cycle {
    async fn start(
        drill: &DrillConfig,
        settings: &RigSettings,
        horizon: Duration,
        label: &str,
        stop: Stop,
    ) -> Result<Self> {
        status(&format!("{label}: starting Postgres, Redis and the backend"));
        let rig = Rig::start(&drill.stack, settings).await?;
        let overrides = LoadOverrides {
            users: drill.users,
            duration: Some(horizon),
            ..Default::default()
        };
        let plan = Plan::build(&drill.source, &overrides, &[])?;
        let collector = Arc::new(Collector::new(plan.step_keys()));
        let journal = Arc::new(Journal::new(drill.write_steps.clone(), drill.key_var));
        let options = LoadOptions {
            backend_url: rig.backend_url(),
            frontend_url: None,
            run_tag: crate::setup::run_tag(),
            quiet: true,
            clients: Clients::Shared,
            user_offset: 0,
            hook: Some(journal.clone()),
            http: Default::default(),
            generator: None,
        };
        status(&format!(
            "{label}: {} users on {}, every acknowledged write logged",
            plan.load.users,
            rig.backend_url()
        ));
        let load = tokio::spawn(load::run(
            Arc::new(plan),
            collector.clone(),
            options,
            stop.clone(),
        ));
        Ok(Self {
            rig,
            collector,
            journal,
            load,
            stop,
        })
    }

    /// The load's clock, for the drill beside it.
    fn clock(&self, label: String, quiet: bool) -> Clock {
        Clock {
            collector: self.collector.clone(),
            label,
            quiet,
        }
    }

    /// Stops the load and returns what it measured.
    async fn stop(&mut self) -> Result<LoadRun> {
        self.stop.stop(StopReason::DrillDone);
        let ended = (&mut self.load).await;
        ended.map_err(|e| Error::Internal(anyhow::anyhow!("load task: {e}")))?
    }
}
