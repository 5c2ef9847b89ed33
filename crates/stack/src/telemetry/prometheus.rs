//! Telemetry read from Prometheus (`--prometheus URL`) by PromQL instant queries, once
//! a second: the same figures the direct probes give, from the exporters a production
//! deployment already runs. Each figure has a default query for the usual exporter
//! (postgres_exporter, redis_exporter, cAdvisor through the kubelet, kube-state-metrics)
//! that a scenario's `[stack.prometheus]` replaces.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::samples::{DbSample, InstanceSample, Limits, RedisSample, PROMETHEUS_DEFAULTS as DEFAULTS};

/// A slower answer is skipped for the second.
const QUERY_TIMEOUT: Duration = Duration::from_millis(800);

/// Where Prometheus answers and what to ask it.
#[derive(Clone, Debug, PartialEq)]
pub struct PrometheusSource {
    pub url: String,
    queries: BTreeMap<String, String>,
}

impl PrometheusSource {
    /// The defaults, with `overrides` (figure, PromQL) in their place.
    pub fn new(url: String, overrides: &[(String, String)]) -> Self {
        let mut queries: BTreeMap<String, String> = DEFAULTS
            .iter()
            .map(|(figure, query)| (figure.to_string(), query.to_string()))
            .collect();
        queries.extend(overrides.iter().cloned());
        Self { url, queries }
    }

    pub fn query(&self, figure: &str) -> Option<&str> {
        self.queries.get(figure).map(String::as_str)
    }
}

/// What one second of queries found.
#[derive(Debug, Default)]
pub(super) struct PrometheusSample {
    pub db: Option<DbSample>,
    pub max_connections: Option<u32>,
    pub redis: Option<RedisSample>,
    pub backends: Vec<InstanceSample>,
    pub replicas: Option<u32>,
}

/// Asks one Prometheus every figure.
pub(super) struct PrometheusProbe {
    source: PrometheusSource,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    data: Option<AnswerData>,
}

#[derive(Deserialize)]
struct AnswerData {
    result: Vec<Series>,
}

#[derive(Deserialize)]
struct Series {
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

impl PrometheusProbe {
    pub(super) fn new(source: PrometheusSource) -> Self {
        let http = crate::client::base()
            .timeout(QUERY_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self { source, http }
    }

    /// Every figure at this instant; what no series answers stays `None`.
    pub(super) async fn sample(&self, limits: Limits) -> PrometheusSample {
        let figures = futures::future::join_all(
            DEFAULTS
                .iter()
                .map(|(figure, _)| async move { (*figure, self.vector(figure).await) }),
        )
        .await;
        let found: BTreeMap<&str, Vec<(String, f64)>> = figures
            .into_iter()
            .filter_map(|(figure, series)| Some((figure, series?)))
            .collect();
        let one = |figure: &str| found.get(figure).and_then(|s| s.first()).map(|(_, v)| *v);
        PrometheusSample {
            db: one("db_connections").map(|total| db_sample(total as u32)),
            max_connections: one("max_connections").map(|v| v as u32),
            redis: one("redis_memory").map(|used| RedisSample {
                used_memory_bytes: used as u64,
                maxmemory_bytes: one("redis_maxmemory").unwrap_or(0.0) as u64,
                evicted_keys: one("redis_evicted_keys").unwrap_or(0.0) as u64,
                keyspace_hits: one("redis_hits").unwrap_or(0.0) as u64,
                keyspace_misses: one("redis_misses").unwrap_or(0.0) as u64,
                connected_clients: one("redis_clients").unwrap_or(0.0) as u64,
                aof_enabled: one("redis_aof_enabled").is_some_and(|v| v >= 1.0),
                aof_ok: one("redis_aof_ok").is_some_and(|v| v >= 1.0),
            }),
            backends: backends(&found, limits),
            replicas: one("replicas").map(|v| v as u32),
        }
    }

    /// The series `figure`'s query returns, named by instance; `None` when it failed or
    /// returned nothing.
    async fn vector(&self, figure: &str) -> Option<Vec<(String, f64)>> {
        let query = self.source.query(figure)?;
        let url = format!("{}/api/v1/query", self.source.url);
        let url = reqwest::Url::parse_with_params(&url, [("query", query)]).ok()?;
        let response = self.http.get(url).send().await.ok()?;
        let answer: Answer = response.json().await.ok()?;
        let data = answer.data.filter(|_| answer.status == "success")?;
        let series: Vec<(String, f64)> = data
            .result
            .into_iter()
            .filter_map(|s| Some((instance_name(&s.metric), s.value.1.parse::<f64>().ok()?)))
            .filter(|(_, v)| v.is_finite())
            .collect();
        (!series.is_empty()).then_some(series)
    }
}

/// Connections as one total: exporters count them per database and state, not per
/// client, so the busiest instance is bounded by the total.
fn db_sample(total: u32) -> DbSample {
    DbSample {
        per_instance: BTreeMap::from([(super::ALL_INSTANCES.to_owned(), total)]),
        total,
        ..DbSample::default()
    }
}

/// One instance per series of `backend_cpu`, with its memory and limits where the
/// other queries name the same instance.
fn backends(found: &BTreeMap<&str, Vec<(String, f64)>>, limits: Limits) -> Vec<InstanceSample> {
    let of = |figure: &str, name: &str| {
        found
            .get(figure)
            .and_then(|series| series.iter().find(|(n, _)| n == name))
            .map(|(_, v)| *v)
    };
    let Some(cpu) = found.get("backend_cpu") else {
        return Vec::new();
    };
    cpu.iter()
        .map(|(name, cores)| {
            let own = Limits {
                cpu_cores: of("backend_cpu_limit", name)
                    .filter(|c| *c > 0.0)
                    .unwrap_or(limits.cpu_cores),
                memory_bytes: of("backend_memory_limit", name)
                    .filter(|m| *m > 0.0)
                    .map_or(limits.memory_bytes, |m| m as u64),
            };
            let rss = of("backend_memory", name).unwrap_or(0.0) as u64;
            let percent = cores / own.cpu_cores.max(f64::EPSILON) * 100.0;
            InstanceSample::new(name, percent, rss, own)
        })
        .collect()
}

/// A series' instance: its `pod`, else another identifying label, else `backend`.
fn instance_name(labels: &BTreeMap<String, String>) -> String {
    ["pod", "container", "groupname", "name", "instance"]
        .iter()
        .find_map(|key| labels.get(*key))
        .cloned()
        .unwrap_or_else(|| "backend".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::prometheus_figures;

    #[test]
    fn overrides_replace_defaults_and_every_figure_has_a_query() {
        let source = PrometheusSource::new(
            "http://127.0.0.1:9090".into(),
            &[("db_connections".into(), "sum(my_conns)".into())],
        );
        assert_eq!(source.query("db_connections"), Some("sum(my_conns)"));
        for figure in prometheus_figures() {
            assert!(source.query(figure).is_some(), "{figure}");
        }
    }

    #[test]
    fn backend_series_take_their_own_limits_where_prometheus_has_them() {
        let limits = Limits {
            cpu_cores: 2.0,
            memory_bytes: 1000,
        };
        let found = BTreeMap::from([
            ("backend_cpu", vec![("a".to_owned(), 0.5), ("b".to_owned(), 1.0)]),
            ("backend_memory", vec![("a".to_owned(), 250.0)]),
            ("backend_cpu_limit", vec![("b".to_owned(), 4.0)]),
        ]);
        let samples = backends(&found, limits);
        assert_eq!(samples.len(), 2);
        assert_eq!((samples[0].cpu_percent, samples[0].memory_percent), (25.0, 25.0));
        assert_eq!(samples[1].cpu_percent, 25.0, "1 of its own 4 cores");
    }

    #[test]
    fn instances_are_named_by_pod_first() {
        let labels = BTreeMap::from([
            ("instance".to_owned(), "10.0.0.1:8080".to_owned()),
            ("pod".to_owned(), "backend-7d9".to_owned()),
        ]);
        assert_eq!(instance_name(&labels), "backend-7d9");
        assert_eq!(instance_name(&BTreeMap::new()), "backend");
    }
}
