//! The infrastructure block as text lines, shared by the console and Markdown.

use crate::autoscale::Infrastructure;
use crate::faults::FaultReport;

/// What a report says of a figure no probe reached.
pub const NOT_MEASURED: &str = "not measured";

/// `(label, value)` lines describing what the samplers saw; a figure nobody measured
/// says so.
pub fn lines(infra: &Infrastructure, faults: &[FaultReport]) -> Vec<(&'static str, String)> {
    let mut lines = vec![
        ("db connections", db_connections(infra)),
        ("backend cpu", backend_cpu(infra)),
        ("backend memory", backend_memory(infra)),
        ("redis", redis(infra)),
        (
            "health",
            match infra.health_p99_ms {
                None => NOT_MEASURED.into(),
                Some(_) => format!(
                    "p99 {} ms (/health), {} ms (/health/detailed)",
                    number(infra.health_p99_ms, 1),
                    number(infra.health_detailed_p99_ms, 1)
                ),
            },
        ),
        ("in flight", format!("max {}", number(infra.in_flight_max, 0))),
    ];
    if infra.instances.len() > 1 {
        lines.push(("instances", instances(infra)));
    }
    lines.extend(infra.departures.iter().map(|d| ("gone", departure(d))));
    lines.push(("triggers", triggers(infra)));
    lines.push(("hpa", hpa(infra)));
    if let Some(observed) = observed_replicas(infra) {
        lines.push(("replicas", observed));
    }
    lines.extend(faults.iter().map(|f| ("fault", fault(f))));
    lines
}

/// `backend (pid 4242) exited at 3 s, measured for 2 s before`.
fn departure(departure: &crate::telemetry::Departure) -> String {
    use crate::telemetry::DepartureEvent;
    let event = match departure.event {
        DepartureEvent::Exited => "exited",
        DepartureEvent::Restarted => "restarted",
    };
    let after = match departure.event {
        DepartureEvent::Exited => "its figures stop there",
        DepartureEvent::Restarted => "a new process from there",
    };
    format!(
        "{} ({}) {event} at {} s, measured for {} s before; {after}",
        departure.name, departure.what, departure.at_s, departure.measured_s
    )
}

fn db_connections(infra: &Infrastructure) -> String {
    let Some(max) = infra.db_connections_max else {
        return format!(
            "{NOT_MEASURED} (seed limit {} per instance; give --postgres-url or --prometheus)",
            crate::policy::DB_CONNECTIONS_PER_INSTANCE
        );
    };
    let scope = match infra.db_connections_all_instances {
        true => "over all instances together",
        false => "per instance",
    };
    format!(
        "max {max:.0} {scope} (seed limit {}; server max_connections {})",
        crate::policy::DB_CONNECTIONS_PER_INSTANCE,
        infra
            .max_connections
            .map_or(NOT_MEASURED.into(), |m| m.to_string())
    )
}

fn backend_cpu(infra: &Infrastructure) -> String {
    match (infra.backend_cpu_p95_percent, infra.backend_cpu_max_percent) {
        (Some(p95), Some(max)) => format!(
            "p95 {p95:.0}%, max {max:.0}% of {} cores{}",
            infra.cpu_limit_cores,
            match infra.departures.is_empty() {
                true => "",
                false => " while measured (see gone)",
            }
        ),
        _ if !infra.departures.is_empty() => format!("{NOT_MEASURED}: the instance went away (see gone)"),
        _ => format!("{NOT_MEASURED} (give --backend-pid, --backend-container or --prometheus)"),
    }
}

fn backend_memory(infra: &Infrastructure) -> String {
    match infra.backend_memory_max_percent {
        Some(max) => format!("max {max:.1}% of {}", mib(Some(infra.memory_limit_bytes as f64))),
        None => NOT_MEASURED.into(),
    }
}

fn redis(infra: &Infrastructure) -> String {
    if infra.redis_memory_max_bytes.is_none() {
        return format!("{NOT_MEASURED} (give --redis-url or --prometheus)");
    }
    format!(
        "memory max {} of {}, evicted {}, hit ratio {}, AOF {}",
        mib(infra.redis_memory_max_bytes),
        match infra.redis_maxmemory_bytes {
            Some(0) => "no maxmemory".to_owned(),
            other => mib(other.map(|b| b as f64)),
        },
        number(infra.redis_evicted_keys, 0),
        infra
            .redis_hit_ratio
            .map_or(NOT_MEASURED.into(), |r| format!("{:.0}%", r * 100.0)),
        infra
            .redis_aof_ok
            .map_or(NOT_MEASURED, |ok| if ok { "ok" } else { "NOT ok" })
    )
}

/// `kill backend-2 at 15.0s, back at 25.0s: 12 errors over 2s; p95 under 500 ms again after 4.0s`
pub fn fault(report: &FaultReport) -> String {
    let action = report.action.name();
    if let Some(error) = &report.error {
        return format!(
            "{action} {} at {:.1}s failed: {error}",
            report.target, report.at_s
        );
    }
    if let Some(deploy) = &report.deploy {
        return deployed(report, deploy);
    }
    let noticed = report.detection.as_ref().map_or(String::new(), |d| {
        format!(
            "; the balancer noticed after {:.2}s (tried it {} more time(s) while down)",
            d.detected_after_s, d.tried_after
        )
    });
    let back = report
        .restored_s
        .map_or(", not brought back".into(), |s| format!(", back at {s:.1}s"));
    let burst = match report.burst_errors {
        0 => "no errors".to_string(),
        n => format!("{n} errors over {}s", report.burst_seconds),
    };
    let recovery = report.recovery_s.map_or(
        format!("p95 never back under {:.0} ms", report.threshold_ms),
        |s| format!("p95 under {:.0} ms again after {s:.1}s", report.threshold_ms),
    );
    format!(
        "{action} {} at {:.1}s{back}: {burst}; {recovery}{noticed}",
        report.target, report.at_s
    )
}

/// `rolling-restart backend at 5.0s, took 12.3s: 0 of 812 requests failed, longest
/// silence 85 ms; p95 412 ms before, 455 ms during, 401 ms after`
fn deployed(report: &FaultReport, deploy: &crate::faults::DeployFigures) -> String {
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0} ms"));
    let gap = deploy
        .longest_gap_ms
        .map_or(String::new(), |g| format!(", longest silence {g:.0} ms"));
    format!(
        "{} {} at {:.1}s, took {:.1}s: {} of {} requests failed{gap}; p95 {} before, {} during, {} after",
        report.action.name(),
        report.target,
        report.at_s,
        deploy.took_s,
        deploy.failed,
        deploy.requests,
        ms(deploy.p95_before_ms),
        ms(deploy.p95_during_ms),
        ms(deploy.p95_after_ms)
    )
}

/// `backend-1 12.3 req/s, cpu mean 41% max 63%, 6 db conns; backend-2 ...`
fn instances(infra: &Infrastructure) -> String {
    infra
        .instances
        .iter()
        .map(|i| {
            let rate = i.rps.map_or(String::new(), |r| format!(" {r:.1} req/s,"));
            format!(
                "{}{rate} cpu mean {:.0}% max {:.0}%, {} db conns",
                i.name,
                i.cpu_mean_percent,
                i.cpu_max_percent,
                i.db_connections_max
                    .map_or(NOT_MEASURED.into(), |c| c.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn triggers(infra: &Infrastructure) -> String {
    infra
        .triggers
        .iter()
        .map(|t| {
            let when = match (t.first_fired_s, t.seconds_measured) {
                (_, 0) => "not measured".to_string(),
                (Some(first), _) => format!("fired at {first}s, above for {}s", t.seconds_above),
                (None, _) => "never fired".to_string(),
            };
            format!("{} > {}{}: {when}", t.name, t.threshold, t.unit)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn hpa(infra: &Infrastructure) -> String {
    let Some(hpa) = &infra.hpa else {
        return "not simulated: backend CPU not measured".into();
    };
    let Some(policy) = hpa.policy else {
        return NOT_MEASURED.into();
    };
    let beyond = if hpa.unclamped_peak > policy.max_replicas {
        format!(" (the load calls for {}: beyond the maximum)", hpa.unclamped_peak)
    } else {
        String::new()
    };
    format!(
        "simulated peak {} replicas (min {}, max {}, target CPU {:.0}%){beyond}",
        hpa.peak_replicas,
        policy.min_replicas,
        policy.max_replicas,
        policy.target * 100.0
    )
}

/// The replicas the deployment really ran, beside the simulation.
fn observed_replicas(infra: &Infrastructure) -> Option<String> {
    let counts: Vec<u32> = infra.replicas_observed.iter().map(|(_, r)| *r).collect();
    let (min, max) = (counts.iter().min()?, counts.iter().max()?);
    let simulated = infra.hpa.as_ref().map_or(String::new(), |h| {
        format!(" (simulated peak {})", h.peak_replicas)
    });
    Some(format!(
        "observed {min} to {max}, last {}{simulated}",
        counts.last()?
    ))
}

fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or(NOT_MEASURED.into(), |v| format!("{v:.decimals$}"))
}

fn mib(bytes: Option<f64>) -> String {
    bytes.map_or(NOT_MEASURED.into(), |b| {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    })
}

/// `50/s constant, 51 workers: 500 scheduled, 499 started, 12 late (max 950.0 ms), 1 unserved`
pub fn open_model(open: &crate::load::OpenReport) -> String {
    let warning = match open.generator_bound {
        true => format!(
            "; WARNING: the harness used {:.2} cores while the schedule slipped: it may be the bottleneck",
            open.generator_cpu_cores
        ),
        false => String::new(),
    };
    format!(
        "{} {}, {} workers: {} scheduled, {} started, {} late (max {:.1} ms), {} unserved; \
         latency counts from each iteration's intended start{warning}",
        open.rate,
        open.arrivals,
        open.workers,
        open.scheduled,
        open.started,
        open.late_starts,
        open.max_lateness_ms,
        open.unserved
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Measurements;
    use crate::telemetry::{Sample, Telemetry};

    #[test]
    fn what_no_probe_reached_is_listed_and_never_simulated_from_zeros() {
        let telemetry = Telemetry {
            cpu_limit_cores: 2.0,
            memory_limit_bytes: 1 << 29,
            samples: (0..5)
                .map(|second| Sample {
                    second,
                    health_ms: Some(2.0),
                    ..Sample::default()
                })
                .collect(),
            ..Telemetry::default()
        };
        let measured = Measurements::empty(&[("k".into(), "get".into())]);
        let infra = Infrastructure::new(&telemetry, &measured);
        assert!(infra.hpa.is_none());
        assert_eq!(infra.backend_cpu_max_percent, None);
        assert_eq!(
            infra.not_measured,
            [
                "db_connections",
                "max_connections",
                "backend_cpu",
                "backend_memory",
                "redis",
                "hpa"
            ]
        );
        let text = lines(&infra, &[]);
        assert!(text.iter().all(|(_, line)| !line.contains("-%")), "{text:?}");
        assert!(text
            .iter()
            .any(|(label, line)| *label == "hpa" && line.starts_with("not simulated")));
    }
}
