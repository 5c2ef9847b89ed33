//! One stop signal for a load, of our own. Whoever ends a run early (a signal, an SLO's
//! abort, the coordinator, a drill) stops it through a [`Stop`] with its reason, and
//! the engine hands that reason back as a value ([`Ending`]): nobody reads a
//! process-global flag afterwards to work out why a run ended. Goose's killswitch is
//! pulled by the engine alone, as the means of ending Goose's attack.

use std::fmt;
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

/// Why a load was stopped before its plan ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C or SIGTERM (the signal's name).
    Signal(&'static str),
    /// A windowed SLO was breached `abort_after` windows in a row (the SLO's account).
    SloAbort(String),
    /// The coordinator told this generator to stop (an abort or a signal over there).
    CoordinatorStopped,
    /// The coordinator stopped answering: no load outlives it.
    CoordinatorLost,
    /// A drill is done with the load it ran beside its work.
    DrillDone,
}

impl StopReason {
    /// A signal stopped the run: its report is partial and its exit code says so.
    pub fn is_signal(&self) -> bool {
        matches!(self, Self::Signal(_))
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signal(name) => write!(f, "{name} received"),
            Self::SloAbort(why) => f.write_str(why),
            Self::CoordinatorStopped => f.write_str("the coordinator stopped the run"),
            Self::CoordinatorLost => f.write_str("the coordinator is gone"),
            Self::DrillDone => f.write_str("the drill is done"),
        }
    }
}

/// How a load ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Its plan ran to the end.
    Finished,
    /// Something stopped it first.
    Stopped(StopReason),
}

impl Ending {
    /// The reason it was stopped, if it was.
    pub fn stopped(&self) -> Option<&StopReason> {
        match self {
            Self::Finished => None,
            Self::Stopped(reason) => Some(reason),
        }
    }

    /// A signal stopped it (Ctrl-C, SIGTERM), here or on the coordinator's side.
    pub fn by_signal(&self) -> bool {
        self.stopped().is_some_and(StopReason::is_signal)
    }
}

/// A cancellation handle carrying its reason. Clones share one signal; a
/// [`child`](Self::child) is stopped with its parent and can also be stopped alone.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    token: CancellationToken,
    reason: Arc<OnceLock<StopReason>>,
    parent: Option<Box<Stop>>,
}

impl Stop {
    pub fn new() -> Self {
        Self::default()
    }

    /// A stop of its own for one load that a stop of the whole command also ends.
    pub fn child(&self) -> Self {
        Self {
            token: self.token.child_token(),
            reason: Arc::default(),
            parent: Some(Box::new(self.clone())),
        }
    }

    /// Stops with `reason`; only the first reason counts. Returns whether this call was
    /// the one that stopped it.
    pub fn stop(&self, reason: StopReason) -> bool {
        if self.token.is_cancelled() || self.reason.set(reason).is_err() {
            return false;
        }
        self.token.cancel();
        true
    }

    pub fn is_stopped(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Why it was stopped: its own reason, else its parent's.
    pub fn reason(&self) -> Option<StopReason> {
        if !self.is_stopped() {
            return None;
        }
        self.reason
            .get()
            .cloned()
            .or_else(|| self.parent.as_ref().and_then(|parent| parent.reason()))
    }

    /// Completes once it is stopped.
    pub async fn stopped(&self) {
        self.token.cancelled().await
    }

    /// How a load watched by this stop ended.
    pub fn ending(&self) -> Ending {
        match self.reason() {
            Some(reason) => Ending::Stopped(reason),
            None => Ending::Finished,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_counts() {
        let stop = Stop::new();
        assert_eq!(stop.ending(), Ending::Finished);
        assert!(stop.stop(StopReason::SloAbort("p95 breached".into())));
        assert!(!stop.stop(StopReason::Signal("SIGINT")));
        assert_eq!(
            stop.ending(),
            Ending::Stopped(StopReason::SloAbort("p95 breached".into()))
        );
        assert!(!stop.ending().by_signal());
    }

    #[test]
    fn a_child_stops_with_its_parent_and_alone() {
        let command = Stop::new();
        let first = command.child();
        assert!(first.stop(StopReason::DrillDone));
        assert!(!command.is_stopped(), "a child's stop stays its own");
        let second = command.child();
        command.stop(StopReason::Signal("SIGTERM"));
        assert_eq!(second.reason(), Some(StopReason::Signal("SIGTERM")));
        assert_eq!(
            first.reason(),
            Some(StopReason::DrillDone),
            "its own reason came first"
        );
        assert!(
            !second.stop(StopReason::DrillDone),
            "already stopped by its parent"
        );
        assert!(second.ending().by_signal());
    }

    #[tokio::test]
    async fn waiting_ends_when_stopped() {
        let stop = Stop::new();
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move {
                stop.stopped().await;
                stop.reason()
            }
        });
        stop.stop(StopReason::CoordinatorLost);
        let reason = tokio::time::timeout(std::time::Duration::from_secs(10), waiter).await;
        assert_eq!(reason.unwrap().unwrap(), Some(StopReason::CoordinatorLost));
    }
}
