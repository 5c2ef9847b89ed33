//! The seed's resource budgets per container ([`crate::policy`]), for `--profile`.

use crate::policy::{self, Budget, Budgets};

/// A container's CPU and memory limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub cpus: f64,
    pub memory_bytes: u64,
}

/// The limits of every part of the stack under one profile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StackLimits {
    pub backend: Limits,
    pub frontend: Limits,
    pub postgres: Limits,
    pub redis: Limits,
}

/// Which budgets the containers get: one of the seed's, or a sizing's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Profile {
    /// Development: backend 0.5 CPU / 512 MB, Postgres 1 CPU / 1 GB, Redis 0.25 CPU /
    /// 256 MB, frontend 0.5 CPU / 512 MB.
    Dev,
    /// Production, per instance: backend 2 CPU / 2 GB, Postgres 2 CPU / 4 GB (the low
    /// end of the seed's 2-4 CPU, 4-8 GB), Redis 0.5 CPU / 1 GB, frontend 1 CPU / 1 GB.
    Prod,
    /// The limits `deploy` would deploy (`--profile sized:capacity.json`).
    Sized(StackLimits),
}

impl Profile {
    pub fn limits(self) -> StackLimits {
        match self {
            Profile::Dev => StackLimits::from(policy::DEVELOPMENT),
            Profile::Prod => StackLimits::from(policy::PRODUCTION),
            Profile::Sized(limits) => limits,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Profile::Dev => "dev",
            Profile::Prod => "prod",
            Profile::Sized(_) => "sized",
        }
    }
}

impl From<Budget> for Limits {
    fn from(budget: Budget) -> Self {
        Self {
            cpus: budget.cpus,
            memory_bytes: budget.memory_bytes,
        }
    }
}

impl From<Budgets> for StackLimits {
    fn from(budgets: Budgets) -> Self {
        Self {
            backend: budgets.backend.into(),
            frontend: budgets.frontend.into(),
            postgres: budgets.postgres.into(),
            redis: budgets.redis.into(),
        }
    }
}
