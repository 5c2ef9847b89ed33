//! Carries faults out on schedule while the load runs, and records when each took
//! effect and when the instance was back.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use testcontainers::bollard::query_parameters::{KillContainerOptionsBuilder, StopContainerOptionsBuilder};
use testcontainers::bollard::Docker;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::metrics::Collector;
use crate::scenario::{Action, Fault};

/// What happened to one fault.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultEvent {
    pub action: Action,
    pub target: String,
    /// Seconds into the load when it took effect.
    pub at_s: f64,
    /// Seconds into the load when the instance was back (absent: it was not).
    pub restored_s: Option<f64>,
    /// Why it could not be carried out.
    pub error: Option<String>,
}

/// The running schedule; [`finish`](Self::finish) ends it and returns what happened.
pub struct Injector {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Vec<FaultEvent>>,
}

impl Injector {
    /// `instances` maps `backend-N` to container ids.
    pub fn start(
        faults: Vec<Fault>,
        instances: Vec<(String, String)>,
        docker: Docker,
        clock: Arc<Collector>,
    ) -> Self {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(faults, instances, docker, clock, stopped));
        Self { stop, task }
    }

    pub async fn finish(self) -> Vec<FaultEvent> {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

async fn run(
    faults: Vec<Fault>,
    instances: Vec<(String, String)>,
    docker: Docker,
    clock: Arc<Collector>,
    mut stopped: oneshot::Receiver<()>,
) -> Vec<FaultEvent> {
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
        let id = instances
            .iter()
            .find(|(name, _)| *name == fault.target)
            .map(|(_, id)| id.clone());
        let outcome = apply(&docker, &fault, id.as_deref(), &clock).await;
        if let (Some(duration), Some(id), None) = (fault.duration, id, &outcome.error) {
            pending.push((clock.elapsed() + duration, outcomes.len(), id));
        }
        eprintln!(
            "karigar-perf: fault: {} {} at {:.1}s{}",
            action_name(fault.action),
            fault.target,
            outcome.at_s,
            outcome
                .error
                .as_ref()
                .map_or(String::new(), |e| format!(" failed: {e}"))
        );
        outcomes.push(outcome);
    }
    outcomes
}

async fn apply(docker: &Docker, fault: &Fault, id: Option<&str>, clock: &Collector) -> FaultEvent {
    let mut outcome = FaultEvent {
        action: fault.action,
        target: fault.target.clone(),
        at_s: clock.elapsed().as_secs_f64(),
        restored_s: None,
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
    };
    outcome.error = result.err().map(|e| e.to_string());
    outcome
}

async fn restore(docker: &Docker, id: &str, outcome: &mut FaultEvent, clock: &Collector) {
    let result = match outcome.action {
        Action::Pause => docker.unpause_container(id).await,
        Action::Kill | Action::Stop => docker.start_container(id, None).await,
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

pub fn action_name(action: Action) -> &'static str {
    match action {
        Action::Kill => "kill",
        Action::Pause => "pause",
        Action::Stop => "stop",
    }
}
