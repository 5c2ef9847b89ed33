//! From a capacity report to the numbers of a deployment, each with the measurement
//! (or the seed's figure, where nothing was measured) it comes from.

use serde::{Deserialize, Serialize};

use crate::capacity::CapacityReport;
use crate::capacity::{CpuModel, Sizing, StepResult};
use crate::policy::{
    self, size, Budget, CPU_TRIGGER, DB_CONNECTIONS_PER_INSTANCE, HPA_MAX_REPLICAS, HPA_MIN_REPLICAS,
    MEMORY_TRIGGER, REDIS_MAXMEMORY_BYTES, REDIS_MAXMEMORY_POLICY,
};

const MIB: u64 = 1024 * 1024;
/// Memory request over the measured peak, and limit over it.
const MEMORY_REQUEST_HEADROOM: f64 = 1.5;
const MEMORY_LIMIT_HEADROOM: f64 = 2.0;
/// The least memory requested and allowed, whatever was measured: a short search at
/// low rates sees little of what caches and connections take later.
const MEMORY_REQUEST_FLOOR: u64 = 64 * MIB;
const MEMORY_LIMIT_FLOOR: u64 = 128 * MIB;
/// HPA max over the replicas the target needs, for bursts.
const HPA_HEADROOM: f64 = 1.5;
/// Pool over the most connections one instance held at the rates that held.
const POOL_HEADROOM: f64 = 1.25;
/// Connections Postgres keeps for others than the backends: its 3 superuser slots,
/// migrations, backups, the exporter and an operator's psql.
pub const CONNECTION_RESERVE: u32 = 10;
/// Redis's memory limit over `maxmemory`: room for the AOF rewrite's copy-on-write
/// and the allocator's overhead, so that eviction, not the OOM killer, bounds it.
const REDIS_LIMIT_OVER_MAXMEMORY: f64 = 1.5;
/// Seconds the HPA waits before scaling down.
pub const SCALE_DOWN_STABILISATION_S: i32 = 300;

/// CPU in millicores and memory in bytes, requested and limited.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    pub cpu_request_millis: u32,
    pub cpu_limit_millis: u32,
    pub memory_request_bytes: u64,
    pub memory_limit_bytes: u64,
}

/// A number of the deployment and where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chosen {
    /// `backend cpu request`, `hpa max replicas`, ...
    pub setting: String,
    pub value: String,
    pub from: String,
}

/// Everything the manifests and the Compose override are written from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeploymentPlan {
    pub scenario: String,
    pub capacity_run: String,
    pub target_rate: f64,
    pub per_instance_rate: f64,
    pub backend: Resources,
    pub frontend: Resources,
    pub postgres: Resources,
    pub redis: Resources,
    pub replicas: u32,
    pub hpa_min: u32,
    pub hpa_max: u32,
    /// The target needs more replicas than HPA max 10 allows.
    pub exceeds_hpa_max: bool,
    pub replicas_needed: u32,
    pub pool_per_replica: u32,
    pub max_connections: u32,
    pub connection_reserve: u32,
    /// Which of pool and `max_connections` was changed to fit, and why.
    pub db_decision: String,
    pub redis_maxmemory_bytes: u64,
    pub redis_maxmemory_policy: String,
    pub chosen: Vec<Chosen>,
}

/// The plan of `report`, or why it cannot be turned into a deployment.
pub fn plan(report: &CapacityReport) -> Result<DeploymentPlan, String> {
    let findings = &report.findings;
    let sizing = findings.sizing.as_ref().ok_or(
        "the capacity report has no sizing: run capacity with --target-rps (or target_rps in the scenario)",
    )?;
    let cpu = findings
        .cpu
        .ok_or("the capacity report has no CPU model: backend CPU was not measured")?;
    let held: Vec<&StepResult> = report.steps.iter().filter(|s| s.sustainable).collect();
    if held.is_empty() {
        return Err("no step of the capacity search held its SLOs: there is nothing to size from".into());
    }
    let mut notes = Notes::default();
    let (cpu_request, cpu_limit) = backend_cpu(
        &cpu,
        sizing.per_instance_rate,
        report.settings.limit_cores,
        &mut notes,
    );
    let (memory_request, memory_limit) = backend_memory(&held, &mut notes);
    let hpa_max = replicas(sizing, &mut notes);
    let observed = held
        .iter()
        .filter_map(|s| s.db_connections_max)
        .max()
        .unwrap_or(0);
    let db = resolve_connections(hpa_max, observed, sizing.db.max_connections);
    notes.add(
        "backend DB_MAX_OPEN_CONNS",
        db.pool.to_string(),
        db.pool_from.clone(),
    );
    notes.add(
        "postgres max_connections",
        db.max_connections.to_string(),
        db.max_from.clone(),
    );
    let (maxmemory, redis_limit) = redis_memory(sizing, &mut notes);
    let seed = "not measured by capacity: the seed's production budget";
    notes.add(
        "frontend resources",
        "250m..1 CPU, 256 MiB..1 GiB".into(),
        seed.into(),
    );
    notes.add("postgres resources", "1..4 CPU, 4..8 GiB".into(), seed.into());
    Ok(DeploymentPlan {
        scenario: report.scenario.clone(),
        capacity_run: report.run_id.clone(),
        target_rate: sizing.target_rate,
        per_instance_rate: sizing.per_instance_rate,
        backend: Resources {
            cpu_request_millis: cpu_request,
            cpu_limit_millis: cpu_limit,
            memory_request_bytes: memory_request,
            memory_limit_bytes: memory_limit,
        },
        frontend: SEED_FRONTEND,
        postgres: SEED_POSTGRES,
        redis: Resources {
            cpu_request_millis: 250,
            cpu_limit_millis: 1000,
            memory_request_bytes: redis_limit,
            memory_limit_bytes: redis_limit,
        },
        replicas: sizing.replicas,
        hpa_min: HPA_MIN_REPLICAS,
        hpa_max,
        exceeds_hpa_max: sizing.exceeds_hpa_max,
        replicas_needed: sizing.replicas_needed,
        pool_per_replica: db.pool,
        max_connections: db.max_connections,
        connection_reserve: CONNECTION_RESERVE,
        db_decision: db.decision,
        redis_maxmemory_bytes: maxmemory,
        redis_maxmemory_policy: REDIS_MAXMEMORY_POLICY.into(),
        chosen: notes.0,
    })
}

/// The seed's production budgets of what capacity does not measure: limits at the
/// seed's figures (Postgres at the top of its range, its request at the bottom).
const SEED_FRONTEND: Resources = Resources {
    cpu_request_millis: 250,
    cpu_limit_millis: budget_millis(policy::PRODUCTION.frontend),
    memory_request_bytes: 256 * MIB,
    memory_limit_bytes: policy::PRODUCTION.frontend.memory_bytes,
};
const SEED_POSTGRES: Resources = Resources {
    cpu_request_millis: 1000,
    cpu_limit_millis: budget_millis(policy::PRODUCTION_POSTGRES_MAX),
    memory_request_bytes: policy::PRODUCTION.postgres.memory_bytes,
    memory_limit_bytes: policy::PRODUCTION_POSTGRES_MAX.memory_bytes,
};

/// A budget's CPU in millicores, as Kubernetes writes it.
const fn budget_millis(budget: Budget) -> u32 {
    (budget.cpus * 1000.0) as u32
}

/// Every number chosen, in order, with its source.
#[derive(Default)]
struct Notes(Vec<Chosen>);

impl Notes {
    fn add(&mut self, setting: &str, value: String, from: String) {
        self.0.push(Chosen {
            setting: setting.to_owned(),
            value,
            from,
        });
    }
}

/// CPU request (in millicores) so that the HPA's target fires at the planned rate,
/// and the limit capacity measured under.
fn backend_cpu(cpu: &CpuModel, rate: f64, limit_cores: f64, notes: &mut Notes) -> (u32, u32) {
    let cores_at_plan = cpu.idle_cores + cpu.cpu_s_per_iteration * rate;
    let request = round_up(cores_at_plan / CPU_TRIGGER * 1000.0, 50.0).max(50.0) as u32;
    let limit = (round_up(limit_cores * 1000.0, 100.0) as u32).max(request);
    notes.add(
        "backend cpu request",
        millis(request),
        format!(
            "{:.4} CPU-s per iteration x {rate:.2} iterations/s planned per instance + {:.3} idle = {:.3} cores, \
             over the {:.0} % CPU target so that the HPA scales out at the planned rate",
            cpu.cpu_s_per_iteration,
            cpu.idle_cores,
            cores_at_plan,
            CPU_TRIGGER * 100.0
        ),
    );
    notes.add(
        "backend cpu limit",
        millis(limit),
        format!("the limit the capacity search measured one instance under ({limit_cores:.2} cores)"),
    );
    (request, limit)
}

/// Memory request and limit (bytes) from the measured peak, with headroom and floors.
fn backend_memory(held: &[&StepResult], notes: &mut Notes) -> (u64, u64) {
    let Some(peak) = held.iter().filter_map(|s| s.backend_memory_bytes).max() else {
        let limit = policy::PRODUCTION.backend.memory_bytes;
        let why = format!(
            "backend memory not measured: the seed's production budget ({})",
            size(limit)
        );
        notes.add("backend memory request", mebibytes(limit / 2), why.clone());
        notes.add("backend memory limit", mebibytes(limit), why);
        return (limit / 2, limit);
    };
    let request = round_up_bytes(peak as f64 * MEMORY_REQUEST_HEADROOM).max(MEMORY_REQUEST_FLOOR);
    let limit = round_up_bytes(peak as f64 * MEMORY_LIMIT_HEADROOM).max(MEMORY_LIMIT_FLOOR);
    let measured = format!(
        "{} MiB peak resident set of one instance (at least {} / {} MiB)",
        peak / MIB,
        MEMORY_REQUEST_FLOOR / MIB,
        MEMORY_LIMIT_FLOOR / MIB
    );
    notes.add(
        "backend memory request",
        mebibytes(request),
        format!("{measured} x {MEMORY_REQUEST_HEADROOM}"),
    );
    notes.add(
        "backend memory limit",
        mebibytes(limit),
        format!("{measured} x {MEMORY_LIMIT_HEADROOM}"),
    );
    (request, limit)
}

/// Notes the replicas to deploy and returns HPA max: the replicas needed with room
/// for bursts, within the seed's bounds.
fn replicas(sizing: &Sizing, notes: &mut Notes) -> u32 {
    let hpa_max = ((sizing.replicas_needed as f64 * HPA_HEADROOM).ceil() as u32)
        .clamp(HPA_MIN_REPLICAS, HPA_MAX_REPLICAS);
    let bounds = match sizing.exceeds_hpa_max {
        true => format!("capped at HPA max {HPA_MAX_REPLICAS}"),
        false => format!("within HPA min {HPA_MIN_REPLICAS} and max {HPA_MAX_REPLICAS}"),
    };
    notes.add(
        "replicas",
        sizing.replicas.to_string(),
        format!(
            "{:.1}/s target / {:.2}/s per instance = {} needed, {bounds}",
            sizing.target_rate, sizing.per_instance_rate, sizing.replicas_needed
        ),
    );
    let why = match sizing.exceeds_hpa_max {
        true => format!(
            "the target needs {} replicas, more than the seed's max {HPA_MAX_REPLICAS}: capped, and the target \
             will not be met without larger instances",
            sizing.replicas_needed
        ),
        false => format!(
            "{} needed x {HPA_HEADROOM} for bursts, capped at the seed's {HPA_MAX_REPLICAS}",
            sizing.replicas_needed
        ),
    };
    notes.add("hpa max replicas", hpa_max.to_string(), why);
    hpa_max
}

/// Redis `maxmemory` and the container's memory limit above it (bytes).
fn redis_memory(sizing: &Sizing, notes: &mut Notes) -> (u64, u64) {
    let (maxmemory, why) = redis_maxmemory(sizing);
    notes.add("redis maxmemory", mebibytes(maxmemory), why);
    let limit = round_up_bytes(maxmemory as f64 * REDIS_LIMIT_OVER_MAXMEMORY);
    notes.add(
        "redis memory limit",
        mebibytes(limit),
        format!(
            "maxmemory x {REDIS_LIMIT_OVER_MAXMEMORY}: above maxmemory (the seed's dev budget has {} under a \
             {} maxmemory), room for the AOF rewrite",
            size(policy::DEVELOPMENT.redis.memory_bytes),
            size(REDIS_MAXMEMORY_BYTES)
        ),
    );
    (maxmemory, limit)
}

/// Pool and `max_connections`, resolved so that `hpa_max` pools plus the reserve fit.
struct Connections {
    pool: u32,
    pool_from: String,
    max_connections: u32,
    max_from: String,
    decision: String,
}

fn resolve_connections(hpa_max: u32, observed: u32, max_connections: u32) -> Connections {
    let seed_pool = DB_CONNECTIONS_PER_INSTANCE;
    let needed = ((observed.max(1) as f64 * POOL_HEADROOM).ceil() as u32).min(seed_pool);
    let room = max_connections.saturating_sub(CONNECTION_RESERVE) / hpa_max;
    let measured = format!("{observed} connections were the most one instance held at the rates that held");
    if hpa_max * seed_pool + CONNECTION_RESERVE <= max_connections {
        return Connections {
            pool: seed_pool,
            pool_from: format!("the seed's pool of {seed_pool}: it fits"),
            max_connections,
            max_from: format!("as measured: {hpa_max} x {seed_pool} + {CONNECTION_RESERVE} reserved fit"),
            decision: "nothing changed: the seed's pool fits at HPA max".into(),
        };
    }
    if room >= needed {
        return Connections {
            pool: room,
            pool_from: format!(
                "({max_connections} max_connections - {CONNECTION_RESERVE} reserved) / {hpa_max} replicas at HPA max; \
                 {measured}, so {needed} would do"
            ),
            max_connections,
            max_from: "as measured, unchanged".into(),
            decision: format!(
                "the pool, from the seed's {seed_pool} to {room}: {hpa_max} x {seed_pool} + {CONNECTION_RESERVE} > \
                 {max_connections}, and {measured}"
            ),
        };
    }
    let raised = hpa_max * needed + CONNECTION_RESERVE;
    Connections {
        pool: needed,
        pool_from: format!("{measured}, x {POOL_HEADROOM}"),
        max_connections: raised,
        max_from: format!("{hpa_max} replicas x {needed} + {CONNECTION_RESERVE} reserved"),
        decision: format!(
            "max_connections, from {max_connections} to {raised}: the instances need {needed} connections each \
             ({measured}), more than {room} would leave them"
        ),
    }
}

/// The seed's 512 MB, unless the measured growth at the target rate would fill it in a
/// day: then a day of growth.
fn redis_maxmemory(sizing: &Sizing) -> (u64, String) {
    let Some(projection) = &sizing.redis else {
        return (
            REDIS_MAXMEMORY_BYTES,
            format!(
                "the seed's {}: Redis growth was not measured",
                size(REDIS_MAXMEMORY_BYTES)
            ),
        );
    };
    let day = projection.bytes_per_hour * 24.0;
    if day <= REDIS_MAXMEMORY_BYTES as f64 {
        return (
            REDIS_MAXMEMORY_BYTES,
            format!(
                "the seed's {}: at the target rate Redis grows {:.1} MiB an hour, {:.0} MiB a day",
                size(REDIS_MAXMEMORY_BYTES),
                projection.bytes_per_hour / MIB as f64,
                day / MIB as f64
            ),
        );
    }
    let bytes = round_up(day, 256.0 * MIB as f64) as u64;
    (
        bytes,
        format!(
            "a day of growth at the target rate ({:.0} MiB an hour), rounded up to 256 MiB: the seed's {} would \
             start evicting after {:.1} h",
            projection.bytes_per_hour / MIB as f64,
            size(REDIS_MAXMEMORY_BYTES),
            REDIS_MAXMEMORY_BYTES as f64 / projection.bytes_per_hour
        ),
    )
}

fn round_up(value: f64, step: f64) -> f64 {
    (value / step).ceil() * step
}

/// Up to a multiple of 16 MiB.
fn round_up_bytes(bytes: f64) -> u64 {
    round_up(bytes, (16 * MIB) as f64) as u64
}

pub fn millis(m: u32) -> String {
    format!("{m}m")
}

pub fn mebibytes(bytes: u64) -> String {
    format!("{}Mi", bytes.div_ceil(MIB))
}

/// The memory target of the HPA, as a percentage.
pub fn memory_target_percent() -> i32 {
    (MEMORY_TRIGGER * 100.0).round() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_pool_stays_when_it_fits_else_the_pool_or_max_connections_gives() {
        let fits = resolve_connections(3, 10, 100);
        assert_eq!((fits.pool, fits.max_connections), (25, 100));
        let shrunk = resolve_connections(10, 6, 100);
        assert_eq!((shrunk.pool, shrunk.max_connections), (9, 100));
        assert!(shrunk.decision.starts_with("the pool"), "{}", shrunk.decision);
        let raised = resolve_connections(10, 20, 100);
        assert_eq!((raised.pool, raised.max_connections), (25, 260));
        assert!(
            raised.decision.starts_with("max_connections"),
            "{}",
            raised.decision
        );
        assert!(3 * fits.pool + CONNECTION_RESERVE <= fits.max_connections);
        assert!(10 * shrunk.pool + CONNECTION_RESERVE <= shrunk.max_connections);
        assert!(10 * raised.pool + CONNECTION_RESERVE <= raised.max_connections);
    }

    #[test]
    fn quantities_round_up() {
        assert_eq!(round_up(701.0, 50.0), 750.0);
        assert_eq!(mebibytes(round_up_bytes(100.0 * MIB as f64)), "112Mi");
        assert_eq!(millis(750), "750m");
    }
}
