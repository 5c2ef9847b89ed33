//! `promtool test rules` cases: for each alert, its figure's inputs set so that the
//! figure sits 10 % past its threshold (the alert fires) and 10 % short of it (silent),
//! for 30 minutes at a 15 s interval, judged at 20 minutes (past its `for`).

use super::figures::{number, AlertRule, Inputs, Labels, Resource};

/// The input series' step and length, and when the alerts are judged.
pub const INTERVAL: &str = "15s";
const INTERVAL_S: f64 = 15.0;
const POINTS: u32 = 120;
pub const EVAL_TIME: &str = "20m";
/// The limits the container and Redis inputs are set against.
const MEMORY_LIMIT: f64 = 536_870_912.0;
const POD: &str = "backend-1";

/// One input series: its name and labels, and its values in promtool's notation.
pub struct Series {
    pub series: String,
    pub values: String,
}

/// A case: the inputs giving the figure `value`, and whether the alert fires then.
pub struct Case {
    pub value: f64,
    pub fires: bool,
    pub series: Vec<Series>,
    /// Labels the figure's result keeps (the alert carries them).
    pub kept: Vec<(String, String)>,
}

/// The cases of `rule`: just past its threshold, and just short of it (where a figure
/// can be: none below 0).
pub fn cases(rule: &AlertRule) -> Vec<Case> {
    let Some(inputs) = &rule.inputs else {
        return Vec::new();
    };
    let t = rule.threshold;
    let (past, short) = match (rule.fires_above(), t == 0.0) {
        (true, false) => (Some(t * 1.1), Some(t * 0.9)),
        (true, true) => (Some(0.05), (rule.op == ">").then_some(0.0)),
        (false, false) => (Some(t * 0.9), Some(t * 1.1)),
        (false, true) => (None, Some(0.05)),
    };
    [(past, true), (short, false)]
        .into_iter()
        .filter_map(|(value, fires)| {
            let value = value?;
            Some(Case {
                value,
                fires,
                series: series(inputs, value),
                kept: kept(inputs),
            })
        })
        .collect()
}

/// The series that give the figure `value`.
fn series(inputs: &Inputs, value: f64) -> Vec<Series> {
    match inputs {
        Inputs::Quantile {
            metric,
            labels,
            quantile,
        } => {
            // Every observation in the first bucket, [0, B]: the quantile q is q * B.
            let bound = value / quantile;
            vec![
                counter(
                    &format!("{metric}_bucket"),
                    labels,
                    &[("le", &number(bound))],
                    1.0,
                ),
                counter(&format!("{metric}_bucket"), labels, &[("le", "+Inf")], 1.0),
            ]
        }
        Inputs::Mean { metric, labels } => vec![
            counter(&format!("{metric}_sum"), labels, &[], value),
            counter(&format!("{metric}_count"), labels, &[], 1.0),
        ],
        Inputs::ErrorRatio {
            metric,
            labels,
            code_label,
        } => {
            let share = value.clamp(0.0, 1.0);
            vec![
                counter(
                    &format!("{metric}_count"),
                    labels,
                    &[(code_label, "500")],
                    10.0 * share,
                ),
                counter(
                    &format!("{metric}_count"),
                    labels,
                    &[(code_label, "200")],
                    10.0 * (1.0 - share),
                ),
            ]
        }
        Inputs::Rate { metric, labels } => vec![counter(&format!("{metric}_count"), labels, &[], value)],
        Inputs::ConnectionsPerBackend => vec![
            gauge(
                "pg_stat_activity_count",
                &[("datname", "karigar"), ("state", "active")],
                2.0 * value,
            ),
            gauge(
                "kube_deployment_status_replicas_available",
                &[("deployment", "backend")],
                2.0,
            ),
        ],
        Inputs::ContainerShare { resource } => container_series(*resource, value),
        Inputs::ProcessShare { resource, limit } => vec![process_series(*resource, *limit, value)],
        Inputs::RedisMemory => vec![
            gauge("redis_memory_used_bytes", &[], value * MEMORY_LIMIT),
            gauge("redis_memory_max_bytes", &[], MEMORY_LIMIT),
        ],
        Inputs::PostgresUp => vec![gauge("pg_up", &[], value)],
    }
}

/// A backend container's use (cAdvisor) at `value` of its limit (kube-state-metrics).
fn container_series(resource: Resource, value: f64) -> Vec<Series> {
    let container = [("container", "backend"), ("pod", POD)];
    let (usage, limit, name) = match resource {
        Resource::Cpu => (
            counter(
                "container_cpu_usage_seconds_total",
                &Vec::new(),
                &container,
                value,
            ),
            1.0,
            "cpu",
        ),
        Resource::Memory => (
            gauge(
                "container_memory_working_set_bytes",
                &container,
                value * MEMORY_LIMIT,
            ),
            MEMORY_LIMIT,
            "memory",
        ),
    };
    let limits = gauge(
        "kube_pod_container_resource_limits",
        &[("container", "backend"), ("pod", POD), ("resource", name)],
        limit,
    );
    vec![usage, limits]
}

/// process-exporter's `backend` group using `value` of `limit`.
fn process_series(resource: Resource, limit: f64, value: f64) -> Series {
    match resource {
        Resource::Cpu => counter(
            "namedprocess_namegroup_cpu_seconds_total",
            &Vec::new(),
            &[("groupname", "backend"), ("mode", "user")],
            value * limit,
        ),
        Resource::Memory => gauge(
            "namedprocess_namegroup_memory_bytes",
            &[("groupname", "backend"), ("memtype", "resident")],
            value * limit,
        ),
    }
}

/// The labels the figure's PromQL keeps: the pod of a container's share, the group of
/// a process's, else none.
fn kept(inputs: &Inputs) -> Vec<(String, String)> {
    match inputs {
        Inputs::ContainerShare { .. } => vec![("pod".into(), POD.into())],
        Inputs::ProcessShare { .. } => vec![("groupname".into(), "backend".into())],
        _ => Vec::new(),
    }
}

/// A counter growing by `per_second` each second.
fn counter(name: &str, labels: &Labels, extra: &[(&str, &str)], per_second: f64) -> Series {
    Series {
        series: series_name(name, labels, extra),
        values: format!("0+{}x{POINTS}", number(per_second * INTERVAL_S)),
    }
}

/// A gauge holding `value`.
fn gauge(name: &str, labels: &[(&str, &str)], value: f64) -> Series {
    Series {
        series: series_name(name, &Vec::new(), labels),
        values: format!("{}+0x{POINTS}", number(value)),
    }
}

/// `name{a="1",b="2"}`.
fn series_name(name: &str, labels: &Labels, extra: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|label| (label.name.as_str(), label.value.as_str()))
        .chain(extra.iter().copied())
        .map(|(name, value)| format!("{name}={value:?}"))
        .collect();
    match pairs.is_empty() {
        true => name.to_owned(),
        false => format!("{name}{{{}}}", pairs.join(",")),
    }
}
