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
//! - Resource requirements (production): PostgreSQL "4 | 8GB | 100GB" (CPU, memory, disk).

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
pub const RTO_S: f64 = 4.0 * 3600.0;
pub const RPO_S: f64 = 24.0 * 3600.0;
/// The production database's disk: what a restore projection scales to.
pub const PRODUCTION_DATABASE_BYTES: u64 = 100_000_000_000;

/// `maxmemory` as Redis's own configuration writes it, e.g. `512mb`.
pub fn redis_maxmemory() -> String {
    format!("{}mb", REDIS_MAXMEMORY_BYTES / (1024 * 1024))
}

/// The seed's triggers as percentages, as reports print them.
pub fn percent(fraction: f64) -> f64 {
    fraction * 100.0
}
