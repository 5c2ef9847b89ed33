//! The infrastructure part of a summary: what the samplers saw, reduced to the figures
//! the seed's thresholds talk about, with the trigger timeline and the HPA simulation.

use serde::{Deserialize, Serialize};

use super::hpa::{simulate, HpaPolicy, HpaSimulation};
use super::triggers::{timeline, Trigger, TriggerReport};
use crate::metrics::Measurements;
use crate::policy;
use crate::samples::{Aggregate, SeriesName, Telemetry};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Infrastructure {
    pub backend_instances: usize,
    pub cpu_limit_cores: f64,
    pub memory_limit_bytes: u64,
    /// Connections of the busiest backend instance (the seed allows 25).
    pub db_connections_max: Option<f64>,
    /// Whether connections were counted over all instances together (from Prometheus,
    /// whose exporter does not tell clients apart): then the max is a bound.
    #[serde(default)]
    pub db_connections_all_instances: bool,
    /// Postgres `max_connections`.
    pub max_connections: Option<u32>,
    pub backend_cpu_p95_percent: Option<f64>,
    pub backend_cpu_max_percent: Option<f64>,
    pub backend_memory_max_percent: Option<f64>,
    pub redis_memory_max_bytes: Option<f64>,
    pub redis_maxmemory_bytes: Option<u64>,
    pub redis_evicted_keys: Option<f64>,
    pub redis_hit_ratio: Option<f64>,
    pub redis_aof_ok: Option<bool>,
    pub health_p99_ms: Option<f64>,
    pub health_detailed_p99_ms: Option<f64>,
    pub in_flight_max: Option<f64>,
    pub triggers: Vec<TriggerReport>,
    /// The seed's HPA over the measured backend CPU; `None` when no CPU was measured.
    pub hpa: Option<HpaSimulation>,
    /// Replicas the deployment really ran, by second (Prometheus), beside the simulation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas_observed: Vec<(u64, u32)>,
    /// The figures nobody measured (no probe could reach them): reported as such,
    /// never as zeros.
    #[serde(default)]
    pub not_measured: Vec<String>,
    /// Each backend instance on its own: how replicas shared the load.
    #[serde(default)]
    pub instances: Vec<InstanceReport>,
    /// Measured instances that exited or restarted during the run: their figures stop
    /// there (or start afresh), and the report says so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departures: Vec<crate::samples::Departure>,
}

/// One backend instance over the run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct InstanceReport {
    pub name: String,
    pub cpu_mean_percent: f64,
    pub cpu_max_percent: f64,
    /// Most Postgres connections it held at once.
    pub db_connections_max: Option<u32>,
    /// Requests it served and their rate, where a load balancer counted them.
    pub requests: Option<u64>,
    pub rps: Option<f64>,
}

impl Infrastructure {
    pub fn new(telemetry: &Telemetry, measured: &Measurements) -> Self {
        let agg = |name: SeriesName, aggregate: Aggregate| aggregate.apply(&telemetry.values(name));
        let percent = |name, aggregate| agg(name, aggregate).map(|v| v * 100.0);
        let last_redis = telemetry.samples.iter().rev().find_map(|s| s.redis.as_ref());
        let cpu_measured = telemetry.samples.iter().any(|s| !s.backends.is_empty());
        let mut infrastructure = Self {
            backend_instances: telemetry
                .samples
                .iter()
                .map(|s| s.backends.len())
                .max()
                .unwrap_or(0),
            cpu_limit_cores: telemetry.cpu_limit_cores,
            memory_limit_bytes: telemetry.memory_limit_bytes,
            db_connections_max: agg(SeriesName::DbConnections, Aggregate::Max),
            db_connections_all_instances: telemetry.samples.iter().any(|s| {
                s.db.as_ref()
                    .is_some_and(|db| db.per_instance.contains_key(crate::samples::ALL_INSTANCES))
            }),
            max_connections: telemetry.max_connections,
            backend_cpu_p95_percent: percent(SeriesName::BackendCpu, Aggregate::Percentile(0.95)),
            backend_cpu_max_percent: percent(SeriesName::BackendCpu, Aggregate::Max),
            backend_memory_max_percent: percent(SeriesName::BackendMemory, Aggregate::Max),
            redis_memory_max_bytes: Aggregate::Max.apply(
                &telemetry
                    .samples
                    .iter()
                    .filter_map(|s| Some(s.redis.as_ref()?.used_memory_bytes as f64))
                    .collect::<Vec<_>>(),
            ),
            redis_maxmemory_bytes: last_redis.map(|r| r.maxmemory_bytes),
            redis_evicted_keys: agg(SeriesName::RedisEvictedKeys, Aggregate::Last),
            redis_hit_ratio: agg(SeriesName::RedisHitRatio, Aggregate::Last),
            redis_aof_ok: last_redis.map(|r| r.aof_enabled && r.aof_ok),
            health_p99_ms: agg(SeriesName::Health, Aggregate::Percentile(0.99)).map(|us| us / 1000.0),
            health_detailed_p99_ms: agg(SeriesName::HealthDetailed, Aggregate::Percentile(0.99))
                .map(|us| us / 1000.0),
            in_flight_max: agg(SeriesName::InFlight, Aggregate::Max),
            triggers: triggers(telemetry, measured),
            hpa: cpu_measured.then(|| simulate(&telemetry.cpu_demand(), HpaPolicy::default())),
            replicas_observed: telemetry
                .samples
                .iter()
                .filter_map(|s| Some((s.second, s.replicas?)))
                .collect(),
            instances: instances(telemetry, measured.elapsed.as_secs_f64()),
            departures: telemetry.departures.clone(),
            not_measured: Vec::new(),
        };
        infrastructure.not_measured = infrastructure.unmeasured();
        infrastructure
    }

    /// The names of the figures no sample held.
    fn unmeasured(&self) -> Vec<String> {
        [
            ("db_connections", self.db_connections_max.is_none()),
            ("max_connections", self.max_connections.is_none()),
            ("backend_cpu", self.backend_cpu_max_percent.is_none()),
            ("backend_memory", self.backend_memory_max_percent.is_none()),
            ("redis", self.redis_memory_max_bytes.is_none()),
            ("hpa", self.hpa.is_none()),
            ("health", self.health_p99_ms.is_none()),
        ]
        .into_iter()
        .filter(|(_, missing)| *missing)
        .map(|(name, _)| name.to_owned())
        .collect()
    }
}

/// Per instance: CPU from the samples, connections from `pg_stat_activity`, requests
/// from the balancer's count.
fn instances(telemetry: &Telemetry, seconds: f64) -> Vec<InstanceReport> {
    let mut names: Vec<&str> = Vec::new();
    for sample in &telemetry.samples {
        for backend in &sample.backends {
            if !names.contains(&backend.name.as_str()) {
                names.push(&backend.name);
            }
        }
    }
    names
        .into_iter()
        .map(|name| {
            let cpu: Vec<f64> = telemetry
                .samples
                .iter()
                .flat_map(|s| {
                    s.backends
                        .iter()
                        .filter(|b| b.name == name)
                        .map(|b| b.cpu_percent)
                })
                .collect();
            let requests = telemetry.served.get(name).copied();
            InstanceReport {
                name: name.to_owned(),
                cpu_mean_percent: cpu.iter().sum::<f64>() / cpu.len().max(1) as f64,
                cpu_max_percent: cpu.iter().copied().fold(0.0, f64::max),
                db_connections_max: telemetry
                    .samples
                    .iter()
                    .filter_map(|s| s.db.as_ref()?.per_instance.get(name).copied())
                    .max(),
                requests,
                rps: requests.filter(|_| seconds > 0.0).map(|r| r as f64 / seconds),
            }
        })
        .collect()
}

/// The seed's four triggers over this run's series.
fn triggers(telemetry: &Telemetry, measured: &Measurements) -> Vec<TriggerReport> {
    let percent = |name| -> Vec<(u64, f64)> {
        telemetry
            .points(name)
            .into_iter()
            .map(|(s, v)| (s, v * 100.0))
            .collect()
    };
    let cpu = percent(SeriesName::BackendCpu);
    let memory = percent(SeriesName::BackendMemory);
    let response = response_time_ms(measured);
    let queue = telemetry.points(SeriesName::InFlight);
    timeline(&[
        Trigger {
            name: "cpu",
            threshold: policy::percent(policy::CPU_TRIGGER),
            unit: "%",
            series: &cpu,
        },
        Trigger {
            name: "memory",
            threshold: policy::percent(policy::MEMORY_TRIGGER),
            unit: "%",
            series: &memory,
        },
        Trigger {
            name: "response_time_p95",
            threshold: policy::RESPONSE_MS,
            unit: "ms",
            series: &response,
        },
        Trigger {
            name: "queue_depth",
            threshold: policy::QUEUE_DEPTH,
            unit: "",
            series: &queue,
        },
    ])
}

/// Per second, the slowest step's p95 in milliseconds.
pub fn response_time_ms(measured: &Measurements) -> Vec<(u64, f64)> {
    let mut by_second = std::collections::BTreeMap::<u64, f64>::new();
    for step in &measured.steps {
        for second in step.seconds.iter().map(|s| s.figures()) {
            let ms = second.p95_us as f64 / 1000.0;
            let slot = by_second.entry(second.second).or_insert(ms);
            *slot = slot.max(ms);
        }
    }
    by_second.into_iter().collect()
}
