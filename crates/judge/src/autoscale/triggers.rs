//! The seed's scale-out triggers over a run: CPU > 70%, memory > 80%, response time
//! > 500 ms, request queue depth. For each: when it first fired and for how long.

use serde::{Deserialize, Serialize};

/// One trigger and the per-second series it watches.
pub struct Trigger<'a> {
    pub name: &'static str,
    /// Fires when a value is above this (in the series' own unit).
    pub threshold: f64,
    pub unit: &'static str,
    pub series: &'a [(u64, f64)],
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TriggerReport {
    pub name: String,
    pub threshold: f64,
    pub unit: String,
    /// Second of the run when it first fired; `None` if it never did.
    pub first_fired_s: Option<u64>,
    /// Seconds with a value above the threshold.
    pub seconds_above: u64,
    pub peak: Option<f64>,
    /// Seconds with data at all (0: the run could not measure this trigger).
    pub seconds_measured: u64,
}

pub fn timeline(triggers: &[Trigger<'_>]) -> Vec<TriggerReport> {
    triggers.iter().map(report).collect()
}

fn report(trigger: &Trigger<'_>) -> TriggerReport {
    let above: Vec<u64> = trigger
        .series
        .iter()
        .filter(|(_, v)| *v > trigger.threshold)
        .map(|(s, _)| *s)
        .collect();
    TriggerReport {
        name: trigger.name.to_owned(),
        threshold: trigger.threshold,
        unit: trigger.unit.to_owned(),
        first_fired_s: above.first().copied(),
        seconds_above: above.len() as u64,
        peak: trigger
            .series
            .iter()
            .map(|(_, v)| *v)
            .fold(None, |m, v| Some(m.map_or(v, |m: f64| m.max(v)))),
        seconds_measured: trigger.series.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_firing_and_time_above() {
        let cpu = [(0, 50.0), (1, 75.0), (2, 65.0), (3, 90.0)];
        let reports = timeline(&[
            Trigger {
                name: "cpu",
                threshold: 70.0,
                unit: "%",
                series: &cpu,
            },
            Trigger {
                name: "memory",
                threshold: 80.0,
                unit: "%",
                series: &[],
            },
        ]);
        assert_eq!(reports[0].first_fired_s, Some(1));
        assert_eq!((reports[0].seconds_above, reports[0].peak), (2, Some(90.0)));
        assert_eq!((reports[1].first_fired_s, reports[1].seconds_measured), (None, 0));
    }
}
