//! The capacity report's sentences, shared by the console, `capacity.md` and
//! `capacity.html`: one step's result, the verdict, the findings and the sizing.

use std::fmt::Write;

use crate::capacity::CapacityReport;
use crate::capacity::{Findings, Sizing, StepResult};
use crate::policy;

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
pub fn capacity_console(report: &CapacityReport) -> String {
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

pub(super) fn meta(report: &CapacityReport) -> String {
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

pub(super) fn result_text(step: &StepResult) -> String {
    match (step.interrupted, step.sustainable) {
        (true, _) => "interrupted".into(),
        (false, true) => "holds".into(),
        (false, false) => format!("does not hold: {}", step.reasons.join("; ")),
    }
}

/// The knee, the USL fit, the CPU model and the cross-check, one sentence each.
pub(super) fn findings_lines(findings: &Findings) -> Vec<String> {
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

pub(super) fn sizing_lines(sizing: &Sizing) -> Vec<String> {
    let trigger = policy::percent(policy::CPU_TRIGGER);
    let (min, max, pool) = (
        policy::HPA_MIN_REPLICAS,
        policy::HPA_MAX_REPLICAS,
        policy::DB_CONNECTIONS_PER_INSTANCE,
    );
    let mut lines = vec![format!(
        "target {:.1}/s: one instance planned at {:.1}/s ({}) -> {} replica(s) needed, deploy {} (HPA min {min}, max {max})",
        sizing.target_rate,
        sizing.per_instance_rate,
        match sizing.rate_at_cpu_trigger {
            Some(cpu) if cpu < sizing.per_instance_rate + 1e-9 => {
                format!("where CPU reaches the {trigger:.0}% trigger, below the SLO rate")
            }
            Some(cpu) => format!("the SLO rate; CPU would reach the {trigger:.0}% trigger only at {cpu:.1}/s"),
            None => "the SLO rate; CPU was not measured".to_owned(),
        },
        sizing.replicas_needed,
        sizing.replicas
    )];
    let db = &sizing.db;
    lines.push(format!(
        "Postgres: {} replicas x {pool} pool = {} connections of max_connections {}; {} at the peak measured per instance; {} at HPA max",
        sizing.replicas,
        db.planned_pool_connections,
        db.max_connections,
        db.projected_connections,
        db.hpa_max_pool_connections
    ));
    if let Some(redis) = &sizing.redis {
        lines.push(format!(
            "Redis: {:.0} bytes per iteration -> {:.1} MiB per hour at the target; maxmemory {} MiB ({}) {}",
            redis.bytes_per_iteration,
            redis.bytes_per_hour / 1048576.0,
            redis.maxmemory_bytes / 1048576,
            policy::REDIS_MAXMEMORY_POLICY,
            redis
                .hours_to_eviction
                .map_or("is never reached".into(), |h| format!(
                    "is reached after {h:.1} h, then keys are evicted"
                ))
        ));
    }
    lines.extend(sizing.warnings.iter().map(|w| format!("warning: {w}")));
    lines
}
