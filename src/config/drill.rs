//! `drill restore` and `drill redis-kill`: the scenario whose load writes, what names
//! each write, the cycles to run and their timing, checked before any rig starts.

use std::path::PathBuf;

use crate::cli::{DrillArgs, FsyncChoice, PolicyChoice, RedisKillArgs, RestoreArgs};
use crate::drill::{Policy, RedisTiming, RestoreTiming};
use crate::error::{Error, Result};
use crate::scenario::{LoadOverrides, Plan, Source};
use crate::stack::{StackKind, StackOptions};

/// What every drill takes: the plan, what the journal logs, the report folder, the rig.
pub struct DrillConfig {
    pub quiet: bool,
    /// Rebuilt into each cycle's plan, with that cycle's horizon.
    pub source: Source,
    pub users: Option<usize>,
    pub plan: Plan,
    /// The plan indices of the steps whose 2xx acknowledges a write.
    pub write_steps: Vec<usize>,
    /// The session variable naming each write.
    pub key_var: usize,
    pub run_id: String,
    pub report_dir: PathBuf,
    /// Each cycle's local rig.
    pub stack: StackOptions,
    pub started_at: String,
}

/// `drill restore`: one cycle per backup policy.
pub struct RestoreConfig {
    pub drill: DrillConfig,
    pub policies: Vec<Policy>,
    pub timing: RestoreTiming,
}

/// `drill redis-kill`: one cycle per `appendfsync` setting.
pub struct RedisKillConfig {
    pub drill: DrillConfig,
    pub appendfsync: Vec<&'static str>,
    pub timing: RedisTiming,
}

impl RestoreConfig {
    pub fn resolve(args: &RestoreArgs, exe: PathBuf) -> Result<Self> {
        let policies = match args.policy {
            PolicyChoice::Both => vec![Policy::Wal, Policy::Base],
            PolicyChoice::Wal => vec![Policy::Wal],
            PolicyChoice::Base => vec![Policy::Base],
        };
        Ok(Self {
            drill: DrillConfig::resolve(&args.drill, "restore", exe, &["register"], "email")?,
            policies,
            timing: restore_timing(args)?,
        })
    }
}

impl RedisKillConfig {
    pub fn resolve(args: &RedisKillArgs, exe: PathBuf) -> Result<Self> {
        let appendfsync = match args.appendfsync {
            FsyncChoice::Both => vec!["everysec", "always"],
            FsyncChoice::Everysec => vec!["everysec"],
            FsyncChoice::Always => vec!["always"],
        };
        Ok(Self {
            drill: DrillConfig::resolve(&args.drill, "redis-kill", exe, &[], "refresh_token")?,
            appendfsync,
            timing: RedisTiming {
                kill_at: args.kill_at,
            },
        })
    }
}

impl DrillConfig {
    /// `default_write` and `default_key` are the drill's own: what it checks is a write.
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
        let run_id = super::run_id(&format!("drill-{kind}"));
        let report_dir = super::output_path(args.reports.report_dir.as_deref(), &run_id);
        let stack = StackOptions {
            kind: StackKind::Local,
            logs_dir: report_dir.join("logs"),
            backend_exe: exe,
            run_id: run_id.clone(),
            backend_env: plan.stack.backend_env.clone(),
            install_missing: !args.no_install,
            target: None,
            frontend: None,
            docker: Default::default(),
            http: Default::default(),
        };
        Ok(Self {
            quiet: args.progress.quiet,
            source,
            users: args.users,
            plan,
            write_steps,
            key_var,
            run_id,
            report_dir,
            stack,
            started_at: super::now(),
        })
    }
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
