//! How big each generator pod of a Kubernetes run is, and how long its Job may run:
//! estimated from the plan and measured costs, so that no generator becomes the
//! bottleneck it measures.

use std::time::Duration;

use crate::scenario::Plan;

/// What each generator pod is given, and how long the Job may run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeneratorPod {
    /// Requested and limited alike (Guaranteed QoS): a generator that shares a
    /// throttled core measures its own queueing as the server's latency.
    pub cpu_millis: u32,
    pub memory_bytes: u64,
    /// The Job's `activeDeadlineSeconds`: the planned run and a margin, so that pods
    /// whose coordinator never starts them do not hold their nodes for ever.
    pub deadline: Duration,
}

/// CPU one request costs a generator in the open model: 63.5-84 µs at 2,000/s, three
/// times the closed model's (benches/generators, docs/src/performance.md), since the
/// schedule's wake-ups cost most when the rate per generator is low.
const CPU_S_PER_REQUEST: f64 = 84e-6;
/// A generator's own cost besides its requests: the per-second series, the stream to the
/// coordinator, the runtime.
const CPU_FIXED_CORES: f64 = 0.1;
/// Room above the estimate, so that a generator never becomes the bottleneck it measures.
const CPU_HEADROOM: f64 = 2.0;
/// A closed-model generator's users are always busy: what they use depends on how fast
/// the server answers, unknown before the run. One core is what one generator process
/// saturates at.
const CLOSED_MODEL_MILLIS: u32 = 1000;
/// Memory: the process and its histograms, plus each busy user's connection and
/// buffers (10,000 always-busy users peaked at 524 MB in benches/generators).
const MEMORY_FIXED_BYTES: u64 = 128 * 1024 * 1024;
const MEMORY_PER_USER_BYTES: u64 = 64 * 1024;
/// The Job's deadline past the planned run: registration, the start signal, the drain.
const DEADLINE_MARGIN: Duration = Duration::from_secs(600);

impl GeneratorPod {
    /// Each of `workers` generators' share of `plan`, sized from the figures above
    /// unless the user gave its CPU (cores) or memory (bytes).
    pub fn sized(plan: &Plan, workers: usize, cpu_cores: Option<f64>, memory_bytes: Option<u64>) -> Self {
        let workers = workers.max(1);
        let cpu_millis = match (cpu_cores, &plan.load.open) {
            (Some(cores), _) => (cores * 1000.0).ceil() as u32,
            (None, Some(open)) => {
                let requests_s = open.rate.peak() * requests_per_iteration(plan) / workers as f64;
                let cores = (CPU_FIXED_CORES + requests_s * CPU_S_PER_REQUEST) * CPU_HEADROOM;
                (cores * 10.0).ceil() as u32 * 100
            }
            (None, None) => CLOSED_MODEL_MILLIS,
        };
        let users = plan.load.users.div_ceil(workers) as u64;
        let memory = MEMORY_FIXED_BYTES + users * MEMORY_PER_USER_BYTES;
        const STEP: u64 = 64 * 1024 * 1024;
        Self {
            cpu_millis,
            memory_bytes: memory_bytes.unwrap_or(memory.div_ceil(STEP) * STEP),
            deadline: crate::load::planned_duration(plan) + DEADLINE_MARGIN,
        }
    }
}

/// The most requests one iteration of any kind of user sends.
fn requests_per_iteration(plan: &Plan) -> f64 {
    plan.kinds
        .iter()
        .map(|kind| {
            plan.steps[kind.first..kind.first + kind.len]
                .iter()
                .map(|step| f64::from(step.repeat.max(1)))
                .sum::<f64>()
        })
        .fold(1.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(rate: Option<&str>, users: usize) -> Plan {
        let text = "name = \"n\"\n[[steps]]\nname = \"a\"\npath = \"/\"\n\
                    [[steps]]\nname = \"b\"\npath = \"/\"\nrepeat = 3\n";
        let source = crate::scenario::Source {
            origin: "n.toml".into(),
            text: text.into(),
            dir: None,
        };
        let overrides = crate::scenario::LoadOverrides {
            rate: rate.map(str::to_owned),
            users: Some(users),
            duration: Some(Duration::from_secs(300)),
            ..Default::default()
        };
        Plan::build(&source, &overrides, &[]).unwrap()
    }

    #[test]
    fn generator_pods_are_sized_from_the_rate_each_one_sends() {
        // 2,000 iterations/s of 4 requests over 4 pods: 2,000 requests/s each,
        // (0.1 + 2,000 x 84 us) x 2 = 0.536 cores, up to the next 100m.
        let open = GeneratorPod::sized(&plan(Some("2000/s"), 40), 4, None, None);
        assert_eq!(open.cpu_millis, 600);
        // 10 users each: 128 MiB + 640 KiB, up to the next 64 MiB.
        assert_eq!(open.memory_bytes, 192 * 1024 * 1024);
        assert_eq!(open.deadline, Duration::from_secs(300 + 600));
        let slow = GeneratorPod::sized(&plan(Some("1/s"), 4), 4, None, None);
        assert_eq!(slow.cpu_millis, 300, "(0.1 + 1 x 84 us) x 2, up to the next 100m");
        let closed = GeneratorPod::sized(&plan(None, 4000), 4, None, None);
        assert_eq!(
            (closed.cpu_millis, closed.memory_bytes),
            (1000, 192 * 1024 * 1024)
        );
        let given = GeneratorPod::sized(&plan(None, 4), 4, Some(1.5), Some(1 << 30));
        assert_eq!((given.cpu_millis, given.memory_bytes), (1500, 1 << 30));
    }
}
