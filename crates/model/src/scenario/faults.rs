//! `[[faults]]`: which backend instance to kill, pause or stop, when, and for how long,
//! and the deploys (`rolling-restart`, `blue-green`, `rollback`) of the whole backend;
//! validated here, carried out by the harness's `faults`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::model::RawFault;
use super::profile::parse_duration;
use super::source::Source;
use crate::error::Result;

/// What happens to the instance, or to the backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// SIGKILL: in-flight requests fail at once; started again after `duration`.
    Kill,
    /// Frozen (cgroup freezer): requests hang; thawed after `duration`.
    Pause,
    /// SIGTERM, a graceful stop; started again after `duration`.
    Stop,
    /// Each replica in turn: its successor started and made healthy, added to the
    /// balancer, the old one drained and stopped.
    RollingRestart,
    /// A second set of replicas started, traffic switched to it at once, the first
    /// set drained and stopped (kept, for a rollback).
    BlueGreen,
    /// Back to the set a blue-green deploy replaced: started, switched to, the other
    /// set drained and stopped.
    Rollback,
}

impl Action {
    /// A deploy of the whole backend rather than a fault of one instance.
    pub fn is_deploy(self) -> bool {
        matches!(self, Self::RollingRestart | Self::BlueGreen | Self::Rollback)
    }

    /// As written in a scenario.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kill => "kill",
            Self::Pause => "pause",
            Self::Stop => "stop",
            Self::RollingRestart => "rolling-restart",
            Self::BlueGreen => "blue-green",
            Self::Rollback => "rollback",
        }
    }
}

/// Longest wait for the balancer's old workers by default: nginx's read timeout.
const DRAIN: Duration = Duration::from_secs(30);

/// One fault, validated.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Since the load started.
    pub at: Duration,
    pub action: Action,
    /// A backend instance, `backend-N`; `backend` for a deploy.
    pub target: String,
    /// How long the instance stays down; `None`: for the rest of the run.
    pub duration: Option<Duration>,
    /// Deploys: drain and SIGTERM (true), or SIGKILL while still serving.
    pub graceful: bool,
    /// Deploys: the longest wait for in-flight requests of an old replica.
    pub drain: Duration,
    /// `file:line` of its `[[faults]]` entry, for what only the started stack can check
    /// (the replicas it has).
    pub written_at: String,
}

impl Fault {
    /// `N` of `backend-N` (0 for a deploy).
    pub fn replica(&self) -> usize {
        self.target
            .strip_prefix("backend-")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

/// Validates `[[faults]]`; errors name the file and line.
pub(super) fn compile(source: &Source, raw: &[Spanned<RawFault>]) -> Result<Vec<Fault>> {
    let mut faults = Vec::with_capacity(raw.len());
    for spanned in raw {
        let at = |why: String| source.error_at(spanned.span().start, format!("faults: {why}"));
        let mut fault = compile_one(spanned.get_ref()).map_err(at)?;
        fault.written_at = source.position(spanned.span().start);
        faults.push(fault);
    }
    faults.sort_by_key(|f| f.at);
    if let Some(rollback) = faults.iter().position(|f| f.action == Action::Rollback) {
        if !faults[..rollback].iter().any(|f| f.action == Action::BlueGreen) {
            let line = raw
                .iter()
                .find(|f| f.get_ref().action == "rollback")
                .map_or(0, |f| f.span().start);
            return Err(source.error_at(
                line,
                "faults: a rollback returns to the set a blue-green deploy replaced: put a blue-green before it",
            ));
        }
    }
    Ok(faults)
}

fn compile_one(raw: &RawFault) -> std::result::Result<Fault, String> {
    let action = match raw.action.as_str() {
        "kill" => Action::Kill,
        "pause" => Action::Pause,
        "stop" => Action::Stop,
        "rolling-restart" => Action::RollingRestart,
        "blue-green" => Action::BlueGreen,
        "rollback" => Action::Rollback,
        other => {
            return Err(format!(
                "action {other:?} is not one of kill, pause, stop, rolling-restart, blue-green, rollback"
            ))
        }
    };
    let fault = Fault {
        at: parse_duration(&raw.at)?,
        action,
        target: raw.target.clone(),
        duration: raw.duration.as_deref().map(parse_duration).transpose()?,
        graceful: raw.graceful.unwrap_or(true),
        drain: raw
            .drain
            .as_deref()
            .map(parse_duration)
            .transpose()?
            .unwrap_or(DRAIN),
        written_at: String::new(),
    };
    match (action.is_deploy(), fault.replica()) {
        (true, _) if raw.target != "backend" => Err(format!(
            "a {} deploys the whole backend: write target = \"backend\", not {:?}",
            action.name(),
            raw.target
        )),
        (true, _) if raw.duration.is_some() => Err(format!(
            "a {} has no duration: it ends when the last replica is replaced",
            action.name()
        )),
        (false, 0) => Err(format!(
            "target {:?} is not a backend instance: write backend-1, backend-2, ...",
            raw.target
        )),
        (false, _) if raw.graceful.is_some() || raw.drain.is_some() => Err(format!(
            "graceful and drain belong to deploys (rolling-restart, blue-green, rollback), not to {}",
            action.name()
        )),
        _ => Ok(fault),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(action: &str, target: &str) -> RawFault {
        RawFault {
            at: "20s".into(),
            action: action.into(),
            target: target.into(),
            duration: Some("10s".into()),
            graceful: None,
            drain: None,
        }
    }

    #[test]
    fn a_fault_names_an_action_and_a_backend_instance() {
        let fault = compile_one(&raw("kill", "backend-2")).unwrap();
        assert_eq!(fault.action, Action::Kill);
        assert_eq!(fault.replica(), 2);
        assert_eq!(fault.at, Duration::from_secs(20));
        assert_eq!(fault.duration, Some(Duration::from_secs(10)));
        assert!(compile_one(&raw("explode", "backend-2"))
            .unwrap_err()
            .contains("kill, pause, stop"));
        assert!(compile_one(&raw("kill", "postgres"))
            .unwrap_err()
            .contains("backend-1"));
    }

    #[test]
    fn a_deploy_targets_the_whole_backend_and_may_kill_instead_of_draining() {
        let deploy = RawFault {
            duration: None,
            graceful: Some(false),
            drain: Some("5s".into()),
            ..raw("rolling-restart", "backend")
        };
        let fault = compile_one(&deploy).unwrap();
        assert_eq!(fault.action, Action::RollingRestart);
        assert!(!fault.graceful);
        assert_eq!(fault.drain, Duration::from_secs(5));
        let on_one = RawFault {
            duration: None,
            ..raw("blue-green", "backend-1")
        };
        assert!(compile_one(&on_one).unwrap_err().contains("target = \"backend\""));
        let timed = raw("rollback", "backend");
        assert!(compile_one(&timed).unwrap_err().contains("no duration"));
        let drained_kill = RawFault {
            drain: Some("1s".into()),
            ..raw("kill", "backend-1")
        };
        assert!(compile_one(&drained_kill)
            .unwrap_err()
            .contains("belong to deploys"));
    }
}
