//! A scenario's SLOs and the seed's thresholds as Prometheus alerting rules: what a run
//! proved under load, watched in production by the same numbers. Each rule compares
//! one figure, computed by PromQL from the service's own latency histogram or from the
//! usual exporters (postgres_exporter, redis_exporter, cAdvisor, kube-state-metrics,
//! the queries `--prometheus` reads, a scenario's `[stack.prometheus]` included), with
//! its threshold, and names the SLO it came from and the run that verified it.
//!
//! - [`figures`]: each SLO or threshold as a figure's PromQL and its comparison
//! - [`fixtures`]: `promtool test rules` cases: each alert fires just past its
//!   threshold and stays silent just below it
//! - [`files`]: the rules file and its tests as YAML

pub mod figures;
pub mod files;
pub mod fixtures;

use crate::scenario::Plan;

/// How the service's own metrics are named, for the latency and error rules.
#[derive(Clone, Debug)]
pub struct ServiceMetrics {
    /// The request duration histogram, in seconds (`_bucket`, `_sum`, `_count`).
    pub histogram: String,
    /// Its labels for the status code, the route's path and the method.
    pub status_label: String,
    pub path_label: String,
    pub method_label: String,
}

impl Default for ServiceMetrics {
    /// The names of the Prometheus client libraries' conventions
    /// (`http_request_duration_seconds` with `code`, `path`, `method`).
    fn default() -> Self {
        Self {
            histogram: "http_request_duration_seconds".into(),
            status_label: "code".into(),
            path_label: "path".into(),
            method_label: "method".into(),
        }
    }
}

/// Where a backend's CPU and memory come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resources {
    /// cAdvisor's container figures over kube-state-metrics' limits: the queries
    /// `--prometheus` reads, a scenario's `[stack.prometheus]` included.
    Cadvisor,
    /// process-exporter's `backend` group over these limits (cores, bytes).
    ProcessExporter { cpu_limit: f64, memory_limit: u64 },
}

/// The run that verified the SLOs, as each rule names it.
#[derive(Clone, Debug, Default)]
pub struct Verification {
    pub run_id: String,
    /// Each SLO's text and what the run observed, as the summary gives them.
    pub observed: Vec<(String, String)>,
}

/// What becomes a rules file: the scenario's name, its rules, and what was left out.
pub struct RuleSet {
    pub scenario: String,
    pub rules: Vec<figures::AlertRule>,
    /// SLOs no rule stands for, with why (a run's count has no production meaning).
    pub skipped: Vec<(String, String)>,
}

/// The rules of `plan`'s SLOs and of the seed's thresholds, each `for` long before it
/// fires (as Prometheus writes it, `5m`); `resources` says where CPU and memory come from.
pub fn rule_set(
    plan: &Plan,
    service: &ServiceMetrics,
    queries: &[(String, String)],
    resources: Resources,
    verification: Option<&Verification>,
    for_: &str,
) -> RuleSet {
    let mut rules = Vec::new();
    let mut skipped = Vec::new();
    for slo in &plan.slos {
        match figures::of_slo(slo, plan, service, queries, resources) {
            Ok(rule) => rules.push(rule),
            Err(why) => skipped.push((slo.text.clone(), why)),
        }
    }
    rules.extend(figures::seed_thresholds(service, queries, resources));
    for rule in &mut rules {
        rule.for_ = for_.to_owned();
        rule.verified = verified_text(&rule.slo, verification);
    }
    dedupe_names(&mut rules);
    RuleSet {
        scenario: plan.name.clone(),
        rules,
        skipped,
    }
}

/// What a rule says of its verification: the run and what it observed of that SLO.
fn verified_text(slo: &str, verification: Option<&Verification>) -> String {
    let Some(verification) = verification else {
        return "not verified by a run (give --verified-by SUMMARY.json)".into();
    };
    match verification.observed.iter().find(|(text, _)| text == slo) {
        Some((_, observed)) => format!("run {} observed {observed}", verification.run_id),
        None => format!(
            "run {} (this threshold was not one of its SLOs)",
            verification.run_id
        ),
    }
}

/// Alert names made unique (two SLOs on one figure): `Name`, `Name2`, ...
fn dedupe_names(rules: &mut [figures::AlertRule]) {
    let mut seen: Vec<String> = Vec::new();
    for rule in rules.iter_mut() {
        let base = rule.name.clone();
        let mut n = 1;
        while seen.contains(&rule.name) {
            n += 1;
            rule.name = format!("{base}{n}");
        }
        seen.push(rule.name.clone());
    }
}
