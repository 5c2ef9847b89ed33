//! A Horizontal Pod Autoscaler simulated over a run's CPU series, with the Kubernetes
//! rules: every sync period `desired = ceil(current * utilisation / target)`, no change
//! within the tolerance, scale-down only to the highest recommendation of the
//! stabilisation window, clamped to min/max replicas.
//!
//! The run measures total CPU demand (in instance-equivalents: the measured fraction of
//! one instance's limit times the instances that served it); with `r` replicas each
//! would see `demand / r`, assuming the load spreads evenly.

use serde::{Deserialize, Serialize};

/// The seed's HPA: min 2, max 10, target CPU 70%, with Kubernetes' defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HpaPolicy {
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Target utilisation, as a fraction.
    pub target: f64,
    /// No scaling while `|utilisation / target - 1|` is within this.
    pub tolerance: f64,
    pub sync_period_s: u64,
    pub downscale_stabilisation_s: u64,
}

impl Default for HpaPolicy {
    fn default() -> Self {
        Self {
            min_replicas: crate::policy::HPA_MIN_REPLICAS,
            max_replicas: crate::policy::HPA_MAX_REPLICAS,
            target: crate::policy::CPU_TRIGGER,
            tolerance: 0.10,
            sync_period_s: 15,
            downscale_stabilisation_s: 300,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HpaSimulation {
    pub policy: Option<HpaPolicy>,
    /// `(second, replicas)` after each sync.
    pub replicas: Vec<(u64, u32)>,
    pub peak_replicas: u32,
    /// Replicas the peak demand calls for before the max clamp: above
    /// `max_replicas` means the seed's HPA cannot hold this load.
    pub unclamped_peak: u32,
}

/// Runs the HPA over `demand`: `(second, instance-equivalents of CPU)` per second.
pub fn simulate(demand: &[(u64, f64)], policy: HpaPolicy) -> HpaSimulation {
    let mut replicas = policy.min_replicas;
    let mut recommendations: Vec<(u64, u32)> = Vec::new();
    let mut timeline = Vec::new();
    let mut unclamped_peak = 0;
    let Some(&(last_second, _)) = demand.last() else {
        return HpaSimulation {
            policy: Some(policy),
            ..Default::default()
        };
    };
    let mut sync = policy.sync_period_s;
    while sync <= last_second + policy.sync_period_s {
        let window: Vec<f64> = demand
            .iter()
            .filter(|(s, _)| *s < sync && *s + policy.sync_period_s >= sync)
            .map(|(_, d)| *d)
            .collect();
        if !window.is_empty() {
            let demand = window.iter().sum::<f64>() / window.len() as f64;
            let desired = desired_replicas(replicas, demand, &policy);
            unclamped_peak = unclamped_peak.max(desired);
            recommendations.push((sync, desired));
            replicas = stabilised(replicas, &recommendations, sync, &policy);
            timeline.push((sync.min(last_second), replicas));
        }
        sync += policy.sync_period_s;
    }
    HpaSimulation {
        policy: Some(policy),
        peak_replicas: timeline
            .iter()
            .map(|(_, r)| *r)
            .max()
            .unwrap_or(policy.min_replicas),
        replicas: timeline,
        unclamped_peak,
    }
}

/// Kubernetes' formula with its tolerance, before any clamp.
fn desired_replicas(current: u32, demand: f64, policy: &HpaPolicy) -> u32 {
    let utilisation = demand / f64::from(current.max(1));
    let ratio = utilisation / policy.target;
    if (ratio - 1.0).abs() <= policy.tolerance {
        current
    } else {
        // Kubernetes works in whole percents; without this, 4.2 / 0.7 = 6.000000000000001
        // would round up to 7.
        (f64::from(current) * ratio - 1e-9).ceil() as u32
    }
}

/// Scale up at once; scale down only as far as the window's highest recommendation.
fn stabilised(current: u32, recommendations: &[(u64, u32)], now: u64, policy: &HpaPolicy) -> u32 {
    let latest = recommendations.last().map_or(current, |(_, r)| *r);
    let next = if latest >= current {
        latest
    } else {
        recommendations
            .iter()
            .filter(|(s, _)| *s + policy.downscale_stabilisation_s > now)
            .map(|(_, r)| *r)
            .max()
            .unwrap_or(latest)
            .min(current)
    };
    next.clamp(policy.min_replicas, policy.max_replicas)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constant(demand: f64, seconds: u64) -> Vec<(u64, f64)> {
        (0..seconds).map(|s| (s, demand)).collect()
    }

    #[test]
    fn the_formula_and_its_tolerance() {
        let policy = HpaPolicy::default();
        // 2 replicas at 0.75 each = 107% of target: inside the 10% tolerance.
        assert_eq!(desired_replicas(2, 1.5, &policy), 2);
        // 2 replicas at 1.0 each = 143% of target: ceil(2 * 1.43) = 3.
        assert_eq!(desired_replicas(2, 2.0, &policy), 3);
        assert_eq!(desired_replicas(3, 0.3, &policy), 1);
    }

    #[test]
    fn light_load_stays_at_the_minimum() {
        let sim = simulate(&constant(0.3, 60), HpaPolicy::default());
        assert!(sim.replicas.iter().all(|(_, r)| *r == 2), "{:?}", sim.replicas);
        assert_eq!((sim.peak_replicas, sim.unclamped_peak), (2, 1));
    }

    #[test]
    fn heavy_load_scales_out_and_clamps_at_the_maximum() {
        let sim = simulate(&constant(4.2, 60), HpaPolicy::default());
        assert_eq!(sim.replicas[0], (15, 6), "ceil(4.2 / 0.7) = 6 at the first sync");
        let sim = simulate(&constant(9.0, 60), HpaPolicy::default());
        assert_eq!((sim.peak_replicas, sim.unclamped_peak), (10, 13));
    }

    #[test]
    fn scale_down_waits_for_the_stabilisation_window() {
        let mut demand = constant(4.2, 30);
        demand.extend((30..400).map(|s| (s, 0.3)));
        let sim = simulate(&demand, HpaPolicy::default());
        let at = |second: u64| sim.replicas.iter().rev().find(|(s, _)| *s <= second).unwrap().1;
        assert_eq!(at(30), 6);
        assert_eq!(at(300), 6, "still within 300 s of the high recommendation");
        assert_eq!(at(399), 2);
    }
}
