//! What a fault did to the load: the burst of errors that followed it, the time until
//! latency was back under the SLO (from the per-second series) and how soon the
//! balancer stopped sending to the dead instance (from its access log); what a deploy
//! did: failed requests, the longest silence without a success, p95 before, during and
//! after.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::deploy::Mark;
use super::inject::FaultEvent;
use crate::metrics::{Measurements, Silences};
use crate::scenario::Action;
use crate::stack::Attempts;

/// Seconds in a row without errors that end a burst, and under the threshold that
/// count as recovered.
const SETTLED_SECONDS: u64 = 3;

/// One fault and its effect.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultReport {
    pub action: Action,
    pub target: String,
    pub at_s: f64,
    pub restored_s: Option<f64>,
    pub error: Option<String>,
    /// Failed requests in the burst that followed (0: none failed).
    pub burst_errors: u64,
    /// Seconds from the burst's first failing second to its last.
    pub burst_seconds: u64,
    /// Seconds from the fault until the slowest step's per-second p95 was back under
    /// `threshold_ms` (and stayed there for 3 s); absent if it never was.
    pub recovery_s: Option<f64>,
    pub threshold_ms: f64,
    /// Kill, pause, stop behind a balancer: how soon it stopped sending to the instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection: Option<Detection>,
    /// Deploys: what users saw while it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeployFigures>,
}

impl FaultReport {
    /// A deploy held when it was carried out to its end and no request failed; a
    /// fault has nothing to hold.
    pub fn deploy_held(&self) -> bool {
        !self.action.is_deploy()
            || (self.error.is_none() && self.deploy.as_ref().is_some_and(|d| d.failed == 0))
    }
}

/// When the balancer found the instance dead: the end of the first request it tried
/// there that failed (its passive check then leaves the instance out for 5 s, and
/// tries it once more each time those pass).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Detection {
    /// Seconds from the fault to that first failed attempt.
    pub detected_after_s: f64,
    /// Requests the balancer still tried on the instance after that, until it was back.
    pub tried_after: u64,
}

/// A deploy under load.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeployFigures {
    /// Failed requests from the deploy's start to one second after its end (goal: 0).
    pub failed: u64,
    pub requests: u64,
    /// The longest stretch without a successful response while it ran (absent when
    /// the load ran on several generators, which do not send their silences).
    pub longest_gap_ms: Option<f64>,
    pub p95_before_ms: Option<f64>,
    pub p95_during_ms: Option<f64>,
    pub p95_after_ms: Option<f64>,
    pub took_s: f64,
    pub marks: Vec<Mark>,
}

/// What the per-fault figures are read from.
pub struct Evidence<'a> {
    pub measured: &'a Measurements,
    pub silences: Option<&'a Silences>,
    /// The balancer's access log (empty without one).
    pub balancer: &'a [Attempts],
    pub threshold_ms: f64,
}

/// Per second of the load: failed requests, requests, and the slowest step's p95.
#[derive(Clone, Copy, Debug, Default)]
struct Second {
    errors: u64,
    requests: u64,
    p95_ms: f64,
}

/// Reports every fault against the run's series, with `threshold_ms` as the SLO.
pub fn analyse(outcomes: &[FaultEvent], evidence: &Evidence<'_>) -> Vec<FaultReport> {
    let (measured, threshold_ms) = (evidence.measured, evidence.threshold_ms);
    let seconds = by_second(measured);
    let last_second = seconds.keys().next_back().copied().unwrap_or(0);
    outcomes
        .iter()
        .enumerate()
        .map(|(index, outcome)| {
            let deploy = outcome.finished_s.map(|finished_s| {
                let before_from = index
                    .checked_sub(1)
                    .map_or(0.0, |i| outcomes[i].finished_s.unwrap_or(outcomes[i].at_s));
                let after_to = outcomes
                    .get(index + 1)
                    .map_or(last_second as f64 + 1.0, |next| next.at_s);
                deploy_figures(outcome, finished_s, (before_from, after_to), evidence)
            });
            let from = outcome.at_s.floor() as u64;
            let (burst_errors, burst) = burst(&seconds, from);
            let settled_from = burst.map_or(from, |(_, last)| last + 1);
            FaultReport {
                action: outcome.action,
                target: outcome.target.clone(),
                at_s: outcome.at_s,
                restored_s: outcome.restored_s,
                error: outcome.error.clone(),
                burst_errors,
                burst_seconds: burst.map_or(0, |(first, last)| last - first + 1),
                recovery_s: recovered_at(&seconds, settled_from, threshold_ms)
                    .map(|s| (s as f64 - outcome.at_s).max(0.0)),
                threshold_ms,
                detection: detection(outcome, measured.started_unix_ms, evidence.balancer),
                deploy,
            }
        })
        .collect()
}

/// Figures of a deploy from `at_s` to `finished_s`; before and after run to the
/// neighbouring faults (`around`).
fn deploy_figures(
    outcome: &FaultEvent,
    finished_s: f64,
    around: (f64, f64),
    evidence: &Evidence<'_>,
) -> DeployFigures {
    let (start, end) = (outcome.at_s.floor() as u64, finished_s.floor() as u64);
    let p95 = |from: u64, to: u64| -> Option<f64> {
        let latency = (from <= to).then(|| evidence.measured.seconds(from..=to).all_steps().latency)?;
        (!latency.is_empty()).then(|| latency.value_at_quantile(0.95) as f64 / 1000.0)
    };
    let during = evidence.measured.seconds(start..=end + 1).all_steps().outcomes;
    DeployFigures {
        failed: during.errors(),
        requests: during.total(),
        longest_gap_ms: evidence
            .silences
            .map(|s| s.longest_within(outcome.at_s, finished_s) * 1000.0),
        p95_before_ms: start
            .checked_sub(1)
            .and_then(|to| p95(around.0.ceil() as u64, to)),
        p95_during_ms: p95(start, end),
        p95_after_ms: (around.1.ceil() as u64)
            .checked_sub(1)
            .and_then(|to| p95(end + 1, to)),
        took_s: finished_s - outcome.at_s,
        marks: outcome.marks.clone(),
    }
}

/// The first request after the fault that failed on the instance, from the balancer's
/// log; `None` without a balancer or when none was tried there.
fn detection(outcome: &FaultEvent, started_unix_ms: u64, balancer: &[Attempts]) -> Option<Detection> {
    let address = format!("{}:", outcome.address.as_deref()?);
    let at = started_unix_ms as f64 / 1000.0 + outcome.at_s;
    let until = outcome
        .restored_s
        .map_or(f64::INFINITY, |s| started_unix_ms as f64 / 1000.0 + s);
    let failed_there = |line: &Attempts| {
        line.tried
            .iter()
            .zip(&line.answers)
            .any(|(tried, answer)| tried.starts_with(&address) && (answer.starts_with('5') || answer == "-"))
    };
    let tried_there = |line: &Attempts| line.tried.iter().any(|t| t.starts_with(&address));
    let window: Vec<&Attempts> = balancer
        .iter()
        .filter(|l| l.at_unix_s >= at && l.at_unix_s < until)
        .collect();
    let first = window.iter().position(|l| failed_there(l))?;
    Some(Detection {
        detected_after_s: window[first].at_unix_s - at,
        tried_after: window[first + 1..].iter().filter(|l| tried_there(l)).count() as u64,
    })
}

fn by_second(measured: &Measurements) -> BTreeMap<u64, Second> {
    let mut seconds = BTreeMap::<u64, Second>::new();
    for step in &measured.steps {
        for s in step.seconds.iter().map(|s| s.figures()) {
            let slot = seconds.entry(s.second).or_default();
            slot.errors += s.errors;
            slot.requests += s.requests;
            slot.p95_ms = slot.p95_ms.max(s.p95_us as f64 / 1000.0);
        }
    }
    seconds
}

/// Errors from the first failing second at or after `from` until 3 clean seconds in
/// a row, and that span's first and last failing seconds.
fn burst(seconds: &BTreeMap<u64, Second>, from: u64) -> (u64, Option<(u64, u64)>) {
    let Some(first) = seconds.range(from..).find(|(_, s)| s.errors > 0).map(|(k, _)| *k) else {
        return (0, None);
    };
    let (mut last, mut total) = (first, 0);
    for (&second, s) in seconds.range(first..) {
        if s.errors > 0 {
            last = second;
            total += s.errors;
        } else if second - last >= SETTLED_SECONDS {
            break;
        }
    }
    (total, Some((first, last)))
}

/// The first second at or after `from` that starts 3 seconds in a row with requests
/// and a p95 under the threshold.
fn recovered_at(seconds: &BTreeMap<u64, Second>, from: u64, threshold_ms: f64) -> Option<u64> {
    let good = |second: u64| {
        seconds
            .get(&second)
            .is_some_and(|s| s.requests > 0 && s.p95_ms < threshold_ms)
    };
    let last = *seconds.keys().next_back()?;
    (from..=last).find(|&s| (s..s + SETTLED_SECONDS).all(good))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(rows: &[(u64, u64, f64)]) -> BTreeMap<u64, Second> {
        rows.iter()
            .map(|&(second, errors, p95_ms)| {
                (
                    second,
                    Second {
                        errors,
                        requests: 10,
                        p95_ms,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_burst_ends_after_three_clean_seconds() {
        let s = series(&[
            (9, 0, 50.0),
            (10, 4, 900.0),
            (11, 0, 700.0),
            (12, 2, 600.0),
            (13, 0, 80.0),
            (14, 0, 60.0),
            (15, 0, 60.0),
            (16, 0, 60.0),
            (17, 5, 60.0),
        ]);
        assert_eq!(burst(&s, 10), (6, Some((10, 12))));
        assert_eq!(recovered_at(&s, 13, 500.0), Some(13));
        assert_eq!(burst(&s, 18), (0, None));
    }

    #[test]
    fn recovery_needs_three_good_seconds_in_a_row() {
        let s = series(&[
            (20, 0, 900.0),
            (21, 0, 100.0),
            (22, 0, 800.0),
            (23, 0, 90.0),
            (24, 0, 90.0),
            (25, 0, 90.0),
        ]);
        assert_eq!(recovered_at(&s, 20, 500.0), Some(23));
        assert_eq!(recovered_at(&s, 20, 50.0), None);
    }
}
