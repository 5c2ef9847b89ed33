//! Deploys of the whole backend while the load runs, step by step as a careful
//! operator does them, each step marked on the run's clock for the report's timeline.

use serde::{Deserialize, Serialize};

use crate::metrics::Collector;
use crate::scenario::Fault;
use crate::stack::{Fleet, Member};

/// A step of a deploy, on the run's clock.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Mark {
    pub at_s: f64,
    pub what: String,
}

/// The replicas serving now, and the set a blue-green deploy replaced (for a rollback).
pub(super) struct Sets {
    pub live: Vec<Member>,
    pub parked: Vec<Member>,
}

/// Marks steps on the run's clock, and says them on stderr.
pub(super) struct Marker<'a> {
    pub clock: &'a Collector,
    pub marks: Vec<Mark>,
}

impl Marker<'_> {
    fn mark(&mut self, what: String) {
        let at_s = self.clock.elapsed().as_secs_f64();
        crate::console::status(&format!("deploy: {what} at {at_s:.1}s"));
        self.marks.push(Mark { at_s, what });
    }
}

/// Each replica in turn: successor started and healthy, added to the balancer, then
/// the old one drained and sent SIGTERM (or, not graceful, SIGKILLed while serving).
pub(super) async fn rolling_restart(
    fleet: &mut Fleet,
    sets: &mut Sets,
    fault: &Fault,
    marker: &mut Marker<'_>,
) -> Result<(), String> {
    for index in 0..sets.live.len() {
        let old = sets.live[index].clone();
        let new = fleet.start_successor(&old.name).await?;
        marker.mark(format!("{} successor healthy", old.name));
        let mut both = sets.live.clone();
        both.push(new.clone());
        fleet.route_to(&both).await?;
        sets.live[index] = new;
        if fault.graceful {
            let workers = fleet.route_to(&sets.live).await?;
            marker.mark(format!("{} draining", old.name));
            fleet.drained(&workers, fault.drain).await?;
            marker.mark(format!("{} drained", old.name));
            fleet.stop(&old, true).await?;
            marker.mark(format!("{} stopped (SIGTERM)", old.name));
        } else {
            fleet.stop(&old, false).await?;
            marker.mark(format!("{} killed (SIGKILL)", old.name));
            fleet.route_to(&sets.live).await?;
        }
    }
    Ok(())
}

/// A second set started and healthy, traffic switched to it at once, the first set
/// drained and stopped, and kept for a rollback.
pub(super) async fn blue_green(
    fleet: &mut Fleet,
    sets: &mut Sets,
    fault: &Fault,
    marker: &mut Marker<'_>,
) -> Result<(), String> {
    let mut green = Vec::with_capacity(sets.live.len());
    for member in &sets.live {
        green.push(fleet.start_successor(&member.name).await?);
    }
    marker.mark(format!("green set of {} healthy", green.len()));
    let blue = std::mem::replace(&mut sets.live, green);
    switch_and_stop(fleet, sets, &blue, fault, marker).await?;
    sets.parked = blue;
    Ok(())
}

/// The parked set started again and healthy, traffic switched back, the set that
/// replaced it drained and stopped (and parked in its turn).
pub(super) async fn rollback(
    fleet: &mut Fleet,
    sets: &mut Sets,
    fault: &Fault,
    marker: &mut Marker<'_>,
) -> Result<(), String> {
    if sets.parked.is_empty() {
        return Err("no earlier set to roll back to".into());
    }
    let mut previous = Vec::with_capacity(sets.parked.len());
    for member in &sets.parked {
        previous.push(fleet.restart(member).await?);
    }
    marker.mark(format!("previous set of {} healthy", previous.len()));
    let current = std::mem::replace(&mut sets.live, previous);
    switch_and_stop(fleet, sets, &current, fault, marker).await?;
    sets.parked = current;
    Ok(())
}

/// Routes to `sets.live` only, waits for `old`'s requests to finish, stops `old`.
async fn switch_and_stop(
    fleet: &Fleet,
    sets: &Sets,
    old: &[Member],
    fault: &Fault,
    marker: &mut Marker<'_>,
) -> Result<(), String> {
    let workers = fleet.route_to(&sets.live).await?;
    marker.mark("traffic switched".into());
    if fault.graceful {
        fleet.drained(&workers, fault.drain).await?;
        marker.mark("old set drained".into());
    }
    for member in old {
        fleet.stop(member, fault.graceful).await?;
    }
    marker.mark(format!(
        "old set stopped ({})",
        if fault.graceful { "SIGTERM" } else { "SIGKILL" }
    ));
    Ok(())
}
