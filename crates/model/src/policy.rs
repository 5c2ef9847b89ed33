//! Every threshold the seed (the deployment Karigar runs: docs/src/karigar-contract.md) states,
//! in one place; every check, trigger, simulation and sizing reads it from here.
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
//! - Container budgets: development backend 0.5 CPU / 512 MB, Postgres 1 CPU / 1 GB,
//!   Redis 0.25 CPU / 256 MB, frontend 0.5 CPU / 512 MB; production backend 2 CPU / 2 GB,
//!   Postgres 2-4 CPU / 4-8 GB, Redis 0.5-1 CPU / 1-2 GB, frontend 1 CPU / 1 GB.

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

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// One container's CPU (cores) and memory (bytes) budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    pub cpus: f64,
    pub memory_bytes: u64,
}

/// The budgets of every part of the stack in one of the seed's environments.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budgets {
    pub backend: Budget,
    pub frontend: Budget,
    pub postgres: Budget,
    pub redis: Budget,
}

/// The seed's development budgets.
pub const DEVELOPMENT: Budgets = Budgets {
    backend: Budget {
        cpus: 0.5,
        memory_bytes: 512 * MIB,
    },
    frontend: Budget {
        cpus: 0.5,
        memory_bytes: 512 * MIB,
    },
    postgres: Budget {
        cpus: 1.0,
        memory_bytes: GIB,
    },
    redis: Budget {
        cpus: 0.25,
        memory_bytes: 256 * MIB,
    },
};

/// The seed's production budgets per instance; where the seed gives a range (Postgres
/// 2-4 CPU / 4-8 GB, Redis 0.5-1 CPU / 1-2 GB), its low end.
pub const PRODUCTION: Budgets = Budgets {
    backend: Budget {
        cpus: 2.0,
        memory_bytes: 2 * GIB,
    },
    frontend: Budget {
        cpus: 1.0,
        memory_bytes: GIB,
    },
    postgres: Budget {
        cpus: 2.0,
        memory_bytes: 4 * GIB,
    },
    redis: Budget {
        cpus: 0.5,
        memory_bytes: GIB,
    },
};

/// The top of the seed's production range for Postgres: 4 CPU / 8 GB.
pub const PRODUCTION_POSTGRES_MAX: Budget = Budget {
    cpus: 4.0,
    memory_bytes: 8 * GIB,
};

/// A size in bytes as the reports print the seed's figures, e.g. `512 MB`, `2 GB`.
pub fn size(bytes: u64) -> String {
    match bytes % GIB {
        0 => format!("{} GB", bytes / GIB),
        _ => format!("{} MB", bytes / MIB),
    }
}

/// `maxmemory` as Redis's own configuration writes it, e.g. `512mb`.
pub fn redis_maxmemory() -> String {
    format!("{}mb", REDIS_MAXMEMORY_BYTES / (1024 * 1024))
}

/// The seed's triggers as percentages, as reports print them.
pub fn percent(fraction: f64) -> f64 {
    fraction * 100.0
}
