//! What the steps add up to: the sustainable rate, the knee, the USL fit, the CPU
//! model and its independent estimate, the sizing and a one-line verdict. Pure: it
//! reads step results only, so it is tested on made-up steps.

use serde::{Deserialize, Serialize};

use super::sizing::{self, CpuModel, Sizing, SizingInputs};
use super::step::StepResult;
use super::usl::{self, UslFit};

/// Where latency turns from flat to steep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Knee {
    pub offered: f64,
    pub achieved: f64,
    pub p95_ms: f64,
}

/// An estimate of the capacity made without the search, and how far apart they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossCheck {
    /// How the estimate was made, in words.
    pub method: String,
    /// Cores the estimate divides.
    pub cores: f64,
    /// CPU-seconds one iteration costs, backend (and harness, when it shares the machine).
    pub cpu_s_per_iteration: f64,
    /// The rate at which those cores would be saturated.
    pub estimate: f64,
    /// (search result − estimate) / estimate, in percent.
    pub difference_percent: f64,
    /// The highest throughput any step achieved (past the SLO, as a rule), and its
    /// distance from the estimate in percent: the CPU-bound ceiling, seen directly.
    pub peak_achieved: f64,
    pub peak_difference_percent: f64,
}

/// What the analysis needs besides the steps.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    pub target_rate: Option<f64>,
    /// CPU limit of one backend instance, in cores.
    pub limit_cores: f64,
    /// Cores of this machine, and whether the stack shares them with the harness.
    pub machine_cores: f64,
    pub shared_machine: bool,
}

/// Everything derived from the steps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Findings {
    /// The highest offered rate that held every check, iterations per second.
    pub sustainable_rate: Option<f64>,
    /// The lowest offered rate that did not.
    pub first_failing_rate: Option<f64>,
    /// Requests per iteration, as measured at the sustainable rate.
    pub requests_per_iteration: Option<f64>,
    pub knee: Option<Knee>,
    pub usl: Option<UslFit>,
    pub cpu: Option<CpuModel>,
    pub cross_check: Option<CrossCheck>,
    pub sizing: Option<Sizing>,
}

/// Reduces the finished steps (interrupted ones are left out).
pub fn analyse(steps: &[StepResult], ctx: Context) -> Findings {
    let done: Vec<&StepResult> = steps.iter().filter(|s| !s.interrupted).collect();
    let best = done
        .iter()
        .filter(|s| s.sustainable)
        .max_by(|a, b| a.offered.total_cmp(&b.offered))
        .copied();
    let cpu = CpuModel::fit(
        &done
            .iter()
            .filter(|s| s.sustainable)
            .filter_map(|s| Some((s.achieved, s.backend_cpu_cores?, s.generator_cpu_cores)))
            .collect::<Vec<_>>(),
    );
    let mut findings = Findings {
        sustainable_rate: best.map(|s| s.offered),
        first_failing_rate: done
            .iter()
            .filter(|s| !s.sustainable)
            .map(|s| s.offered)
            .reduce(f64::min),
        requests_per_iteration: best
            .filter(|s| s.achieved > 0.0)
            .map(|s| s.requests_per_s / s.achieved),
        knee: knee(&done),
        usl: usl::fit(
            &done
                .iter()
                .map(|s| (s.concurrency, s.achieved))
                .collect::<Vec<_>>(),
        ),
        cpu,
        cross_check: None,
        sizing: None,
    };
    if let (Some(best), Some(cpu)) = (best, cpu) {
        let peak = done.iter().map(|s| s.achieved).fold(0.0, f64::max);
        findings.cross_check = Some(cross_check(best.offered, peak, cpu, ctx));
    }
    if let (Some(best), Some(target)) = (best, ctx.target_rate) {
        findings.sizing = Some(sizing::size(&sizing_inputs(&done, best, cpu, target, ctx)));
    }
    findings
}

fn knee(steps: &[&StepResult]) -> Option<Knee> {
    let mut sorted: Vec<&StepResult> = steps.to_vec();
    sorted.sort_by(|a, b| a.offered.total_cmp(&b.offered));
    let points: Vec<(f64, f64)> = sorted.iter().map(|s| (s.offered, s.p95_ms)).collect();
    let index = super::knee::kneedle(&points)?;
    let step = sorted[index];
    Some(Knee {
        offered: step.offered,
        achieved: step.achieved,
        p95_ms: step.p95_ms,
    })
}

/// CPU-seconds per iteration x cores: the rate that would saturate the CPU. The harness
/// counts when it runs on the same cores as the stack.
fn cross_check(found: f64, peak: f64, cpu: CpuModel, ctx: Context) -> CrossCheck {
    let (cores, per_iteration, method) = if ctx.shared_machine {
        (
            ctx.machine_cores,
            cpu.cpu_s_per_iteration + cpu.generator_cpu_s_per_iteration,
            "this machine's cores / (backend + harness CPU-seconds per iteration)",
        )
    } else {
        (
            ctx.limit_cores,
            cpu.cpu_s_per_iteration,
            "the instance's CPU limit / backend CPU-seconds per iteration",
        )
    };
    let estimate = cores / per_iteration;
    CrossCheck {
        method: method.into(),
        cores,
        cpu_s_per_iteration: per_iteration,
        estimate,
        difference_percent: (found - estimate) / estimate * 100.0,
        peak_achieved: peak,
        peak_difference_percent: (peak - estimate) / estimate * 100.0,
    }
}

fn sizing_inputs(
    steps: &[&StepResult],
    best: &StepResult,
    cpu: Option<CpuModel>,
    target: f64,
    ctx: Context,
) -> SizingInputs {
    let growth: Vec<f64> = steps
        .iter()
        .filter(|s| s.sustainable && s.achieved > 0.0)
        .filter_map(|s| Some(s.redis_growth_bytes? as f64 / (s.achieved * s.measured_s)))
        .collect();
    SizingInputs {
        target_rate: target,
        sustainable_rate: best.offered,
        cpu,
        limit_cores: ctx.limit_cores,
        max_connections: best.max_connections,
        // Past the SLO every pool fills up; what a planned instance holds is what held.
        observed_connections: steps
            .iter()
            .filter(|s| s.sustainable)
            .filter_map(|s| s.db_connections_max)
            .max()
            .unwrap_or(0),
        redis_bytes_per_iteration: crate::stats::median(&growth),
        redis_used_bytes: best.redis_used_bytes,
        redis_maxmemory: best.redis_maxmemory_bytes,
    }
}

/// The one line on top of every capacity report.
pub fn verdict(scenario: &str, findings: &Findings, p95_limit_ms: f64) -> String {
    let Some(rate) = findings.sustainable_rate else {
        return match findings.first_failing_rate {
            Some(fail) => format!(
                "No rate held: even {fail:.1} {scenario} iterations/s broke an SLO (p95 < {p95_limit_ms:.0} ms, error budget)"
            ),
            None => "No step finished: nothing was measured".into(),
        };
    };
    let requests = findings
        .requests_per_iteration
        .map(|r| format!(" ({:.1} req/s)", rate * r))
        .unwrap_or_default();
    let mut line = format!(
        "One backend instance holds {rate:.1} {scenario} iterations/s{requests} within p95 < {p95_limit_ms:.0} ms and the error budget"
    );
    if let Some(sizing) = &findings.sizing {
        line.push_str(&format!(
            "; {} replica(s) needed for {:.1}/s{}",
            sizing.replicas_needed,
            sizing.target_rate,
            if sizing.exceeds_hpa_max {
                format!(" (more than HPA max {})", crate::policy::HPA_MAX_REPLICAS)
            } else {
                String::new()
            }
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CPU-bound server: 0.1 CPU-s per iteration, 100 ms per iteration until 12/s,
    /// then queueing.
    fn step(offered: f64) -> StepResult {
        let held = offered <= 12.0;
        let achieved = if held { offered } else { 12.5 };
        StepResult {
            offered,
            achieved,
            requests_per_s: achieved * 4.0,
            p95_ms: if held {
                100.0 + offered * 5.0
            } else {
                100.0 * offered
            },
            concurrency: achieved * if held { 0.1 } else { offered / 10.0 },
            backend_cpu_cores: Some(0.1 * achieved),
            generator_cpu_cores: 0.01 * achieved,
            db_connections_max: Some(4),
            redis_growth_bytes: Some((achieved * 30.0 * 200.0) as i64),
            redis_used_bytes: Some(2_000_000),
            max_connections: Some(100),
            measured_s: 30.0,
            sustainable: held,
            ..Default::default()
        }
    }

    fn context() -> Context {
        Context {
            target_rate: Some(50.0),
            limit_cores: 2.0,
            machine_cores: 2.0,
            shared_machine: true,
        }
    }

    #[test]
    fn the_steps_add_up_to_a_rate_a_knee_and_a_sizing() {
        let steps: Vec<_> = [2.0, 4.0, 8.0, 16.0, 12.0, 14.0, 13.0].map(step).to_vec();
        let found = analyse(&steps, context());
        assert_eq!(found.sustainable_rate, Some(12.0));
        assert_eq!(found.first_failing_rate, Some(13.0));
        assert_eq!(found.requests_per_iteration, Some(4.0));
        assert!(
            found.knee.as_ref().is_some_and(|k| k.offered == 12.0),
            "{:?}",
            found.knee
        );
        let cpu = found.cpu.unwrap();
        assert!((cpu.cpu_s_per_iteration - 0.1).abs() < 1e-9);
        let check = found.cross_check.unwrap();
        assert!((check.estimate - 2.0 / 0.11).abs() < 1e-9, "{check:?}");
        assert!((check.difference_percent - (12.0 / (2.0 / 0.11) - 1.0) * 100.0).abs() < 1e-9);
        assert_eq!(check.peak_achieved, 12.5);
        let sizing = found.sizing.unwrap();
        // 70% of 2 cores at 0.1 CPU-s: 14/s; the SLO holds 12/s: 50/12 -> 5 replicas.
        assert_eq!(sizing.replicas_needed, 5);
        assert_eq!(sizing.redis.unwrap().bytes_per_iteration, 200.0);
        assert!(found.usl.is_some());
        let line = verdict("signup", &analyse(&steps, context()), 500.0);
        assert!(
            line.starts_with("One backend instance holds 12.0 signup iterations/s (48.0 req/s)"),
            "{line}"
        );
        assert!(line.ends_with("5 replica(s) needed for 50.0/s"), "{line}");
    }

    #[test]
    fn interrupted_steps_decide_nothing() {
        let mut steps: Vec<_> = [2.0, 4.0].map(step).to_vec();
        steps.push(StepResult {
            interrupted: true,
            sustainable: false,
            ..step(8.0)
        });
        let found = analyse(&steps, context());
        assert_eq!(found.sustainable_rate, Some(4.0));
        assert_eq!(found.first_failing_rate, None);
    }

    #[test]
    fn nothing_holding_is_said_plainly() {
        let found = analyse(&[step(20.0)], context());
        assert_eq!(found.sustainable_rate, None);
        assert!(verdict("signup", &found, 500.0).starts_with("No rate held: even 20.0"));
        assert!(found.sizing.is_none());
    }
}
