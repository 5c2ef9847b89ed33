//! What the telemetry samplers saw during a run, as data: one [`Sample`] a second of the
//! backend instances, Postgres, Redis, health and in-flight, the instances that went
//! away, and named [`series`] over them for SLOs. The probes that take the samples live
//! with the stack; this is what reports, SLOs and autoscaling read.

mod series;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use series::{Aggregate, SeriesKind, SeriesName, SERIES};

/// The instance name of connections counted without telling clients apart
/// (Prometheus exporters count per database and state).
pub const ALL_INSTANCES: &str = "all instances";

/// The resource limits of one backend instance.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    pub cpu_cores: f64,
    pub memory_bytes: u64,
}

/// Everything sampled during a run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Telemetry {
    pub cpu_limit_cores: f64,
    pub memory_limit_bytes: u64,
    /// Postgres `max_connections`, when the database was reachable.
    pub max_connections: Option<u32>,
    pub samples: Vec<Sample>,
    /// Requests each backend replica served, by name, as the load balancer counted
    /// them (empty without one).
    #[serde(default)]
    pub served: std::collections::BTreeMap<String, u64>,
    /// Measured instances that went away (or restarted) while the load ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departures: Vec<Departure>,
}

/// A measured backend instance that exited or restarted during the run: its figures
/// after that second are missing, never zeros.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Departure {
    pub name: String,
    /// What was measured: `pid 1234` or `container 3f2a...`.
    pub what: String,
    pub event: DepartureEvent,
    /// The second of the load it was first seen gone (or back as a new process).
    pub at_s: u64,
    /// Seconds it was measured before that.
    pub measured_s: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepartureEvent {
    /// The process ended, or the container stopped.
    Exited,
    /// The container stopped and started again: a new process, its memory fresh.
    Restarted,
}

/// One second.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds since the load started.
    pub second: u64,
    pub backends: Vec<InstanceSample>,
    pub db: Option<DbSample>,
    pub redis: Option<RedisSample>,
    pub health_ms: Option<f64>,
    pub health_detailed_ms: Option<f64>,
    /// Most requests the generator had in flight at once during the second.
    pub in_flight: u64,
    /// Backend replicas the deployment really ran (Prometheus: kube-state-metrics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct InstanceSample {
    pub name: String,
    /// Percent of the instance's CPU limit.
    pub cpu_percent: f64,
    /// Percent of the instance's memory limit.
    pub memory_percent: f64,
    pub rss_bytes: u64,
}

impl InstanceSample {
    /// An instance's figures, memory as a percentage of its limit.
    pub fn new(name: &str, cpu_percent: f64, rss_bytes: u64, limits: Limits) -> Self {
        Self {
            name: name.to_owned(),
            cpu_percent,
            memory_percent: rss_bytes as f64 / limits.memory_bytes.max(1) as f64 * 100.0,
            rss_bytes,
        }
    }
}

/// Connections open at one instant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DbSample {
    /// Client connections per backend instance (by client address).
    pub per_instance: BTreeMap<String, u32>,
    pub active: u32,
    pub idle: u32,
    pub idle_in_transaction: u32,
    pub total: u32,
}

impl DbSample {
    /// The same sample with client addresses replaced by the names of the instances
    /// behind them, where known.
    pub fn named(mut self, names: &BTreeMap<String, String>) -> Self {
        self.per_instance = std::mem::take(&mut self.per_instance)
            .into_iter()
            .map(|(address, count)| (names.get(&address).cloned().unwrap_or(address), count))
            .collect();
        self
    }

    /// The busiest instance's connection count: what the seed's 25 limits.
    pub fn max_per_instance(&self) -> u32 {
        self.per_instance.values().copied().max().unwrap_or(0)
    }
}

/// What Redis `INFO` says at one instant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RedisSample {
    pub used_memory_bytes: u64,
    /// 0 when Redis has no limit.
    pub maxmemory_bytes: u64,
    pub evicted_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub connected_clients: u64,
    pub aof_enabled: bool,
    /// `aof_last_write_status:ok`.
    pub aof_ok: bool,
}

/// The figures telemetry reads from Prometheus, with their default PromQL (the
/// exporters a production deployment runs; a scenario's `[stack.prometheus]` replaces them). Backend figures are per instance: one
/// series per pod (or process group), named by its `pod` label where there is one.
pub const PROMETHEUS_DEFAULTS: &[(&str, &str)] = &[
    ("db_connections", "sum(pg_stat_activity_count)"),
    ("max_connections", "max(pg_settings_max_connections)"),
    ("redis_memory", "max(redis_memory_used_bytes)"),
    ("redis_maxmemory", "max(redis_memory_max_bytes)"),
    ("redis_evicted_keys", "max(redis_evicted_keys_total)"),
    ("redis_hits", "max(redis_keyspace_hits_total)"),
    ("redis_misses", "max(redis_keyspace_misses_total)"),
    ("redis_clients", "max(redis_connected_clients)"),
    ("redis_aof_enabled", "max(redis_aof_enabled)"),
    ("redis_aof_ok", "min(redis_aof_last_write_status)"),
    (
        "backend_cpu",
        "sum by (pod) (rate(container_cpu_usage_seconds_total{container=\"backend\"}[1m]))",
    ),
    (
        "backend_memory",
        "sum by (pod) (container_memory_working_set_bytes{container=\"backend\"})",
    ),
    (
        "backend_cpu_limit",
        "sum by (pod) (kube_pod_container_resource_limits{container=\"backend\",resource=\"cpu\"})",
    ),
    (
        "backend_memory_limit",
        "sum by (pod) (kube_pod_container_resource_limits{container=\"backend\",resource=\"memory\"})",
    ),
    (
        "replicas",
        "max(kube_deployment_status_replicas_available{deployment=\"backend\"})",
    ),
];

/// Every figure a `[stack.prometheus]` table may name.
pub fn prometheus_figures() -> Vec<&'static str> {
    PROMETHEUS_DEFAULTS.iter().map(|(figure, _)| *figure).collect()
}
