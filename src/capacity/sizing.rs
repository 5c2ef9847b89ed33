//! From one instance's measured capacity to a deployment for a target load: replicas
//! under the seed's 70% CPU trigger within HPA 2..10, the Postgres connection budget
//! those replicas claim, and how fast Redis fills towards its 512 MB `allkeys-lru` cap.

use serde::{Deserialize, Serialize};

use crate::policy::{
    CPU_TRIGGER, DB_CONNECTIONS_PER_INSTANCE as POOL_PER_INSTANCE, HPA_MAX_REPLICAS as HPA_MAX,
    HPA_MIN_REPLICAS as HPA_MIN, REDIS_MAXMEMORY_BYTES as REDIS_MAXMEMORY,
};

/// Postgres's own default `max_connections`, where the server's is not known.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 100;

/// Backend CPU against load, fitted over the steps that held: `cores = idle + per_iteration × rate`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CpuModel {
    /// Backend CPU-seconds one iteration costs (summed over instances).
    pub cpu_s_per_iteration: f64,
    /// Backend cores used with no load.
    pub idle_cores: f64,
    /// The harness's own CPU-seconds per iteration (it shares this machine).
    pub generator_cpu_s_per_iteration: f64,
}

impl CpuModel {
    /// Fits `(rate, backend cores, generator cores)` points by least squares; one point
    /// gives a line through the origin.
    pub fn fit(points: &[(f64, f64, f64)]) -> Option<Self> {
        let points: Vec<_> = points.iter().copied().filter(|p| p.0 > 0.0).collect();
        let generator = points.iter().map(|p| p.2 / p.0).sum::<f64>() / points.len().max(1) as f64;
        let (slope, intercept) = match points.len() {
            0 => return None,
            1 => (points[0].1 / points[0].0, 0.0),
            n => {
                let n = n as f64;
                let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
                let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
                let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
                let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
                if sxx <= 0.0 {
                    (mean_y / mean_x, 0.0)
                } else {
                    let slope = sxy / sxx;
                    (slope, (mean_y - slope * mean_x).max(0.0))
                }
            }
        };
        (slope > 0.0).then_some(Self {
            cpu_s_per_iteration: slope,
            idle_cores: intercept,
            generator_cpu_s_per_iteration: generator,
        })
    }

    /// The rate at which one instance of `limit_cores` reaches the 70% trigger.
    pub fn rate_at_trigger(&self, limit_cores: f64) -> f64 {
        ((CPU_TRIGGER * limit_cores - self.idle_cores) / self.cpu_s_per_iteration).max(0.0)
    }
}

/// What sizing starts from.
#[derive(Clone, Copy, Debug)]
pub struct SizingInputs {
    /// Iterations per second the deployment must hold.
    pub target_rate: f64,
    /// The highest rate one instance held within every SLO.
    pub sustainable_rate: f64,
    pub cpu: Option<CpuModel>,
    /// CPU limit of one backend instance, in cores.
    pub limit_cores: f64,
    /// Postgres `max_connections` as measured (else the default 100).
    pub max_connections: Option<u32>,
    /// Most connections one instance held during the search.
    pub observed_connections: u32,
    /// Redis memory written per iteration, and in use at the end.
    pub redis_bytes_per_iteration: Option<f64>,
    pub redis_used_bytes: Option<u64>,
    /// Redis `maxmemory`, when set.
    pub redis_maxmemory: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sizing {
    pub target_rate: f64,
    /// What one instance is planned for: the lower of the SLO capacity and the rate at
    /// 70% CPU.
    pub per_instance_rate: f64,
    /// The rate at which one instance reaches the 70% CPU trigger, when CPU was measured.
    pub rate_at_cpu_trigger: Option<f64>,
    /// Replicas the load needs, before the HPA bounds.
    pub replicas_needed: u32,
    /// What to deploy: at least HPA min.
    pub replicas: u32,
    /// The load needs more than HPA max allows.
    pub exceeds_hpa_max: bool,
    pub db: DbBudget,
    pub redis: Option<RedisProjection>,
    /// Plain statements of every limit the plan collides with.
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DbBudget {
    pub max_connections: u32,
    /// Pools of the planned replicas at 25 each.
    pub planned_pool_connections: u32,
    /// Pools at HPA max: what the seed's own numbers claim at full scale-out.
    pub hpa_max_pool_connections: u32,
    /// Connections the planned replicas would hold at the peak per instance measured.
    pub projected_connections: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RedisProjection {
    pub bytes_per_iteration: f64,
    /// Memory written per hour at the target rate.
    pub bytes_per_hour: f64,
    pub maxmemory_bytes: u64,
    /// Hours until `maxmemory` is reached and `allkeys-lru` starts evicting (None when
    /// nothing grows).
    pub hours_to_eviction: Option<f64>,
}

/// Plans replicas, connections and Redis memory for `inputs.target_rate`.
pub fn size(inputs: &SizingInputs) -> Sizing {
    let rate_at_cpu_trigger = inputs.cpu.map(|cpu| cpu.rate_at_trigger(inputs.limit_cores));
    let per_instance_rate =
        rate_at_cpu_trigger.map_or(inputs.sustainable_rate, |r| r.min(inputs.sustainable_rate));
    let replicas_needed = if per_instance_rate > 0.0 {
        (inputs.target_rate / per_instance_rate).ceil().max(1.0) as u32
    } else {
        u32::MAX
    };
    let replicas = replicas_needed.clamp(HPA_MIN, HPA_MAX);
    let db = db_budget(inputs, replicas);
    let redis = redis_projection(inputs);
    let mut sizing = Sizing {
        target_rate: inputs.target_rate,
        per_instance_rate,
        rate_at_cpu_trigger,
        replicas_needed,
        replicas,
        exceeds_hpa_max: replicas_needed > HPA_MAX,
        db,
        redis,
        warnings: Vec::new(),
    };
    sizing.warnings = warnings(&sizing);
    sizing
}

fn db_budget(inputs: &SizingInputs, replicas: u32) -> DbBudget {
    DbBudget {
        max_connections: inputs.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
        planned_pool_connections: replicas * POOL_PER_INSTANCE,
        hpa_max_pool_connections: HPA_MAX * POOL_PER_INSTANCE,
        projected_connections: replicas * inputs.observed_connections,
    }
}

fn redis_projection(inputs: &SizingInputs) -> Option<RedisProjection> {
    let per_iteration = inputs.redis_bytes_per_iteration?;
    let maxmemory = inputs
        .redis_maxmemory
        .filter(|m| *m > 0)
        .unwrap_or(REDIS_MAXMEMORY);
    let bytes_per_hour = per_iteration.max(0.0) * inputs.target_rate * 3600.0;
    let free = maxmemory.saturating_sub(inputs.redis_used_bytes.unwrap_or(0)) as f64;
    Some(RedisProjection {
        bytes_per_iteration: per_iteration,
        bytes_per_hour,
        maxmemory_bytes: maxmemory,
        hours_to_eviction: (bytes_per_hour > 0.0).then(|| free / bytes_per_hour),
    })
}

fn warnings(sizing: &Sizing) -> Vec<String> {
    let mut warnings = Vec::new();
    if sizing.exceeds_hpa_max {
        warnings.push(format!(
            "{:.1}/s needs {} replicas, more than HPA max {HPA_MAX}: raise the max or the instance size",
            sizing.target_rate, sizing.replicas_needed
        ));
    }
    let db = &sizing.db;
    if db.planned_pool_connections > db.max_connections {
        warnings.push(format!(
            "{} replicas x {POOL_PER_INSTANCE} pool connections = {} > Postgres max_connections {}",
            sizing.replicas, db.planned_pool_connections, db.max_connections
        ));
    }
    if db.hpa_max_pool_connections > db.max_connections {
        warnings.push(format!(
            "at HPA max, {HPA_MAX} replicas x {POOL_PER_INSTANCE} = {} pool connections > max_connections {}: \
             the seed's own numbers collide (a pooler such as PgBouncer, or smaller pools, is needed)",
            db.hpa_max_pool_connections, db.max_connections
        ));
    }
    if let Some(hours) = sizing.redis.as_ref().and_then(|r| r.hours_to_eviction) {
        if hours < 24.0 {
            warnings.push(format!(
                "Redis reaches maxmemory after {hours:.1} h at this rate; allkeys-lru then evicts (sessions and cache alike)"
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> SizingInputs {
        SizingInputs {
            target_rate: 50.0,
            sustainable_rate: 12.0,
            cpu: Some(CpuModel {
                cpu_s_per_iteration: 0.1,
                idle_cores: 0.0,
                generator_cpu_s_per_iteration: 0.01,
            }),
            limit_cores: 2.0,
            max_connections: Some(100),
            observed_connections: 6,
            redis_bytes_per_iteration: Some(1000.0),
            redis_used_bytes: Some(1_000_000),
            redis_maxmemory: None,
        }
    }

    #[test]
    fn replicas_keep_each_instance_under_the_cpu_trigger() {
        // 70% of 2 cores at 0.1 CPU-s per iteration: 14/s, but the SLO holds only 12/s.
        let sizing = size(&inputs());
        assert!((sizing.rate_at_cpu_trigger.unwrap() - 14.0).abs() < 1e-9);
        assert_eq!(sizing.per_instance_rate, 12.0);
        assert_eq!(sizing.replicas_needed, 5);
        assert_eq!(sizing.replicas, 5);
        // Cheaper CPU: the trigger no longer binds, the SLO does.
        let cheap = size(&SizingInputs {
            cpu: Some(CpuModel {
                cpu_s_per_iteration: 0.01,
                ..inputs().cpu.unwrap()
            }),
            ..inputs()
        });
        assert_eq!(cheap.per_instance_rate, 12.0);
    }

    #[test]
    fn hpa_bounds_apply_and_are_reported() {
        let small = size(&SizingInputs {
            target_rate: 3.0,
            ..inputs()
        });
        assert_eq!((small.replicas_needed, small.replicas), (1, HPA_MIN));
        let huge = size(&SizingInputs {
            target_rate: 500.0,
            ..inputs()
        });
        assert_eq!((huge.replicas_needed, huge.replicas), (42, HPA_MAX));
        assert!(huge.exceeds_hpa_max);
        assert!(huge.warnings.iter().any(|w| w.contains("more than HPA max")));
    }

    #[test]
    fn the_seeds_connection_numbers_collide_at_full_scale_out() {
        let sizing = size(&inputs());
        assert_eq!(sizing.db.planned_pool_connections, 125);
        assert_eq!(sizing.db.hpa_max_pool_connections, 250);
        assert_eq!(sizing.db.projected_connections, 30);
        assert!(sizing
            .warnings
            .iter()
            .any(|w| w.contains("250 pool connections > max_connections 100")));
        assert!(sizing.warnings.iter().any(|w| w.contains("5 replicas x 25")));
    }

    #[test]
    fn redis_fills_at_the_measured_bytes_per_iteration() {
        let redis = size(&inputs()).redis.unwrap();
        assert_eq!(redis.bytes_per_hour, 1000.0 * 50.0 * 3600.0);
        let hours = redis.hours_to_eviction.unwrap();
        assert!((hours - (REDIS_MAXMEMORY - 1_000_000) as f64 / 180_000_000.0).abs() < 1e-9);
    }

    #[test]
    fn cpu_is_fitted_as_a_line() {
        let model = CpuModel::fit(&[(2.0, 0.3, 0.02), (4.0, 0.5, 0.04), (8.0, 0.9, 0.08)]).unwrap();
        assert!((model.cpu_s_per_iteration - 0.1).abs() < 1e-9);
        assert!((model.idle_cores - 0.1).abs() < 1e-9);
        assert!((model.generator_cpu_s_per_iteration - 0.01).abs() < 1e-9);
        assert!(CpuModel::fit(&[]).is_none());
    }
}
