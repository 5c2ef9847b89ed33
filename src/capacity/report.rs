//! `capacity.json`, `capacity.md` and `capacity.html` (self-contained, charts inline),
//! and the lines printed while the search runs.

use std::fmt::Write;
use std::path::Path;

use anyhow::Context as _;

use super::analysis::Findings;
use super::sizing::{Sizing, CPU_TRIGGER};
use super::step::StepResult;
use super::usl::UslFit;
use super::{CapacityReport, P95_LIMIT_MS};
use crate::report::svg::{escape, Chart, Line, Threshold};

/// Writes the three files into `dir` (created if needed).
pub fn write(report: &CapacityReport, dir: &Path) -> crate::error::Result<()> {
    let written = (|| -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let files = [
            ("capacity.json", serde_json::to_string_pretty(report)? + "\n"),
            ("capacity.md", markdown(report)),
            ("capacity.html", html(report)),
        ];
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    })();
    written.map_err(crate::error::Error::Internal)
}

/// One step, as printed when it ends.
pub fn step_line(step: &StepResult) -> String {
    format!(
        "  {:.1}/s offered -> {:.1}/s achieved, p95 {:.0} ms, p99 {:.0} ms, backend CPU {}: {}",
        step.offered,
        step.achieved,
        step.p95_ms,
        step.p99_ms,
        step.backend_cpu_cores
            .map_or("-".into(), |c| format!("{c:.2} cores")),
        result_text(step)
    )
}

/// What the console shows at the end: the verdict and the findings.
pub fn console(report: &CapacityReport) -> String {
    let mut out = format!("\n{}\n", report.verdict);
    for line in findings_lines(&report.findings) {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(sizing) = &report.findings.sizing {
        for line in sizing_lines(sizing) {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

fn markdown(report: &CapacityReport) -> String {
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
    out.push_str("\n## Checks each step had to pass\n\n");
    for check in &report.settings.checks {
        let _ = writeln!(out, "- `{check}`");
    }
    out.push_str(
        "- achieved throughput at least 95% of the offered rate, and no more than 1% of arrivals unserved\n",
    );
    out
}

fn meta(report: &CapacityReport) -> String {
    let s = &report.settings;
    format!(
        "Run `{}` against {} ({} stack), started {}. Steps of {:.0} s measured after {:.0} s of warm-up; \
         rates from {:.1}/s, x{} until a step fails, then bisected to {:.0}%. {} step(s) in {:.0} s{}.",
        report.run_id,
        report.target.backend,
        report.target.stack,
        report.started_at,
        s.step_s,
        s.warmup_s,
        s.search.start,
        s.search.growth,
        s.search.precision * 100.0,
        report.steps.len(),
        report.elapsed_s,
        match (report.interrupted, report.complete) {
            (true, _) => "; interrupted, partial",
            (false, false) => "; stopped by --max-steps before the asked precision",
            (false, true) => "",
        }
    )
}

fn result_text(step: &StepResult) -> String {
    match (step.interrupted, step.sustainable) {
        (true, _) => "interrupted".into(),
        (false, true) => "holds".into(),
        (false, false) => format!("does not hold: {}", step.reasons.join("; ")),
    }
}

/// The knee, the USL fit, the CPU model and the cross-check, one sentence each.
fn findings_lines(findings: &Findings) -> Vec<String> {
    let mut lines = Vec::new();
    match (findings.sustainable_rate, findings.first_failing_rate) {
        (Some(pass), Some(fail)) => {
            lines.push(format!("sustainable rate {pass:.1}/s; {fail:.1}/s did not hold"))
        }
        (Some(pass), None) => lines.push(format!("sustainable rate at least {pass:.1}/s (no step failed)")),
        _ => {}
    }
    if let Some(knee) = &findings.knee {
        lines.push(format!(
            "knee (Kneedle, p95 against offered rate) at {:.1}/s offered: {:.1}/s achieved, p95 {:.0} ms",
            knee.offered, knee.achieved, knee.p95_ms
        ));
    }
    if let Some(usl) = &findings.usl {
        let peak = match (usl.peak_concurrency, usl.peak_throughput) {
            (Some(n), Some(x)) => format!("peak {x:.1}/s at concurrency {n:.1}"),
            (None, Some(x)) => format!("no retrograde region; throughput approaches {x:.1}/s"),
            _ => "linear scaling over the measured range".into(),
        };
        lines.push(format!(
            "USL fit over {} steps: lambda {:.2}/s, sigma {:.4}, kappa {:.5}, R² {:.3}; {peak}",
            usl.points, usl.lambda, usl.sigma, usl.kappa, usl.r_squared
        ));
    }
    if let Some(cpu) = &findings.cpu {
        lines.push(format!(
            "backend CPU {:.1} ms per iteration (+{:.2} cores idle); the harness {:.1} ms per iteration",
            cpu.cpu_s_per_iteration * 1000.0,
            cpu.idle_cores,
            cpu.generator_cpu_s_per_iteration * 1000.0
        ));
    }
    if let Some(check) = &findings.cross_check {
        lines.push(format!(
            "cross-check: {} = {:.1} cores / {:.1} ms = {:.1}/s at 100% CPU; the sustainable rate is {:+.0}% from it, \
             the highest throughput measured ({:.1}/s) {:+.0}%",
            check.method,
            check.cores,
            check.cpu_s_per_iteration * 1000.0,
            check.estimate,
            check.difference_percent,
            check.peak_achieved,
            check.peak_difference_percent
        ));
    }
    lines
}

fn sizing_lines(sizing: &Sizing) -> Vec<String> {
    let mut lines = vec![format!(
        "target {:.1}/s: one instance planned at {:.1}/s ({}) -> {} replica(s) needed, deploy {} (HPA min 2, max 10)",
        sizing.target_rate,
        sizing.per_instance_rate,
        match sizing.rate_at_cpu_trigger {
            Some(cpu) if cpu < sizing.per_instance_rate + 1e-9 => "where CPU reaches the 70% trigger, below the SLO rate".into(),
            Some(cpu) => format!("the SLO rate; CPU would reach the 70% trigger only at {cpu:.1}/s"),
            None => "the SLO rate; CPU was not measured".to_owned(),
        },
        sizing.replicas_needed,
        sizing.replicas
    )];
    let db = &sizing.db;
    lines.push(format!(
        "Postgres: {} replicas x 25 pool = {} connections of max_connections {}; {} at the peak measured per instance; 250 at HPA max",
        sizing.replicas, db.planned_pool_connections, db.max_connections, db.projected_connections
    ));
    if let Some(redis) = &sizing.redis {
        lines.push(format!(
            "Redis: {:.0} bytes per iteration -> {:.1} MiB per hour at the target; maxmemory {} MiB (allkeys-lru) {}",
            redis.bytes_per_iteration,
            redis.bytes_per_hour / 1048576.0,
            redis.maxmemory_bytes / 1048576,
            redis
                .hours_to_eviction
                .map_or("is never reached".into(), |h| format!("is reached after {h:.1} h, then keys are evicted"))
        ));
    }
    lines.extend(sizing.warnings.iter().map(|w| format!("warning: {w}")));
    lines
}

fn html(report: &CapacityReport) -> String {
    let mut body = format!(
        "<h1>Capacity: {}</h1><p class=\"verdict\"><strong>{}</strong></p><p class=\"meta\">{}</p>",
        escape(&report.scenario),
        escape(&report.verdict),
        escape(&meta(report))
    );
    body.push_str("<h2>Load against offered rate</h2><div class=\"grid\">");
    for chart in charts(report) {
        body.push_str(&chart);
    }
    body.push_str("</div><h2>Findings</h2><ul>");
    let mut lines = findings_lines(&report.findings);
    if let Some(sizing) = &report.findings.sizing {
        lines.extend(sizing_lines(sizing));
    }
    for line in lines {
        let _ = write!(body, "<li>{}</li>", escape(&line));
    }
    body.push_str("</ul><h2>Steps</h2>");
    body.push_str(&steps_table(report));
    crate::report::html::page(&format!("capacity {}", report.scenario), &body)
}

fn steps_table(report: &CapacityReport) -> String {
    let mut out = String::from(
        "<table><tr><th>offered /s</th><th>achieved /s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th>\
         <th>errors</th><th>concurrency</th><th>CPU cores</th><th>DB conns</th><th>result</th></tr>",
    );
    for step in &report.steps {
        let class = if step.sustainable { "pass" } else { "fail" };
        let _ = write!(
            out,
            "<tr><td>{:.1}</td><td>{:.1}</td><td>{:.0}</td><td>{:.0}</td><td>{:.0}</td><td>{:.2}%</td>\
             <td>{:.2}</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td></tr>",
            step.offered,
            step.achieved,
            step.p50_ms,
            step.p95_ms,
            step.p99_ms,
            step.error_rate * 100.0,
            step.concurrency,
            step.backend_cpu_cores.map_or("-".into(), |c| format!("{c:.2}")),
            step.db_connections_max.map_or("-".into(), |c| c.to_string()),
            escape(&result_text(step))
        );
    }
    out.push_str("</table>");
    out
}

/// Latencies past 4x the SLO drawn at 4x: an overloaded step's seconds would flatten
/// everything that held into the axis.
fn capped(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    points
        .into_iter()
        .map(|(x, y)| (x, y.min(4.0 * P95_LIMIT_MS)))
        .collect()
}

/// Throughput, latency and CPU against the offered rate; the USL curve over the
/// measured (concurrency, throughput) points.
fn charts(report: &CapacityReport) -> Vec<String> {
    let mut steps: Vec<&StepResult> = report.steps.iter().filter(|s| !s.interrupted).collect();
    steps.sort_by(|a, b| a.offered.total_cmp(&b.offered));
    let mut charts = vec![
        throughput_chart(&steps),
        latency_chart(&steps),
        cpu_chart(&steps, report.settings.limit_cores),
    ];
    charts.extend(report.findings.usl.as_ref().map(|usl| usl_chart(usl, &steps)));
    charts
}

/// `(offered, value)` of the steps that have the value.
fn by_offered(steps: &[&StepResult], pick: fn(&StepResult) -> Option<f64>) -> Vec<(f64, f64)> {
    steps.iter().filter_map(|s| Some((s.offered, pick(s)?))).collect()
}

fn line<'a>(label: &'a str, color: &'a str, points: Vec<(f64, f64)>) -> Line<'a> {
    Line {
        label,
        color,
        points,
        dots: false,
    }
}

fn throughput_chart(steps: &[&StepResult]) -> String {
    Chart {
        title: "throughput against offered load",
        unit: "iterations/s",
        x_unit: "/s",
        lines: vec![
            line("achieved", "#1f77b4", by_offered(steps, |s| Some(s.achieved))),
            line("offered", "#999999", by_offered(steps, |s| Some(s.offered))),
        ],
        thresholds: Vec::new(),
        y_floor_max: 0.0,
    }
    .render()
}

fn latency_chart(steps: &[&StepResult]) -> String {
    Chart {
        title: "latency against offered load",
        unit: "ms, drawn up to 4x the SLO",
        x_unit: "/s",
        lines: vec![
            line("p50", "#2ca02c", capped(by_offered(steps, |s| Some(s.p50_ms)))),
            line("p95", "#1f77b4", capped(by_offered(steps, |s| Some(s.p95_ms)))),
            line("p99", "#d62728", capped(by_offered(steps, |s| Some(s.p99_ms)))),
        ],
        thresholds: vec![Threshold {
            label: "SLO p95 500 ms",
            value: P95_LIMIT_MS,
        }],
        y_floor_max: 0.0,
    }
    .render()
}

fn cpu_chart(steps: &[&StepResult], limit_cores: f64) -> String {
    Chart {
        title: "backend CPU against offered load",
        unit: "cores",
        x_unit: "/s",
        lines: vec![line(
            "backend",
            "#9467bd",
            by_offered(steps, |s| s.backend_cpu_cores),
        )],
        thresholds: vec![Threshold {
            label: "70% trigger",
            value: CPU_TRIGGER * limit_cores,
        }],
        y_floor_max: limit_cores,
    }
    .render()
}

/// The fitted curve from 0 to a fifth past the highest measured concurrency, with the
/// measured points as dots.
fn usl_chart(usl: &UslFit, steps: &[&StepResult]) -> String {
    let measured: Vec<(f64, f64)> = steps.iter().map(|s| (s.concurrency, s.achieved)).collect();
    let top = measured.iter().map(|p| p.0).fold(1.0, f64::max) * 1.2;
    let curve = (0..=40)
        .map(|i| top * f64::from(i) / 40.0)
        .map(|n| (n, usl.throughput(n)))
        .collect();
    Chart {
        title: "USL: throughput against concurrency",
        unit: "iterations/s",
        x_unit: "",
        lines: vec![
            line("USL fit", "#ff7f0e", curve),
            Line {
                dots: true,
                ..line("measured", "#1f77b4", measured)
            },
        ],
        thresholds: Vec::new(),
        y_floor_max: 0.0,
    }
    .render()
}
