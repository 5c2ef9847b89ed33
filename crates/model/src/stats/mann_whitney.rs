//! The Mann-Whitney U test, one-sided: is `new` stochastically larger than `base`?
//! Rank-based, so it assumes no distribution: per-second latencies are skewed and
//! runs on a shared machine have outliers.

/// `P(U >= observed)` under "no difference", by the normal approximation with tie
/// and continuity corrections (sound from about 5 values a side).
pub fn mann_whitney_greater(new: &[f64], base: &[f64]) -> Option<f64> {
    let (n1, n2) = (new.len() as f64, base.len() as f64);
    if new.is_empty() || base.is_empty() {
        return None;
    }
    let ranks = ranks(new, base);
    let rank_sum_new: f64 = ranks.iter().take(new.len()).sum();
    let u_new = rank_sum_new - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let n = n1 + n2;
    let ties: f64 = tie_groups(new, base).iter().map(|&t| t * t * t - t).sum();
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return Some(if u_new > mean { 0.0 } else { 1.0 });
    }
    let z = (u_new - mean - 0.5) / variance.sqrt();
    Some(upper_tail(z))
}

/// The smallest p value [`mann_whitney_greater`] can give for samples of these sizes
/// (every new value above every base value, no ties): at or above the significance
/// level, no data can make the test significant.
pub fn smallest_p(new: usize, base: usize) -> f64 {
    let (n1, n2) = (new as f64, base as f64);
    if new == 0 || base == 0 {
        return 1.0;
    }
    let z = (n1 * n2 / 2.0 - 0.5) / (n1 * n2 * (n1 + n2 + 1.0) / 12.0).sqrt();
    upper_tail(z)
}

/// Average ranks (from 1) of `new` then `base` within their union.
fn ranks(new: &[f64], base: &[f64]) -> Vec<f64> {
    let all: Vec<f64> = new.iter().chain(base).copied().collect();
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by(|&a, &b| all[a].total_cmp(&all[b]));
    let mut ranks = vec![0.0; all.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && all[order[j + 1]] == all[order[i]] {
            j += 1;
        }
        let average = (i + j) as f64 / 2.0 + 1.0;
        for &index in &order[i..=j] {
            ranks[index] = average;
        }
        i = j + 1;
    }
    ranks
}

/// Sizes of the groups of equal values.
fn tie_groups(new: &[f64], base: &[f64]) -> Vec<f64> {
    let mut all: Vec<f64> = new.iter().chain(base).copied().collect();
    all.sort_by(f64::total_cmp);
    all.chunk_by(|a, b| a == b)
        .map(|g| g.len() as f64)
        .filter(|&t| t > 1.0)
        .collect()
}

/// `P(Z >= z)` for a standard normal Z.
fn upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function (Numerical Recipes' `erfcc`, error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_tail_is_accurate() {
        assert!((upper_tail(0.0) - 0.5).abs() < 1e-7);
        assert!((upper_tail(1.959_964) - 0.025).abs() < 1e-6);
        assert!((upper_tail(-1.644_854) - 0.95).abs() < 1e-6);
    }

    #[test]
    fn clearly_larger_samples_are_significant() {
        let base: Vec<f64> = (0..20).map(|i| 100.0 + i as f64).collect();
        let slower: Vec<f64> = base.iter().map(|v| v * 1.3).collect();
        let p = mann_whitney_greater(&slower, &base).unwrap();
        assert!(p < 0.001, "{p}");
        let p = mann_whitney_greater(&base, &slower).unwrap();
        assert!(p > 0.99, "the other way round is not 'greater': {p}");
    }

    #[test]
    fn the_smallest_p_is_that_of_separated_samples() {
        let base: Vec<f64> = (0..7).map(f64::from).collect();
        let above: Vec<f64> = base.iter().map(|v| v + 100.0).collect();
        let p = mann_whitney_greater(&above, &base).unwrap();
        assert!((smallest_p(7, 7) - p).abs() < 1e-12, "{p}");
        // At alpha 0.001, 7 seconds a side can never be significant, 8 can.
        assert!(smallest_p(7, 7) > 0.001 && smallest_p(8, 8) < 0.001);
        assert_eq!(smallest_p(0, 8), 1.0);
    }

    #[test]
    fn interleaved_samples_are_not() {
        let base: Vec<f64> = (0..20).map(|i| 100.0 + 2.0 * i as f64).collect();
        let same: Vec<f64> = (0..20).map(|i| 101.0 + 2.0 * i as f64).collect();
        let p = mann_whitney_greater(&same, &base).unwrap();
        assert!(p > 0.2, "{p}");
    }

    #[test]
    fn a_textbook_case() {
        // U for new = 20.5 of 25 (ties included); the one-sided p is about 0.05.
        let new = [8.0, 9.0, 10.0, 7.0, 9.0];
        let base = [5.0, 6.0, 9.0, 4.0, 7.0];
        let p = mann_whitney_greater(&new, &base).unwrap();
        assert!((0.02..0.08).contains(&p), "{p}");
    }

    #[test]
    fn ranks_share_ties() {
        assert_eq!(ranks(&[1.0, 2.0], &[2.0, 3.0]), [1.0, 2.5, 2.5, 4.0]);
    }
}
