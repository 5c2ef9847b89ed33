//! The seed's resource budgets per container (`karigar-api.md`), for `--profile`.

/// A container's CPU and memory limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub cpus: f64,
    pub memory_bytes: u64,
}

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

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
        let limits = |cpus, memory_bytes| Limits { cpus, memory_bytes };
        match self {
            Profile::Dev => StackLimits {
                backend: limits(0.5, 512 * MIB),
                frontend: limits(0.5, 512 * MIB),
                postgres: limits(1.0, GIB),
                redis: limits(0.25, 256 * MIB),
            },
            Profile::Prod => StackLimits {
                backend: limits(2.0, 2 * GIB),
                frontend: limits(1.0, GIB),
                postgres: limits(2.0, 4 * GIB),
                redis: limits(0.5, GIB),
            },
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
