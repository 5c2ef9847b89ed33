//! Each SLO or seed threshold as a figure's PromQL, the comparison that breaks it, and
//! what a test feeds the figure's inputs to give it a chosen value.

use crate::policy;
use crate::samples::{SeriesName, PROMETHEUS_DEFAULTS};
use crate::scenario::Plan;
use crate::slo::{Cmp, Metric, SloExpr};

use super::{Resources, ServiceMetrics};

/// The window rates and quantiles are taken over.
const WINDOW: &str = "5m";

/// One alerting rule: `FIGURE OP THRESHOLD`, true while the SLO is broken.
#[derive(Clone, Debug)]
pub struct AlertRule {
    pub name: String,
    /// The figure, in PromQL.
    pub figure: String,
    /// The comparison that breaks the SLO (`>`, `>=`, `<`, `<=`).
    pub op: &'static str,
    /// In the figure's unit: seconds, a fraction, per second, a count.
    pub threshold: f64,
    /// The SLO it came from, as written (`seed: ...` for the seed's thresholds).
    pub slo: String,
    /// One line for a person paged by it.
    pub summary: String,
    /// How long it must hold before firing (`5m`).
    pub for_: String,
    /// The run that verified the SLO and what it observed.
    pub verified: String,
    /// What gives the figure a value in a test; `None` for a figure whose query the
    /// scenario replaced (its inputs are the scenario's own).
    pub inputs: Option<Inputs>,
}

/// The series behind a figure, for a test to set.
#[derive(Clone, Debug)]
pub enum Inputs {
    /// A quantile of the latency histogram with these labels.
    Quantile {
        metric: String,
        labels: Labels,
        quantile: f64,
    },
    /// The histogram's mean.
    Mean { metric: String, labels: Labels },
    /// Its share of answers with a 5xx code (in `code_label`).
    ErrorRatio {
        metric: String,
        labels: Labels,
        code_label: String,
    },
    /// Its answers per second.
    Rate { metric: String, labels: Labels },
    /// Postgres connections per backend replica (postgres_exporter, kube-state-metrics).
    ConnectionsPerBackend,
    /// A backend container's CPU or memory over its limit (cAdvisor, kube-state-metrics).
    ContainerShare { resource: Resource },
    /// process-exporter's `backend` group's CPU (cores) or resident memory (bytes) over
    /// `limit`.
    ProcessShare { resource: Resource, limit: f64 },
    /// Redis used memory over `maxmemory` (redis_exporter).
    RedisMemory,
    /// postgres_exporter's `pg_up`.
    PostgresUp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Cpu,
    Memory,
}

/// The labels that pick a step's requests.
pub type Labels = Vec<Label>;

/// One label: how the rule matches it, and the value a test gives it.
#[derive(Clone, Debug)]
pub struct Label {
    pub name: String,
    /// `method="POST"`, `path=~"/api/v1/providers/[^/]+"`.
    pub matcher: String,
    pub value: String,
}

impl AlertRule {
    /// The alert's PromQL.
    pub fn expr(&self) -> String {
        format!("({}) {} {}", self.figure, self.op, number(self.threshold))
    }

    /// Whether it fires when the figure is above the threshold (else below).
    pub fn fires_above(&self) -> bool {
        self.op.starts_with('>')
    }
}

/// A number as PromQL and YAML write it: no trailing zeros, no exponent for the
/// values thresholds take.
pub fn number(value: f64) -> String {
    let text = format!("{value:.9}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" {
        "0".into()
    } else {
        text.to_owned()
    }
}

/// The rule standing for `slo`, or why there is none.
/// `queries` and `resources` are where the exporters' figures come from.
pub fn of_slo(
    slo: &SloExpr,
    plan: &Plan,
    service: &ServiceMetrics,
    queries: &[(String, String)],
    resources: Resources,
) -> Result<AlertRule, String> {
    let op = breaking_op(slo.cmp).ok_or("an equality is no threshold to alert on")?;
    let threshold = slo.unit.to_base(slo.threshold);
    if let Metric::Telemetry(series, _) = &slo.metric {
        let mut rule = telemetry_rule(*series, queries, resources)
            .ok_or_else(|| format!("{} is read by the harness alone; no exporter gives it", slo.text))?;
        rule.op = op;
        rule.threshold = threshold;
        rule.slo = slo.text.clone();
        rule.summary = format!("{} breaks {}", rule.summary, slo.text);
        return Ok(rule);
    }
    let step = slo.step.as_deref();
    let labels = step_labels(step, plan, service)?;
    let figure = request_figure(&slo.metric, labels, service)?;
    let of_step = step.map_or(String::new(), |step| format!(" of {step}"));
    Ok(AlertRule {
        name: format!("Karigar{}{}", figure.name, step.map_or(String::new(), camel)),
        figure: figure.promql,
        op,
        threshold: threshold * figure.scale,
        slo: slo.text.clone(),
        summary: format!("{}{of_step} {} {}", figure.what, figure.verb, slo.text),
        for_: String::new(),
        verified: String::new(),
        inputs: Some(figure.inputs),
    })
}

/// A figure of the service's own requests, from its histogram.
struct RequestFigure {
    /// The alert's name, between `Karigar` and the step.
    name: String,
    promql: String,
    /// From the SLO's base unit (µs for latencies) to the figure's (seconds).
    scale: f64,
    /// What breaks the SLO, and its verb (`p95 latency` `breaks`).
    what: String,
    verb: &'static str,
    inputs: Inputs,
}

/// The figure of request metric `metric` over the requests `labels` pick; why there is
/// none for a maximum or a run's counts.
fn request_figure(
    metric: &Metric,
    labels: Labels,
    service: &ServiceMetrics,
) -> Result<RequestFigure, String> {
    let histogram = &service.histogram;
    let all = selector(&labels, "");
    let metric_name = histogram.clone();
    Ok(match metric {
        Metric::Percentile(q) => {
            let label = percentile_label(*q);
            RequestFigure {
                name: format!("{}Latency", camel(&label)),
                promql: format!(
                    "histogram_quantile({}, sum by (le) (rate({histogram}_bucket{all}[{WINDOW}])))",
                    number(*q)
                ),
                scale: 1e-6,
                what: format!("{label} latency"),
                verb: "breaks",
                inputs: Inputs::Quantile {
                    metric: metric_name,
                    labels,
                    quantile: *q,
                },
            }
        }
        Metric::Mean => RequestFigure {
            name: "MeanLatency".into(),
            promql: format!(
                "sum(rate({histogram}_sum{all}[{WINDOW}])) / sum(rate({histogram}_count{all}[{WINDOW}]))"
            ),
            scale: 1e-6,
            what: "mean latency".into(),
            verb: "breaks",
            inputs: Inputs::Mean {
                metric: metric_name,
                labels,
            },
        },
        Metric::ErrorRate => {
            let errors = selector(&labels, &format!("{}=~\"5..\"", service.status_label));
            RequestFigure {
                name: "ErrorRate".into(),
                promql: format!(
                    "sum(rate({histogram}_count{errors}[{WINDOW}])) / sum(rate({histogram}_count{all}[{WINDOW}]))"
                ),
                scale: 1.0,
                what: "5xx answers".into(),
                verb: "break",
                inputs: Inputs::ErrorRatio {
                    metric: metric_name,
                    labels,
                    code_label: service.status_label.clone(),
                },
            }
        }
        Metric::Rps => RequestFigure {
            name: "Throughput".into(),
            promql: format!("sum(rate({histogram}_count{all}[{WINDOW}]))"),
            scale: 1.0,
            what: "requests per second".into(),
            verb: "break",
            inputs: Inputs::Rate {
                metric: metric_name,
                labels,
            },
        },
        Metric::Max => return Err("a histogram has no maximum; a high percentile stands for it".into()),
        Metric::Requests | Metric::Errors | Metric::RateLimited => {
            return Err("a count over a run has no meaning in production".into())
        }
        Metric::Telemetry(..) => return Err("telemetry is no request figure".into()),
    })
}

/// The seed's thresholds: responses under 500 ms (p95), at most 25 connections per
/// backend, CPU under 70 % and memory under 80 % of the limits, Redis under 80 % of
/// `maxmemory`, and Postgres reachable. `queries` are `[stack.prometheus]`'s.
pub fn seed_thresholds(
    service: &ServiceMetrics,
    queries: &[(String, String)],
    resources: Resources,
) -> Vec<AlertRule> {
    let histogram = &service.histogram;
    let mut rules = vec![AlertRule {
        name: "KarigarP95Latency".into(),
        figure: format!("histogram_quantile(0.95, sum by (le) (rate({histogram}_bucket[{WINDOW}])))"),
        op: ">",
        threshold: policy::RESPONSE_MS / 1000.0,
        slo: format!("seed: responses under {} ms (p95)", policy::RESPONSE_MS),
        summary: format!("p95 latency above the seed's {} ms", policy::RESPONSE_MS),
        for_: String::new(),
        verified: String::new(),
        inputs: Some(Inputs::Quantile {
            metric: histogram.clone(),
            labels: Vec::new(),
            quantile: 0.95,
        }),
    }];
    for series in [
        SeriesName::DbConnections,
        SeriesName::BackendCpu,
        SeriesName::BackendMemory,
        SeriesName::RedisMemory,
    ] {
        rules.extend(telemetry_rule(series, queries, resources));
    }
    rules.push(AlertRule {
        name: "KarigarPostgresDown".into(),
        figure: "min(pg_up)".into(),
        op: "<",
        threshold: 1.0,
        slo: "seed: database connection failures".into(),
        summary: "postgres_exporter cannot reach Postgres".into(),
        for_: String::new(),
        verified: String::new(),
        inputs: Some(Inputs::PostgresUp),
    });
    rules
}

/// The rule of a telemetry series the exporters give, at the seed's threshold.
fn telemetry_rule(
    series: SeriesName,
    queries: &[(String, String)],
    resources: Resources,
) -> Option<AlertRule> {
    let query = |figure: &str| {
        let own = queries.iter().find(|(name, _)| name == figure);
        let default = PROMETHEUS_DEFAULTS.iter().find(|(name, _)| *name == figure);
        match (own, default) {
            (Some((_, query)), _) => (query.clone(), false),
            (None, Some((_, query))) => ((*query).to_owned(), true),
            (None, None) => (String::new(), false),
        }
    };
    let ratio = |a: &str, b: &str| {
        let ((a, a_default), (b, b_default)) = (query(a), query(b));
        (format!("({a}) / ({b})"), a_default && b_default)
    };
    if let (
        SeriesName::BackendCpu | SeriesName::BackendMemory,
        Resources::ProcessExporter {
            cpu_limit,
            memory_limit,
        },
    ) = (series, resources)
    {
        return Some(process_rule(
            series == SeriesName::BackendCpu,
            cpu_limit,
            memory_limit as f64,
        ));
    }
    let (name, (figure, defaults), threshold, slo, summary, inputs) = match series {
        SeriesName::DbConnections => {
            let ((db, db_default), (replicas, replicas_default)) =
                (query("db_connections"), query("replicas"));
            (
                "KarigarDbConnectionsPerBackend",
                (
                    format!("({db}) / on() (({replicas}) or on() vector(1))"),
                    db_default && replicas_default,
                ),
                f64::from(policy::DB_CONNECTIONS_PER_INSTANCE),
                format!(
                    "seed: at most {} DB connections per backend",
                    policy::DB_CONNECTIONS_PER_INSTANCE
                ),
                "Postgres connections per backend above the seed's limit".to_owned(),
                Inputs::ConnectionsPerBackend,
            )
        }
        SeriesName::BackendCpu => (
            "KarigarBackendCpu",
            ratio("backend_cpu", "backend_cpu_limit"),
            policy::CPU_TRIGGER,
            format!("seed: CPU under {:.0}% of the limit", policy::CPU_TRIGGER * 100.0),
            "a backend's CPU above the seed's scale-out trigger".to_owned(),
            Inputs::ContainerShare {
                resource: Resource::Cpu,
            },
        ),
        SeriesName::BackendMemory => (
            "KarigarBackendMemory",
            ratio("backend_memory", "backend_memory_limit"),
            policy::MEMORY_TRIGGER,
            format!(
                "seed: memory under {:.0}% of the limit",
                policy::MEMORY_TRIGGER * 100.0
            ),
            "a backend's memory above the seed's scale-out trigger".to_owned(),
            Inputs::ContainerShare {
                resource: Resource::Memory,
            },
        ),
        SeriesName::RedisMemory => (
            "KarigarRedisMemory",
            ratio("redis_memory", "redis_maxmemory"),
            policy::MEMORY_TRIGGER,
            format!(
                "seed: Redis memory under {:.0}% of maxmemory",
                policy::MEMORY_TRIGGER * 100.0
            ),
            "Redis memory near maxmemory: evictions begin".to_owned(),
            Inputs::RedisMemory,
        ),
        _ => return None,
    };
    Some(AlertRule {
        name: name.into(),
        figure,
        op: ">",
        threshold,
        slo,
        summary,
        for_: String::new(),
        verified: String::new(),
        inputs: defaults.then_some(inputs),
    })
}

/// A backend's CPU or memory from process-exporter's `backend` group, over its limit.
fn process_rule(cpu: bool, cpu_limit: f64, memory_limit: f64) -> AlertRule {
    let (name, figure, threshold, what, resource, limit) = match cpu {
        true => (
            "KarigarBackendCpu",
            format!(
                "sum by (groupname) (rate(namedprocess_namegroup_cpu_seconds_total{{groupname=\"backend\"}}[1m])) / {}",
                number(cpu_limit)
            ),
            policy::CPU_TRIGGER,
            "CPU",
            Resource::Cpu,
            cpu_limit,
        ),
        false => (
            "KarigarBackendMemory",
            format!(
                "sum by (groupname) (namedprocess_namegroup_memory_bytes{{groupname=\"backend\",memtype=\"resident\"}}) / {}",
                number(memory_limit)
            ),
            policy::MEMORY_TRIGGER,
            "memory",
            Resource::Memory,
            memory_limit,
        ),
    };
    AlertRule {
        name: name.into(),
        figure,
        op: ">",
        threshold,
        slo: format!("seed: {what} under {:.0}% of the limit", threshold * 100.0),
        summary: format!("the backend's {what} above the seed's scale-out trigger"),
        for_: String::new(),
        verified: String::new(),
        inputs: Some(Inputs::ProcessShare { resource, limit }),
    }
}

/// The comparison under which `cmp` no longer holds.
fn breaking_op(cmp: Cmp) -> Option<&'static str> {
    match cmp {
        Cmp::Lt => Some(">="),
        Cmp::Le => Some(">"),
        Cmp::Gt => Some("<="),
        Cmp::Ge => Some("<"),
        Cmp::Eq => None,
    }
}

/// The labels that pick `step`'s requests: its method and its path (a pattern when the
/// path has placeholders, each matching one path segment), each with the value a test
/// gives it. None for the whole service.
fn step_labels(step: Option<&str>, plan: &Plan, service: &ServiceMetrics) -> Result<Labels, String> {
    let Some(name) = step else {
        return Ok(Vec::new());
    };
    let step = plan
        .steps
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("no step {name}"))?;
    let (method, path) = (&service.method_label, &service.path_label);
    let path_matcher = match step.path.as_literal() {
        Some(literal) => format!("{path}={literal:?}"),
        None => format!("{path}=~{:?}", step.path.pattern(regex::escape, "[^/]+")),
    };
    Ok(vec![
        Label {
            name: method.clone(),
            matcher: format!("{method}={:?}", step.method.as_str()),
            value: step.method.to_string(),
        },
        Label {
            name: path.clone(),
            matcher: path_matcher,
            value: step.path.pattern(str::to_owned, "x"),
        },
    ])
}

/// `{method="POST",path="/api/v1/auth/register"}`, and `extra` matchers after.
fn selector(labels: &Labels, extra: &str) -> String {
    let mut parts: Vec<&str> = labels.iter().map(|label| label.matcher.as_str()).collect();
    if !extra.is_empty() {
        parts.push(extra);
    }
    match parts.is_empty() {
        true => String::new(),
        false => format!("{{{}}}", parts.join(",")),
    }
}

/// `p95`, `p99.9`.
fn percentile_label(q: f64) -> String {
    format!("p{}", number(q * 100.0))
}

/// `log_in` -> `LogIn`, `p99.9` -> `P999`: a part of an alert's name.
pub fn camel(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_plainly() {
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(25.0), "25");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.95), "0.95");
        assert_eq!(percentile_label(0.999), "p99.9");
        assert_eq!(camel("p99.9"), "P999");
        assert_eq!(camel("log_in"), "LogIn");
    }
}
