//! Checks SLOs against what a run measured.

use serde::{Deserialize, Serialize};

use super::expr::{Metric, SloExpr};
use super::observe::observe;
use super::window::WindowResult;
use crate::metrics::Measurements;
use crate::samples::Telemetry;

/// One SLO's result. `observed` is in the unit the SLO was written in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub expr: String,
    /// `None` when there was nothing to measure (no requests): such an SLO fails.
    pub observed: Option<f64>,
    pub threshold: f64,
    pub unit: String,
    pub pass: bool,
    /// For a windowed SLO: how its windows fared (`observed` is the worst one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowResult>,
}

/// Checks `slos`; `windows` holds, per SLO, the live results of windowed ones.
pub fn evaluate(
    slos: &[SloExpr],
    measured: &Measurements,
    telemetry: Option<&Telemetry>,
    windows: &[Option<WindowResult>],
) -> Vec<Verdict> {
    let overall = measured.all_steps();
    slos.iter()
        .enumerate()
        .map(|(index, slo)| {
            if let Some(window) = windows.get(index).cloned().flatten() {
                return windowed(slo, window);
            }
            let scope = match &slo.step {
                Some(name) => measured.step(name),
                None => Some(&overall),
            };
            let observed = match &slo.metric {
                Metric::Telemetry(series, aggregate) => {
                    telemetry.and_then(|t| aggregate.apply(&t.values(*series)))
                }
                metric => scope
                    .and_then(|s| observe(metric, &s.latency, &s.outcomes, measured.elapsed.as_secs_f64())),
            }
            .map(|base| slo.unit.from_base(base));
            Verdict {
                expr: slo.text.clone(),
                observed,
                threshold: slo.threshold,
                unit: slo.unit.suffix().to_owned(),
                pass: observed.is_some_and(|v| slo.cmp.holds(v, slo.threshold)),
                window: None,
            }
        })
        .collect()
}

/// A windowed SLO holds when it was checked at least once and never breached.
fn windowed(slo: &SloExpr, window: WindowResult) -> Verdict {
    Verdict {
        expr: slo.text.clone(),
        observed: window.worst.map(|w| slo.unit.from_base(w)),
        threshold: slo.threshold,
        unit: slo.unit.suffix().to_owned(),
        pass: window.windows > 0 && window.breached == 0,
        window: Some(window),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Collector, RequestOutcome};
    use std::time::Duration;

    fn snapshot() -> Measurements {
        let collector = Collector::new(vec![("k".into(), "register".into()), ("k".into(), "me".into())]);
        for ms in [100, 200, 300, 400] {
            collector.record(0, RequestOutcome::Ok, Duration::from_millis(ms));
        }
        collector.record(1, RequestOutcome::Ok, Duration::from_millis(5));
        collector.record(1, RequestOutcome::UnexpectedStatus(5), Duration::from_millis(5));
        let mut snap = collector.measurements();
        snap.elapsed = Duration::from_secs(2);
        snap
    }

    fn check(text: &str) -> Verdict {
        evaluate(&[SloExpr::parse(text).unwrap()], &snapshot(), None, &[]).remove(0)
    }

    #[test]
    fn per_step_and_overall_figures() {
        let v = check("p95(register) < 500ms");
        assert!(v.pass);
        assert!((399.0..=401.0).contains(&v.observed.unwrap()), "{v:?}");
        assert!(!check("p95(register) < 1ms").pass);
        let v = check("error_rate < 10%");
        assert!(!v.pass);
        assert!((v.observed.unwrap() - 100.0 / 6.0).abs() < 0.01, "{v:?}");
        assert!(check("error_rate(register) == 0").pass);
        assert_eq!(check("rps >= 3").observed, Some(3.0));
        assert_eq!(check("requests(me) == 2").observed, Some(2.0));
    }

    #[test]
    fn no_data_fails() {
        let empty = Collector::new(vec![("k".into(), "register".into())]).measurements();
        let v = evaluate(&[SloExpr::parse("p95 < 1s").unwrap()], &empty, None, &[]).remove(0);
        assert_eq!((v.observed, v.pass), (None, false));
        let v = evaluate(
            &[SloExpr::parse("db_connections.max <= 25").unwrap()],
            &empty,
            None,
            &[],
        )
        .remove(0);
        assert_eq!(
            (v.observed, v.pass),
            (None, false),
            "no telemetry fails, never passes"
        );
    }

    #[test]
    fn telemetry_slos_read_the_series() {
        use crate::samples::{DbSample, Sample};
        let sample = |conns: u32| Sample {
            db: Some(DbSample {
                per_instance: [("a".to_string(), conns)].into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let telemetry = Telemetry {
            samples: vec![sample(4), sample(12)],
            ..Default::default()
        };
        let check = |text: &str| {
            evaluate(
                &[SloExpr::parse(text).unwrap()],
                &snapshot(),
                Some(&telemetry),
                &[],
            )
            .remove(0)
        };
        assert_eq!(check("db_connections.max <= 25").observed, Some(12.0));
        assert!(check("db_connections.max <= 25").pass);
        assert!(!check("db_connections.max <= 1").pass);
        assert_eq!(check("db_connections.min < 5").observed, Some(4.0));
    }
}
