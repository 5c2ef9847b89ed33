//! The Universal Scalability Law (Gunther): throughput at concurrency N is
//! `X(N) = λN / (1 + σ(N−1) + κN(N−1))`, with σ the cost of contention and κ that of
//! coherence (crosstalk). `N/X = 1/λ + (σ/λ)(N−1) + (κ/λ)N(N−1)` is linear in its
//! three coefficients, so ordinary least squares fits it; coefficients that come out
//! negative are dropped and the rest refitted, since σ, κ ≥ 0.

use serde::{Deserialize, Serialize};

/// A fitted curve and how well it matches the points it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UslFit {
    /// Throughput of one unit of concurrency without contention (per second).
    pub lambda: f64,
    /// Contention (serialisation), 0..1.
    pub sigma: f64,
    /// Coherence (crosstalk).
    pub kappa: f64,
    /// R² of the fitted throughput against the measured throughput.
    pub r_squared: f64,
    /// Concurrency of the highest throughput, when κ > 0 puts a peak on the curve.
    pub peak_concurrency: Option<f64>,
    /// The highest throughput the curve reaches (its asymptote λ/σ when κ = 0).
    pub peak_throughput: Option<f64>,
    /// Points fitted.
    pub points: usize,
}

impl UslFit {
    /// Throughput the curve predicts at concurrency `n`.
    pub fn throughput(&self, n: f64) -> f64 {
        self.lambda * n / (1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0))
    }
}

/// Fits `(concurrency, throughput)` points; needs three with distinct concurrency.
pub fn fit(points: &[(f64, f64)]) -> Option<UslFit> {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(n, x)| *n > 0.0 && *x > 0.0 && n.is_finite() && x.is_finite())
        .collect();
    let mut distinct: Vec<f64> = points.iter().map(|p| p.0).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    if distinct.len() < 3 {
        return None;
    }
    // Which of (σ, κ) are free; the most general feasible fit wins.
    let shapes = [(true, true), (true, false), (false, true), (false, false)];
    let (a, b, c) = shapes
        .iter()
        .filter_map(|&(with_sigma, with_kappa)| solve(&points, with_sigma, with_kappa))
        .find(|&(a, b, c)| a > 0.0 && b >= 0.0 && c >= 0.0)?;
    let mut fit = UslFit {
        lambda: 1.0 / a,
        sigma: b / a,
        kappa: c / a,
        r_squared: 0.0,
        peak_concurrency: None,
        peak_throughput: None,
        points: points.len(),
    };
    fit.r_squared = r_squared(&points, &fit);
    (fit.peak_concurrency, fit.peak_throughput) = peak(&fit);
    Some(fit)
}

/// Least squares of `N/X` on `1`, `N−1` (if `with_sigma`) and `N(N−1)` (if `with_kappa`).
fn solve(points: &[(f64, f64)], with_sigma: bool, with_kappa: bool) -> Option<(f64, f64, f64)> {
    let row = |n: f64| {
        let mut row = vec![1.0];
        if with_sigma {
            row.push(n - 1.0);
        }
        if with_kappa {
            row.push(n * (n - 1.0));
        }
        row
    };
    let size = 1 + usize::from(with_sigma) + usize::from(with_kappa);
    let mut normal = vec![vec![0.0; size + 1]; size];
    for &(n, x) in points {
        let r = row(n);
        for i in 0..size {
            for j in 0..size {
                normal[i][j] += r[i] * r[j];
            }
            normal[i][size] += r[i] * (n / x);
        }
    }
    let solution = gauss(normal)?;
    let mut values = solution.into_iter();
    let a = values.next()?;
    let b = if with_sigma { values.next()? } else { 0.0 };
    let c = if with_kappa { values.next()? } else { 0.0 };
    Some((a, b, c))
}

/// Solves an augmented system by Gaussian elimination with partial pivoting.
fn gauss(mut m: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let size = m.len();
    for col in 0..size {
        let pivot = (col..size).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        for row in 0..size {
            if row != col {
                let factor = m[row][col] / m[col][col];
                let pivot_row = m[col].clone();
                for (cell, p) in m[row].iter_mut().zip(pivot_row).skip(col) {
                    *cell -= factor * p;
                }
            }
        }
    }
    Some((0..size).map(|i| m[i][size] / m[i][i]).collect())
}

fn r_squared(points: &[(f64, f64)], fit: &UslFit) -> f64 {
    let mean = points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
    let total: f64 = points.iter().map(|p| (p.1 - mean).powi(2)).sum();
    let residual: f64 = points.iter().map(|p| (p.1 - fit.throughput(p.0)).powi(2)).sum();
    if total <= 0.0 {
        return 0.0;
    }
    1.0 - residual / total
}

/// Where throughput peaks: at `sqrt((1−σ)/κ)` when κ > 0, else the asymptote λ/σ.
fn peak(fit: &UslFit) -> (Option<f64>, Option<f64>) {
    if fit.kappa > 0.0 && fit.sigma < 1.0 {
        let n = ((1.0 - fit.sigma) / fit.kappa).sqrt();
        (Some(n), Some(fit.throughput(n)))
    } else if fit.sigma > 0.0 {
        (None, Some(fit.lambda / fit.sigma))
    } else {
        (None, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(lambda: f64, sigma: f64, kappa: f64) -> UslFit {
        UslFit {
            lambda,
            sigma,
            kappa,
            r_squared: 0.0,
            peak_concurrency: None,
            peak_throughput: None,
            points: 0,
        }
    }

    #[test]
    fn recovers_the_parameters_of_an_exact_curve() {
        let truth = curve(10.0, 0.05, 0.002);
        let points: Vec<_> = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
            .iter()
            .map(|&n| (n, truth.throughput(n)))
            .collect();
        let fit = fit(&points).unwrap();
        assert!((fit.lambda - 10.0).abs() < 1e-6, "{fit:?}");
        assert!((fit.sigma - 0.05).abs() < 1e-6, "{fit:?}");
        assert!((fit.kappa - 0.002).abs() < 1e-8, "{fit:?}");
        assert!(fit.r_squared > 0.999_999);
        let peak = fit.peak_concurrency.unwrap();
        assert!((peak - (0.95f64 / 0.002).sqrt()).abs() < 1e-3);
    }

    #[test]
    fn noisy_points_fit_with_a_lower_r_squared() {
        let truth = curve(5.0, 0.1, 0.0);
        let noise = [1.04, 0.95, 1.03, 0.97, 1.02, 0.96];
        let points: Vec<_> = [1.0, 2.0, 3.0, 5.0, 8.0, 13.0]
            .iter()
            .zip(noise)
            .map(|(&n, e)| (n, truth.throughput(n) * e))
            .collect();
        let fit = fit(&points).unwrap();
        assert!(fit.r_squared > 0.8 && fit.r_squared < 0.999, "{fit:?}");
        assert!(fit.sigma >= 0.0 && fit.kappa >= 0.0);
    }

    #[test]
    fn linear_scaling_has_no_contention_and_no_peak() {
        let points = [(1.0, 3.0), (2.0, 6.0), (4.0, 12.0), (8.0, 24.0)];
        let fit = fit(&points).unwrap();
        assert!(fit.sigma.abs() < 1e-9 && fit.kappa.abs() < 1e-9, "{fit:?}");
        assert_eq!(fit.peak_throughput, None);
    }

    #[test]
    fn too_few_distinct_points_give_no_fit() {
        assert!(fit(&[(1.0, 3.0), (2.0, 5.0)]).is_none());
        assert!(fit(&[(2.0, 3.0), (2.0, 3.1), (2.0, 2.9)]).is_none());
    }
}
