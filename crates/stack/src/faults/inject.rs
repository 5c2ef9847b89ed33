//! Carries faults and deploys out on schedule while the load runs, and records when
//! each took effect, its steps, and when the instance was back or the deploy done.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use testcontainers::bollard::query_parameters::{KillContainerOptionsBuilder, StopContainerOptionsBuilder};
use testcontainers::bollard::Docker;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::deploy::{self, Mark, Marker, Sets};
use crate::metrics::Collector;
use crate::scenario::{Action, Fault};
use crate::stack::{Fleet, Member};

/// The backend replicas faults and deploys act on.
pub struct Backends {
    pub docker: Docker,
    pub members: Vec<Member>,
    /// The balancer and the spec of the replicas: deploys need them.
    pub fleet: Option<Fleet>,
}

/// What happened to one fault.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultEvent {
    pub action: Action,
    pub target: String,
    /// Seconds into the load when it took effect.
    pub at_s: f64,
    /// Seconds into the load when the instance was back (absent: it was not).
    pub restored_s: Option<f64>,
    /// Deploys: seconds into the load when the last step was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_s: Option<f64>,
    /// Deploys: each step, when it was done.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<Mark>,
    /// Kill, pause, stop: the instance's address on the run's network, to find it in
    /// the balancer's log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Why it could not be carried out.
    pub error: Option<String>,
}

/// The running schedule; [`finish`](Self::finish) ends it and returns what happened.
pub struct Injector {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Vec<FaultEvent>>,
}

impl Injector {
    pub fn start(faults: Vec<Fault>, backends: Backends, clock: Arc<Collector>) -> Self {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(faults, backends, clock, stopped));
        Self { stop, task }
    }

    pub async fn finish(self) -> Vec<FaultEvent> {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

async fn run(
    faults: Vec<Fault>,
    mut backends: Backends,
    clock: Arc<Collector>,
    mut stopped: oneshot::Receiver<()>,
) -> Vec<FaultEvent> {
    let docker = backends.docker.clone();
    let mut sets = Sets {
        live: std::mem::take(&mut backends.members),
        parked: Vec::new(),
    };
    let mut outcomes: Vec<FaultEvent> = Vec::new();
    // Restorations due, as (when, index into outcomes, container id).
    let mut pending: Vec<(Duration, usize, String)> = Vec::new();
    let mut faults = faults.into_iter().peekable();
    loop {
        let next_fault = faults.peek().map(|f| f.at);
        let next_restore = pending.iter().map(|p| p.0).min();
        let Some(due) = [next_fault, next_restore].into_iter().flatten().min() else {
            break;
        };
        let wait = due.saturating_sub(clock.elapsed());
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = &mut stopped => break,
        }
        if next_restore == Some(due) {
            let position = pending.iter().position(|p| p.0 == due).expect("due exists");
            let (_, index, id) = pending.remove(position);
            restore(&docker, &id, &mut outcomes[index], &clock).await;
            continue;
        }
        let fault = faults.next().expect("a fault is due");
        if fault.action.is_deploy() {
            // A deploy runs to its end; faults due meanwhile follow it.
            let at_s = clock.elapsed().as_secs_f64();
            let outcome = tokio::select! {
                outcome = carry_out_deploy(backends.fleet.as_mut(), &mut sets, &fault, &clock) => outcome,
                _ = &mut stopped => {
                    let finished_s = Some(clock.elapsed().as_secs_f64());
                    outcomes.push(unfinished(&fault, at_s, finished_s, "the load ended before it finished"));
                    break;
                }
            };
            outcomes.push(outcome);
            continue;
        }
        let member = sets.live.iter().find(|m| m.name == fault.target).cloned();
        let mut outcome = apply(&docker, &fault, member.as_ref().map(|m| m.id.as_str()), &clock).await;
        outcome.address = member.as_ref().map(|m| m.ip.clone());
        if let (Some(duration), Some(member), None) = (fault.duration, member, &outcome.error) {
            pending.push((clock.elapsed() + duration, outcomes.len(), member.id));
        }
        eprintln!(
            "karigar-perf: fault: {} {} at {:.1}s{}",
            fault.action.name(),
            fault.target,
            outcome.at_s,
            outcome
                .error
                .as_ref()
                .map_or(String::new(), |e| format!(" failed: {e}"))
        );
        outcomes.push(outcome);
    }
    // A deploy the load ended before is reported, and fails the run.
    for fault in faults.filter(|f| f.action.is_deploy()) {
        outcomes.push(unfinished(
            &fault,
            fault.at.as_secs_f64(),
            None,
            "not carried out: the load ended first",
        ));
    }
    outcomes
}

/// A deploy that did not run to its end.
fn unfinished(fault: &Fault, at_s: f64, finished_s: Option<f64>, why: &str) -> FaultEvent {
    crate::console::status(&format!("deploy: {} {why}", fault.action.name()));
    FaultEvent {
        action: fault.action,
        target: fault.target.clone(),
        at_s,
        restored_s: None,
        finished_s,
        marks: Vec::new(),
        address: None,
        error: Some(why.to_owned()),
    }
}

async fn apply(docker: &Docker, fault: &Fault, id: Option<&str>, clock: &Collector) -> FaultEvent {
    let mut outcome = FaultEvent {
        action: fault.action,
        target: fault.target.clone(),
        at_s: clock.elapsed().as_secs_f64(),
        restored_s: None,
        finished_s: None,
        marks: Vec::new(),
        address: None,
        error: None,
    };
    let Some(id) = id else {
        outcome.error = Some(format!("no instance {} in this stack", fault.target));
        return outcome;
    };
    let result = match fault.action {
        Action::Kill => {
            let options = KillContainerOptionsBuilder::default().signal("SIGKILL").build();
            docker.kill_container(id, Some(options)).await
        }
        Action::Pause => docker.pause_container(id).await,
        Action::Stop => {
            let options = StopContainerOptionsBuilder::default().t(10).build();
            docker.stop_container(id, Some(options)).await
        }
        Action::RollingRestart | Action::BlueGreen | Action::Rollback => {
            unreachable!("deploys are carried out by carry_out_deploy")
        }
    };
    outcome.error = result.err().map(|e| e.to_string());
    outcome
}

async fn restore(docker: &Docker, id: &str, outcome: &mut FaultEvent, clock: &Collector) {
    let result = match outcome.action {
        Action::Pause => docker.unpause_container(id).await,
        _ => docker.start_container(id, None).await,
    };
    match result {
        Ok(()) => {
            outcome.restored_s = Some(clock.elapsed().as_secs_f64());
            eprintln!(
                "karigar-perf: fault: {} is back at {:.1}s",
                outcome.target,
                clock.elapsed().as_secs_f64()
            );
        }
        Err(e) => outcome.error = Some(format!("could not bring it back: {e}")),
    }
}

/// A deploy from its first step to its last; a step that fails ends it, with why.
async fn carry_out_deploy(
    fleet: Option<&mut Fleet>,
    sets: &mut Sets,
    fault: &Fault,
    clock: &Collector,
) -> FaultEvent {
    let mut marker = Marker {
        clock,
        marks: Vec::new(),
    };
    let at_s = clock.elapsed().as_secs_f64();
    eprintln!(
        "karigar-perf: deploy: {} of {} replica(s) at {at_s:.1}s",
        fault.action.name(),
        sets.live.len()
    );
    let result = match fleet {
        None => Err("a deploy needs two or more replicas behind the balancer (--replicas 2 or more)".into()),
        Some(fleet) => match fault.action {
            Action::RollingRestart => deploy::rolling_restart(fleet, sets, fault, &mut marker).await,
            Action::BlueGreen => deploy::blue_green(fleet, sets, fault, &mut marker).await,
            _ => deploy::rollback(fleet, sets, fault, &mut marker).await,
        },
    };
    if let Err(why) = &result {
        crate::console::status(&format!("deploy: {} failed: {why}", fault.action.name()));
    }
    FaultEvent {
        action: fault.action,
        target: fault.target.clone(),
        at_s,
        restored_s: None,
        finished_s: Some(clock.elapsed().as_secs_f64()),
        marks: marker.marks,
        address: None,
        error: result.err(),
    }
}
