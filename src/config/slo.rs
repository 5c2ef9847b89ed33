//! `slo rules`: the scenario's plan, how the service names its metrics, the run that
//! verified the SLOs, and where the rules and their tests go.

use std::path::{Path, PathBuf};

use crate::alert_rules::{Resources, ServiceMetrics, Verification};
use crate::cli::{ResourcesChoice, SloRulesArgs};
use crate::error::{Error, Result};
use crate::scenario::{LoadOverrides, Plan, Source};

pub struct SloRulesConfig {
    pub plan: Plan,
    pub service: ServiceMetrics,
    /// `[stack.prometheus]`: the scenario's PromQL for the exporters' figures.
    pub queries: Vec<(String, String)>,
    pub resources: Resources,
    pub verification: Option<Verification>,
    /// How long a threshold is broken before its alert fires, as Prometheus writes it.
    pub for_: String,
    pub out: PathBuf,
    /// Beside `out`: `rules-signup.yml` -> `rules-signup.test.yml`.
    pub tests_out: PathBuf,
}

impl SloRulesConfig {
    pub fn resolve(args: &SloRulesArgs) -> Result<Self> {
        let plan = Plan::build(&Source::locate(&args.scenario)?, &LoadOverrides::default(), &[])?;
        if !is_prometheus_duration(&args.for_) {
            return Err(Error::config(format!(
                "--for {:?}: a Prometheus duration such as 5m, 30s or 1h30m",
                args.for_
            )));
        }
        for (flag, name) in [
            ("--latency-metric", &args.latency_metric),
            ("--status-label", &args.status_label),
            ("--path-label", &args.path_label),
            ("--method-label", &args.method_label),
        ] {
            if !is_metric_name(name) {
                return Err(Error::config(format!(
                    "{flag} {name:?}: a Prometheus name (letters, digits, _; not starting with a digit)"
                )));
            }
        }
        let verification = match &args.verified_by {
            Some(path) => Some(verification(path, &plan.name)?),
            None => None,
        };
        let out = super::output_path(args.out.as_deref(), &format!("rules-{}.yml", plan.name));
        let tests_out = tests_beside(&out);
        Ok(Self {
            queries: plan.stack.prometheus_queries.clone(),
            plan,
            service: ServiceMetrics {
                histogram: args.latency_metric.clone(),
                status_label: args.status_label.clone(),
                path_label: args.path_label.clone(),
                method_label: args.method_label.clone(),
            },
            resources: match args.resources {
                ResourcesChoice::Cadvisor => Resources::Cadvisor,
                ResourcesChoice::ProcessExporter => Resources::ProcessExporter {
                    cpu_limit: args.cpu_limit,
                    memory_limit: args.memory_limit,
                },
            },
            verification,
            for_: args.for_.clone(),
            out,
            tests_out,
        })
    }
}

/// The run a summary.json describes and what it observed of each SLO; it must be a
/// run of `scenario`.
fn verification(path: &Path, scenario: &str) -> Result<Verification> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::config(format!("--verified-by {}: {e}", path.display())))?;
    let summary: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::config(format!(
            "--verified-by {}: not a summary.json: {e}",
            path.display()
        ))
    })?;
    let field = |name: &str| summary[name].as_str().map(str::to_owned);
    let (Some(run_id), Some(ran)) = (field("run_id"), field("scenario")) else {
        return Err(Error::config(format!(
            "--verified-by {}: not a run's summary.json (no run_id or scenario)",
            path.display()
        )));
    };
    if ran != scenario {
        return Err(Error::config(format!(
            "--verified-by {}: a run of scenario {ran}, not {scenario}",
            path.display()
        )));
    }
    let observed = summary["slos"]
        .as_array()
        .map(|slos| {
            slos.iter()
                .filter_map(|slo| {
                    let expr = slo["expr"].as_str()?.to_owned();
                    let seen = match slo["observed"].as_f64() {
                        Some(value) => format!("{value:.2}{}", slo["unit"].as_str().unwrap_or("")),
                        None => "nothing to measure".into(),
                    };
                    let verdict = if slo["pass"] == true { "held" } else { "broken" };
                    Some((expr, format!("{seen} ({verdict})")))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Verification { run_id, observed })
}

/// `rules.yml` -> `rules.test.yml`.
fn tests_beside(out: &Path) -> PathBuf {
    let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("rules");
    out.with_file_name(format!("{stem}.test.yml"))
}

/// `5m`, `1h30m`, `90s`: units ms, s, m, h, d, w, y, each after a number.
fn is_prometheus_duration(text: &str) -> bool {
    let mut rest = text;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = ["ms", "s", "m", "h", "d", "w", "y"]
            .into_iter()
            .find(|u| rest.starts_with(u))
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_names_are_checked_as_prometheus_reads_them() {
        for good in ["5m", "30s", "1h30m", "250ms"] {
            assert!(is_prometheus_duration(good), "{good}");
        }
        for bad in ["", "5", "m", "5 m", "5min"] {
            assert!(!is_prometheus_duration(bad), "{bad}");
        }
        assert!(is_metric_name("http_request_duration_seconds"));
        assert!(!is_metric_name("9lives") && !is_metric_name("a-b"));
        assert_eq!(
            tests_beside(Path::new("out/rules.yml")),
            Path::new("out/rules.test.yml")
        );
    }
}
