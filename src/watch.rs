//! Sliding-window SLOs, checked live: every second, each windowed SLO is evaluated over
//! the window that ends at the last complete second (`slo::window`); with `abort_after`,
//! that many breached windows in a row stop the load (its [`Stop`], with the SLO's
//! account as the reason).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::metrics::Collector;
use crate::slo::{abort_reason, record, window_value, SloExpr, WatchReport, WindowResult};
use crate::stop::{Stop, StopReason};

/// How long after a second ends its windows are judged.
const JUST_AFTER: Duration = Duration::from_millis(10);

/// The running watch; [`finish`](Self::finish) stops it.
pub struct Watch {
    stop: oneshot::Sender<()>,
    task: JoinHandle<WatchReport>,
}

impl Watch {
    /// Starts watching, or returns `None` when no SLO has a window.
    pub fn start(
        slos: &[SloExpr],
        steps: &[String],
        abort_after: Option<u32>,
        collector: Arc<Collector>,
        load: Stop,
    ) -> Option<Self> {
        if slos.iter().all(|s| s.window.is_none()) {
            return None;
        }
        let watched: Vec<(SloExpr, Option<usize>)> = slos
            .iter()
            .map(|slo| {
                (
                    slo.clone(),
                    slo.step
                        .as_ref()
                        .and_then(|name| steps.iter().position(|s| s == name)),
                )
            })
            .collect();
        let (stop, stopped) = oneshot::channel();
        let abort = Abort {
            after: abort_after,
            load,
        };
        let task = tokio::spawn(watch(watched, abort, collector, stopped));
        Some(Self { stop, task })
    }

    pub async fn finish(self) -> WatchReport {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

/// How many breached windows in a row stop the load, and the load's stop.
struct Abort {
    after: Option<u32>,
    load: Stop,
}

async fn watch(
    slos: Vec<(SloExpr, Option<usize>)>,
    abort: Abort,
    collector: Arc<Collector>,
    mut stopped: oneshot::Receiver<()>,
) -> WatchReport {
    let mut report = WatchReport {
        results: slos
            .iter()
            .map(|(slo, _)| slo.window.map(WindowResult::new))
            .collect(),
        aborted: None,
    };
    // The next second whose windows are judged: each second once, in order, when all
    // its requests are in (a collector fed by generators lags its clock).
    let mut next = 0;
    loop {
        // Once a second, just after it ended (not four times a second, looking).
        tokio::select! {
            _ = tokio::time::sleep(collector.until_next_second(JUST_AFTER)) => {}
            _ = &mut stopped => break,
        }
        let Some(last) = collector.last_complete_second() else {
            continue;
        };
        while next <= last && report.aborted.is_none() {
            judge(&slos, &abort, &collector, next, &mut report);
            next += 1;
        }
    }
    report
}

/// Judges every windowed SLO over its window ending with second `last`, and stops the
/// load when one has been breached `abort_after` windows in a row.
fn judge(
    slos: &[(SloExpr, Option<usize>)],
    abort: &Abort,
    collector: &Collector,
    last: u64,
    report: &mut WatchReport,
) {
    for ((slo, step), result) in slos.iter().zip(report.results.iter_mut()) {
        let Some(result) = result.as_mut() else { continue };
        if last + 1 < result.seconds {
            continue;
        }
        let value = window_value(slo, *step, collector, last + 1 - result.seconds, last);
        if record(slo, result, value, last) && abort.after.is_some_and(|n| result.consecutive() >= n) {
            let reason = abort_reason(slo, result);
            // Only when it is what stopped the load (a signal may have come first).
            if abort.load.stop(StopReason::SloAbort(reason.clone())) {
                report.aborted = Some(reason);
            }
        }
    }
}
