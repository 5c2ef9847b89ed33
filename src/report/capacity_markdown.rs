//! `capacity.md`: the search, its steps, findings and sizing as a Markdown page.

use std::fmt::Write;

use super::capacity_text::{findings_lines, meta, result_text, sizing_lines};
use super::DeploymentTable;
use crate::capacity::CapacityReport;

/// The whole report as Markdown.
pub fn render(report: &CapacityReport, deployment: Option<&DeploymentTable>) -> String {
    let mut out = format!("# Capacity: {}\n\n**{}**\n\n", report.scenario, report.verdict);
    let _ = writeln!(out, "{}\n", meta(report));
    out.push_str("## Steps\n\n");
    out.push_str("| offered /s | achieved /s | req/s | p50 ms | p95 ms | p99 ms | errors | unserved | concurrency | backend CPU cores | DB conns | Redis MiB | result |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for step in &report.steps {
        let _ = writeln!(
            out,
            "| {:.1} | {:.1} | {:.1} | {:.0} | {:.0} | {:.0} | {:.2}% | {} | {:.2} | {} | {} | {} | {} |",
            step.offered,
            step.achieved,
            step.requests_per_s,
            step.p50_ms,
            step.p95_ms,
            step.p99_ms,
            step.error_rate * 100.0,
            step.unserved,
            step.concurrency,
            step.backend_cpu_cores.map_or("-".into(), |c| format!("{c:.2}")),
            step.db_connections_max.map_or("-".into(), |c| c.to_string()),
            step.redis_used_bytes
                .map_or("-".into(), |b| format!("{:.1}", b as f64 / 1048576.0)),
            result_text(step)
        );
    }
    out.push_str("\n## Findings\n\n");
    for line in findings_lines(&report.findings) {
        let _ = writeln!(out, "- {line}");
    }
    if let Some(sizing) = &report.findings.sizing {
        out.push_str("\n## Sizing\n\n");
        for line in sizing_lines(sizing) {
            let _ = writeln!(out, "- {line}");
        }
    }
    if let Some(deployment) = deployment {
        out.push_str("\n## Deployment\n\nWhat `deploy k8s` and `deploy compose` write, and the measurements it comes from.\n\n");
        out.push_str("| setting | value | from |\n|---|---|---|\n");
        for [setting, value, from] in &deployment.rows {
            let _ = writeln!(out, "| {setting} | `{value}` | {from} |");
        }
        let _ = writeln!(out, "\nDatabase budget: {}.", deployment.db_budget);
        let _ = writeln!(out, "Compose: `{}`.", deployment.compose);
    }
    out.push_str("\n## Checks each step had to pass\n\n");
    for check in &report.settings.checks {
        let _ = writeln!(out, "- `{check}`");
    }
    out.push_str(
        "- achieved throughput at least 95% of the offered rate, and no more than 1% of arrivals unserved\n",
    );
    out
}
