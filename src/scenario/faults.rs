//! `[[faults]]`: which backend instance to kill, pause or stop, when, and for how long;
//! validated here, carried out by [`crate::faults`].

use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::model::RawFault;
use super::profile::parse_duration;
use super::source::Source;
use crate::error::Result;

/// What happens to the instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// SIGKILL: in-flight requests fail at once; started again after `duration`.
    Kill,
    /// Frozen (cgroup freezer): requests hang; thawed after `duration`.
    Pause,
    /// SIGTERM, a graceful stop; started again after `duration`.
    Stop,
}

/// One fault, validated.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Since the load started.
    pub at: Duration,
    pub action: Action,
    /// A backend instance, `backend-N`.
    pub target: String,
    /// How long the instance stays down; `None`: for the rest of the run.
    pub duration: Option<Duration>,
}

impl Fault {
    /// `N` of `backend-N`.
    pub fn replica(&self) -> usize {
        self.target
            .strip_prefix("backend-")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

/// Validates `[[faults]]`; errors name the file and line.
pub fn compile(source: &Source, raw: &[Spanned<RawFault>]) -> Result<Vec<Fault>> {
    let mut faults = raw
        .iter()
        .map(|spanned| {
            compile_one(spanned.get_ref())
                .map_err(|why| source.error_at(spanned.span().start, format!("faults: {why}")))
        })
        .collect::<Result<Vec<_>>>()?;
    faults.sort_by_key(|f| f.at);
    Ok(faults)
}

fn compile_one(raw: &RawFault) -> std::result::Result<Fault, String> {
    let action = match raw.action.as_str() {
        "kill" => Action::Kill,
        "pause" => Action::Pause,
        "stop" => Action::Stop,
        other => return Err(format!("action {other:?} is not one of kill, pause, stop")),
    };
    let fault = Fault {
        at: parse_duration(&raw.at)?,
        action,
        target: raw.target.clone(),
        duration: raw.duration.as_deref().map(parse_duration).transpose()?,
    };
    if fault.replica() == 0 {
        return Err(format!(
            "target {:?} is not a backend instance: write backend-1, backend-2, ...",
            raw.target
        ));
    }
    Ok(fault)
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
}
