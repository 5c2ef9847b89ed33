//! Every threshold the seed (`deployment-infrastructure.md`) states, in one place; every
//! check, trigger, simulation and sizing reads it from here.
//!
//! The seed's words:
//! - Auto-scaling triggers: "CPU usage > 70%", "Memory usage > 80%", "Response time >
//!   500ms", "Request queue depth".
//! - The Horizontal Pod Autoscaler: "minReplicas: 2", "maxReplicas: 10", target CPU
//!   utilisation 70%.
//! - Database: "Connection pooling (max 25 connections)" per backend instance.
//! - Redis: "maxmemory 512mb", "maxmemory-policy allkeys-lru".
//! - Disaster recovery: "Recovery Time Objective (RTO): 4 hours", "Recovery Point
//!   Objective (RPO): 24 hours".

use std::time::Duration;

/// Response time past which the seed scales out; the SLO every step is held to (p95).
pub const RESPONSE_MS: f64 = 500.0;
/// CPU utilisation of an instance's limit past which the seed scales out (a fraction).
pub const CPU_TRIGGER: f64 = 0.70;
/// Memory use of an instance's limit past which the seed scales out (a fraction).
pub const MEMORY_TRIGGER: f64 = 0.80;
/// Database connections one backend instance may hold (its pool's size).
pub const DB_CONNECTIONS_PER_INSTANCE: u32 = 25;
/// Requests in flight past one instance's pool must queue: the queue-depth trigger.
pub const QUEUE_DEPTH: f64 = DB_CONNECTIONS_PER_INSTANCE as f64;
/// The HPA's replica bounds.
pub const HPA_MIN_REPLICAS: u32 = 2;
pub const HPA_MAX_REPLICAS: u32 = 10;
/// Redis memory limit and what happens past it.
pub const REDIS_MAXMEMORY_BYTES: u64 = 512 * 1024 * 1024;
pub const REDIS_MAXMEMORY_POLICY: &str = "allkeys-lru";
/// How long a recovery may take, and how much data it may lose.
pub const RTO: Duration = Duration::from_secs(4 * 3600);
pub const RPO: Duration = Duration::from_secs(24 * 3600);

/// `maxmemory` as Redis's own configuration writes it, e.g. `512mb`.
pub fn redis_maxmemory() -> String {
    format!("{}mb", REDIS_MAXMEMORY_BYTES / (1024 * 1024))
}

/// The seed's triggers as percentages, as reports print them.
pub fn percent(fraction: f64) -> f64 {
    fraction * 100.0
}
