//! The statistics the gates and capacity share: the median, mean and spread, the
//! one-sided Mann-Whitney U test (`mann_whitney`) and Student's t distribution's
//! quantiles (`student`), for prediction intervals over a short history of runs.

mod mann_whitney;
mod student;

pub use mann_whitney::{mann_whitney_greater, smallest_p};
pub use student::t_quantile;

/// The median of `values` (`None` when empty).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

/// The mean and the sample standard deviation (n - 1) of `values`; `None` for fewer
/// than two.
pub fn mean_and_sd(values: &[f64]) -> Option<(f64, f64)> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some((mean, variance.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_means_and_spreads() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        let (mean, sd) = mean_and_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert!(
            (mean - 5.0).abs() < 1e-12 && (sd - 2.138_089_935).abs() < 1e-6,
            "{mean} {sd}"
        );
        assert_eq!(mean_and_sd(&[1.0]), None);
    }
}
