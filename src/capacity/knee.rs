//! The knee of the latency curve, by Kneedle (Satopää et al., 2011): scale both axes to
//! 0..1; for a convex, increasing curve such as latency against load, the knee is the
//! point lying farthest below the diagonal, where latency turns from flat to steep.

/// The index of the knee among `points` (x ascending), or `None` when there are fewer
/// than three points or the curve never bends upwards.
pub fn kneedle(points: &[(f64, f64)]) -> Option<usize> {
    if points.len() < 3 {
        return None;
    }
    let (x_min, x_max) = bounds(points.iter().map(|p| p.0));
    let (y_min, y_max) = bounds(points.iter().map(|p| p.1));
    if x_max <= x_min || y_max <= y_min {
        return None;
    }
    let difference = |(x, y): (f64, f64)| (x - x_min) / (x_max - x_min) - (y - y_min) / (y_max - y_min);
    let (index, gap) = points
        .iter()
        .map(|p| difference(*p))
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    // On or above the diagonal everywhere: linear or concave, no knee.
    (gap > 0.05).then_some(index)
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

#[cfg(test)]
mod tests {
    use super::kneedle;

    #[test]
    fn a_hockey_stick_bends_where_latency_takes_off() {
        // Flat around 100 ms up to 12/s, then queueing.
        let points = [
            (2.0, 95.0),
            (4.0, 98.0),
            (8.0, 110.0),
            (12.0, 150.0),
            (14.0, 600.0),
            (16.0, 2500.0),
        ];
        assert_eq!(kneedle(&points), Some(3));
    }

    #[test]
    fn straight_lines_and_short_curves_have_no_knee() {
        assert_eq!(kneedle(&[(1.0, 1.0), (2.0, 2.0), (3.0, 3.0), (4.0, 4.0)]), None);
        assert_eq!(kneedle(&[(1.0, 1.0), (2.0, 50.0)]), None);
        assert_eq!(kneedle(&[(1.0, 5.0), (2.0, 5.0), (3.0, 5.0)]), None);
    }
}
