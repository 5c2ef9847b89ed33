//! Change points over a history of runs (`compare --history DIR`): where a step's level
//! shifted, and by how much. At every split of a series, the runs just before are
//! compared with the runs just after (a window of a few each side, Welch's t); a split
//! whose difference is significant at the gate's confidence and at least its minimum
//! effect is a candidate, and the strongest candidates a few runs apart are the change
//! points. Local windows find a shift that later reverts, which one split of the whole
//! series cannot.

use super::history::{Figure, HistorySettings, RunFigures};
use crate::report::ChangePoint;
use crate::stats::{mean_and_sd, t_quantile};

/// Runs a side needs before a shift can be told from noise, and the most it looks at.
const MIN_SIDE: usize = 2;
const WINDOW: usize = 3;

/// Every shift in every step's figures over `runs` (oldest first), in time order.
pub fn change_points(runs: &[RunFigures], settings: &HistorySettings) -> Vec<ChangePoint> {
    let mut found = Vec::new();
    let steps: Vec<&String> = runs.iter().flat_map(|r| r.steps.iter().map(|(s, _)| s)).collect();
    let mut seen: Vec<&String> = Vec::new();
    for step in steps {
        if seen.contains(&step) {
            continue;
        }
        seen.push(step);
        for figure in Figure::ALL {
            let series: Vec<(usize, f64)> = runs
                .iter()
                .enumerate()
                .filter_map(|(i, run)| {
                    let (_, values) = run.steps.iter().find(|(s, _)| s == step)?;
                    values.iter().find(|(f, _)| *f == figure).map(|(_, v)| (i, *v))
                })
                .collect();
            for (split, before, after) in segment(&series, settings) {
                found.push(ChangePoint {
                    step: step.clone(),
                    metric: figure.name().to_owned(),
                    at: split,
                    run_id: runs[split].run_id.clone(),
                    before,
                    after,
                    change: if before != 0.0 { after / before - 1.0 } else { 0.0 },
                });
            }
        }
    }
    found.sort_by_key(|c| c.at);
    found
}

/// The significant splits of `series` (run index, value): `(first index after, level
/// before, level after)`, strongest first among neighbours, in order.
fn segment(series: &[(usize, f64)], settings: &HistorySettings) -> Vec<(usize, f64, f64)> {
    let values: Vec<f64> = series.iter().map(|(_, v)| *v).collect();
    let mut candidates: Vec<(usize, f64, f64, f64)> = (MIN_SIDE..=values.len().saturating_sub(MIN_SIDE))
        .filter_map(|k| {
            let left = &values[k.saturating_sub(WINDOW)..k];
            let right = &values[k..(k + WINDOW).min(values.len())];
            let t = shift(left, right, settings)?;
            Some((k, t, mean_and_sd(left)?.0, mean_and_sd(right)?.0))
        })
        .collect();
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut chosen: Vec<(usize, f64, f64)> = Vec::new();
    for (k, _, before, after) in candidates {
        if chosen.iter().all(|(c, _, _)| k.abs_diff(*c) > MIN_SIDE) {
            chosen.push((k, before, after));
        }
    }
    chosen.sort_by_key(|c| c.0);
    chosen
        .into_iter()
        .map(|(k, before, after)| (series[k].0, before, after))
        .collect()
}

/// Welch's t between two windows, when it is significant and the shift large enough.
fn shift(left: &[f64], right: &[f64], settings: &HistorySettings) -> Option<f64> {
    let ((ml, sl), (mr, sr)) = (mean_and_sd(left)?, mean_and_sd(right)?);
    let (nl, nr) = (left.len() as f64, right.len() as f64);
    // A side without spread still has its measurement's grain.
    let grain = 1e-9 * ml.abs().max(mr.abs()).max(1e-12);
    let se = (sl * sl / nl + sr * sr / nr).sqrt().max(grain);
    let t = (mr - ml).abs() / se;
    let large = ml != 0.0 && (mr / ml - 1.0).abs() >= settings.min_effect;
    (large && t > t_quantile(settings.confidence, nl + nr - 2.0)).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(p50s: &[f64]) -> Vec<RunFigures> {
        p50s.iter()
            .enumerate()
            .map(|(i, &p50)| RunFigures {
                run_id: format!("r{i}"),
                started_at: String::new(),
                steps: vec![("get".into(), vec![(Figure::P50, p50)])],
            })
            .collect()
    }

    #[test]
    fn a_level_shift_is_found_where_it_happened() {
        let series = [10.0, 10.2, 9.9, 10.1, 10.0, 12.1, 11.9, 12.0, 12.2, 11.8];
        let points = change_points(&runs(&series), &HistorySettings::default());
        assert_eq!(points.len(), 1, "{points:?}");
        assert_eq!((points[0].at, points[0].run_id.as_str()), (5, "r5"));
        assert!((points[0].change - 0.2).abs() < 0.01, "{:?}", points[0]);
    }

    #[test]
    fn noise_and_small_drifts_are_not_change_points() {
        let noise = [10.0, 10.3, 9.8, 10.1, 9.9, 10.2, 10.0, 9.7, 10.1, 10.0];
        assert!(change_points(&runs(&noise), &HistorySettings::default()).is_empty());
        let small = [10.0, 10.0, 10.0, 10.2, 10.2, 10.2];
        assert!(
            change_points(&runs(&small), &HistorySettings::default()).is_empty(),
            "2% < the 5% effect"
        );
    }

    #[test]
    fn two_shifts_are_two_points() {
        let series = [10.0, 10.1, 9.9, 15.0, 15.1, 14.9, 10.0, 10.1, 9.9];
        let at: Vec<usize> = change_points(&runs(&series), &HistorySettings::default())
            .iter()
            .map(|c| c.at)
            .collect();
        assert_eq!(at, [3, 6]);
    }
}
