//! `karigar-perf drill restore` and `drill redis-kill`: per policy one cycle (a rig
//! of its own, the scenario's load, the drill beside it), then one report of every
//! cycle with its checks and an exit code.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{DrillArgs, FsyncChoice, PolicyChoice, RedisKillArgs, RestoreArgs};
use crate::console::status;
use crate::drill::{
    self, Clock, DrillKind, DrillReport, Journal, Policy, RedisTiming, RestoreTiming, Timeline,
};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::load::{self, Clients, LoadOptions, LoadRun};
use crate::metrics::Collector;
use crate::scenario::{LoadOverrides, Plan, Source};
use crate::stack::{Rig, RigSettings, StackKind, StackOptions};

/// A restore drill can take this long past T2 before the load gives up on it.
const RESTORE_BUDGET: Duration = Duration::from_secs(15 * 60);

pub async fn restore(args: &RestoreArgs, exe: PathBuf) -> Result<u8> {
    let drill = Prepared::resolve(&args.drill, "restore", exe, &["register"], "email")?;
    let timing = restore_timing(args)?;
    let policies = match args.policy {
        PolicyChoice::Both => vec![Policy::Wal, Policy::Base],
        PolicyChoice::Wal => vec![Policy::Wal],
        PolicyChoice::Base => vec![Policy::Base],
    };
    let interrupt = Interrupt::listen().map_err(|e| Error::Internal(e.into()))?;
    let mut report = drill.report(DrillKind::Restore);
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
    drill.finish(report)
}

/// `--backup-at`, `--destroy-after`, `--after` and `--check TABLE.COLUMN`, checked.
fn restore_timing(args: &RestoreArgs) -> Result<RestoreTiming> {
    let (table, column) = args.check.split_once('.').ok_or_else(|| {
        Error::config(format!(
            "--check {:?}: write TABLE.COLUMN, e.g. users.email",
            args.check
        ))
    })?;
    Ok(RestoreTiming {
        backup_at: args.backup_at,
        destroy_after: args.destroy_after,
        after: args.after,
        table: table.to_owned(),
        column: column.to_owned(),
    })
}

/// One restore cycle under `policy`, added to `report` (or marked interrupted).
async fn restore_cycle(
    drill: &Prepared,
    policy: Policy,
    timing: &RestoreTiming,
    interrupt: &Interrupt,
    report: &mut DrillReport,
) -> Result<()> {
    let settings = RigSettings {
        postgres: drill::postgres_settings(policy),
        appendfsync: "everysec".into(),
    };
    let horizon = timing.backup_at + timing.destroy_after + RESTORE_BUDGET;
    let label = format!("drill restore ({})", policy.name());
    let mut cycle = Cycle::start(drill, &settings, horizon, &label).await?;
    let clock = cycle.clock(label, drill.quiet);
    let outcome = tokio::select! {
        outcome = drill::restore_cycle(&mut cycle.rig, policy, timing, &clock, &cycle.journal) => Some(outcome),
        _ = interrupt.wait_during_load() => None,
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
    let drill = Prepared::resolve(&args.drill, "redis-kill", exe, &[], "refresh_token")?;
    let timing = RedisTiming {
        kill_at: args.kill_at,
    };
    let policies: &[&str] = match args.appendfsync {
        FsyncChoice::Both => &["everysec", "always"],
        FsyncChoice::Everysec => &["everysec"],
        FsyncChoice::Always => &["always"],
    };
    let interrupt = Interrupt::listen().map_err(|e| Error::Internal(e.into()))?;
    let mut report = drill.report(DrillKind::RedisKill);
    for appendfsync in policies {
        redis_cycle(&drill, appendfsync, &timing, &interrupt, &mut report).await?;
        if report.interrupted {
            break;
        }
    }
    drill.finish(report)
}

/// One Redis kill with `appendfsync`, added to `report` (or marked interrupted).
async fn redis_cycle(
    drill: &Prepared,
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
    let mut cycle = Cycle::start(drill, &settings, horizon, &label).await?;
    let clock = cycle.clock(label, drill.quiet);
    let killed = tokio::select! {
        killed = drill::redis_kill_now(&mut cycle.rig, timing, &clock) => Some(killed),
        _ = interrupt.wait_during_load() => None,
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

/// A drill's settings, resolved once: the plan, what the journal logs, the report folder.
struct Prepared {
    quiet: bool,
    source: Source,
    users: Option<usize>,
    plan: Plan,
    write_steps: Vec<usize>,
    key_var: usize,
    run_id: String,
    report_dir: PathBuf,
    options: StackOptions,
    started_at: String,
}

impl Prepared {
    fn resolve(
        args: &DrillArgs,
        kind: &str,
        exe: PathBuf,
        default_write: &[&str],
        default_key: &str,
    ) -> Result<Self> {
        let source = Source::locate(&args.scenario)?;
        let overrides = LoadOverrides {
            users: args.users,
            ..Default::default()
        };
        let plan = Plan::build(&source, &overrides, &[])?;
        let key = args.key.as_deref().unwrap_or(default_key);
        let key_var = plan.var_names.iter().position(|v| v == key).ok_or_else(|| {
            Error::config(format!(
                "scenario {} has no variable {key:?} to name its writes (--key); it has {}",
                plan.name,
                plan.var_names.join(", ")
            ))
        })?;
        let write_steps = write_steps(&plan, &args.write, default_write, key_var)?;
        let run_id = crate::setup::run_id(&format!("drill-{kind}"));
        let report_dir = crate::config::output_path(args.reports.report_dir.as_deref(), &run_id);
        let options = StackOptions {
            kind: StackKind::Local,
            logs_dir: report_dir.join("logs"),
            backend_exe: exe,
            run_id: run_id.clone(),
            backend_env: plan.stack.backend_env.clone(),
            install_missing: !args.no_install,
            target: None,
            frontend: None,
            docker: Default::default(),
        };
        crate::setup::create_report_dir(&report_dir, &options.logs_dir)?;
        Ok(Self {
            quiet: args.progress.quiet,
            source,
            users: args.users,
            plan,
            write_steps,
            key_var,
            run_id,
            report_dir,
            options,
            started_at: crate::setup::now(),
        })
    }

    fn report(&self, kind: DrillKind) -> DrillReport {
        DrillReport {
            schema_version: drill::DRILL_SCHEMA_VERSION,
            kind,
            run_id: self.run_id.clone(),
            scenario: self.plan.name.clone(),
            started_at: self.started_at.clone(),
            users: self.plan.load.users,
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
    fn finish(&self, mut report: DrillReport) -> Result<u8> {
        report.settle();
        print!("{}", crate::report::drill_console(&report));
        crate::report::write_drill(&report, &self.report_dir)?;
        println!("reports: {}", self.report_dir.display());
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
}

/// The plan indices of the write steps: those named, else the defaults, else every
/// step that captures the key.
fn write_steps(plan: &Plan, named: &[String], default_write: &[&str], key_var: usize) -> Result<Vec<usize>> {
    let names: Vec<&str> = match named.is_empty() {
        false => named.iter().map(String::as_str).collect(),
        true => default_write.to_vec(),
    };
    if names.is_empty() {
        let capturing: Vec<usize> = (0..plan.steps.len())
            .filter(|&i| plan.steps[i].captures.iter().any(|c| c.var == key_var))
            .collect();
        if capturing.is_empty() {
            return Err(Error::config(format!(
                "no step of scenario {} captures the key variable: name the write steps with --write",
                plan.name
            )));
        }
        return Ok(capturing);
    }
    names
        .iter()
        .map(|name| {
            plan.steps.iter().position(|s| s.name == *name).ok_or_else(|| {
                Error::config(format!("scenario {} has no step {name:?} (--write)", plan.name))
            })
        })
        .collect()
}

/// One cycle: a rig of its own and the scenario's load against it, logging writes.
struct Cycle {
    rig: Rig,
    collector: Arc<Collector>,
    journal: Arc<Journal>,
    load: tokio::task::JoinHandle<Result<LoadRun>>,
}

impl Cycle {
    async fn start(drill: &Prepared, settings: &RigSettings, horizon: Duration, label: &str) -> Result<Self> {
        status(&format!("{label}: starting Postgres, Redis and the backend"));
        let rig = Rig::start(&drill.options, settings).await?;
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
            journal: Some(journal.clone()),
        };
        status(&format!(
            "{label}: {} users on {}, every acknowledged write logged",
            plan.load.users,
            rig.backend_url()
        ));
        let load = tokio::spawn(load::run(Arc::new(plan), collector.clone(), options));
        Ok(Self {
            rig,
            collector,
            journal,
            load,
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

    /// Stops the load (Goose's killswitch) and returns what it measured. The switch is
    /// pulled until the load has ended (Goose clears it when a load starts, so a load
    /// that had only just begun could miss one pull), then cleared for the next cycle.
    async fn stop(&mut self) -> Result<LoadRun> {
        let ended = loop {
            goose::trigger_killswitch("the drill is done");
            tokio::select! {
                ended = &mut self.load => break ended,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        };
        goose::reset_killswitch();
        ended.map_err(|e| Error::Internal(anyhow::anyhow!("load task: {e}")))?
    }
}
