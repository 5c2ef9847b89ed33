//! `slo rules`: a scenario's SLOs as Prometheus alerting rules.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::shared::{parse_bytes, parse_cores};

/// `karigar-perf slo ...`: the SLOs beyond the run.
#[derive(Debug, Subcommand)]
pub enum SloCommand {
    /// Write Prometheus alerting rules for a scenario's SLOs and the seed's thresholds
    /// (p95 500 ms, 25 DB connections per backend, CPU 70% and memory 80% of the
    /// limits, Redis memory, Postgres reachable), and `promtool test rules` cases
    /// beside them that fire each alert just past its threshold and not just below.
    #[command(
        after_help = "Exit codes: 0 the rules and their tests were written, 1 internal error, 2 a bad scenario, summary or flag"
    )]
    Rules(SloRulesArgs),
}

#[derive(Debug, Args)]
pub struct SloRulesArgs {
    /// A scenario name (./scenarios/NAME.toml, or built in) or a path to a TOML file.
    pub scenario: String,
    /// The rules file (default: reports/rules-SCENARIO.yml); its tests go beside it
    /// as .test.yml.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The summary.json of the run that verified the SLOs: each rule names the run
    /// and what it observed.
    #[arg(long, value_name = "SUMMARY")]
    pub verified_by: Option<PathBuf>,
    /// The service's request duration histogram, in seconds (its _bucket, _sum and
    /// _count series).
    #[arg(long, default_value = "http_request_duration_seconds", value_name = "NAME")]
    pub latency_metric: String,
    /// The histogram's label holding the status code.
    #[arg(long, default_value = "code", value_name = "LABEL")]
    pub status_label: String,
    /// The histogram's label holding the request path (a step's SLO matches its path).
    #[arg(long, default_value = "path", value_name = "LABEL")]
    pub path_label: String,
    /// The histogram's label holding the method.
    #[arg(long, default_value = "method", value_name = "LABEL")]
    pub method_label: String,
    /// Where a backend's CPU and memory come from: cAdvisor with kube-state-metrics'
    /// limits (the scenario's [stack.prometheus] queries, else `--prometheus`'s
    /// defaults), or process-exporter's `backend` group against --cpu-limit and
    /// --memory-limit.
    #[arg(long, value_enum, default_value = "cadvisor")]
    pub resources: ResourcesChoice,
    /// With process-exporter: one backend's CPU limit in cores (default: the seed's
    /// production budget, 2).
    #[arg(long, value_parser = parse_cores, default_value = "2")]
    pub cpu_limit: f64,
    /// With process-exporter: one backend's memory limit, e.g. 2GiB (the seed's
    /// production budget).
    #[arg(long, value_parser = parse_bytes, default_value = "2GiB")]
    pub memory_limit: u64,
    /// How long a threshold must be broken before its alert fires.
    #[arg(long = "for", default_value = "5m", value_name = "DURATION")]
    pub for_: String,
}

/// `--resources`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ResourcesChoice {
    Cadvisor,
    ProcessExporter,
}
