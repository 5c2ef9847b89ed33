//! CPU and memory of a container from the Docker API (the `stats` stream), as
//! percentages of the container's own limits: the same figures `docker stats` shows,
//! divided by the CPU limit so that "70%" means what the seed's trigger means.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use testcontainers::bollard::models::ContainerStatsResponse;
use testcontainers::bollard::query_parameters::StatsOptionsBuilder;
use testcontainers::bollard::Docker;
use tokio::task::JoinHandle;

use super::DepartureEvent;

/// The latest figures of one container, kept current by a task that follows the
/// daemon's stats stream (one sample a second, each with the second before it), and
/// what became of the container: a stream that ends, or falls silent, is a container
/// that stopped; one that answers again after that is a restart.
pub(super) struct Watcher {
    shared: Arc<Mutex<Watch>>,
    task: JoinHandle<()>,
}

/// One stats sample: cores in use over the last second, and memory in use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Reading {
    pub cores: f64,
    pub memory_bytes: u64,
}

/// What the task saw last, and the stops and starts not yet taken.
#[derive(Default)]
struct Watch {
    latest: Option<(Reading, Instant)>,
    up: bool,
    /// Whether it ever answered: a first answer is a start, a later one a restart.
    answered: bool,
    events: Vec<DepartureEvent>,
}

/// A reading older than this is of a container that stopped answering.
const STALE: Duration = Duration::from_secs(3);

impl Watcher {
    pub(super) fn start(docker: Docker, id: String) -> Self {
        let shared = Arc::new(Mutex::new(Watch::default()));
        let task = tokio::spawn(follow(docker, id, shared.clone()));
        Self { shared, task }
    }

    /// The most recent sample, if one arrived lately.
    pub(super) fn latest(&self) -> Option<Reading> {
        let mut watch = self.watch();
        watch.mark_stale();
        watch.latest.map(|(reading, _)| reading)
    }

    /// The oldest stop or start not taken yet.
    pub(super) fn take_event(&self) -> Option<DepartureEvent> {
        let mut watch = self.watch();
        watch.mark_stale();
        (!watch.events.is_empty()).then(|| watch.events.remove(0))
    }

    fn watch(&self) -> std::sync::MutexGuard<'_, Watch> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Watch {
    fn reading(&mut self, reading: Reading) {
        if !self.up && self.answered {
            self.events.push(DepartureEvent::Restarted);
        }
        self.up = true;
        self.answered = true;
        self.latest = Some((reading, Instant::now()));
    }

    fn stopped(&mut self) {
        if self.up {
            self.events.push(DepartureEvent::Exited);
        }
        self.up = false;
        self.latest = None;
    }

    fn mark_stale(&mut self) {
        if self.latest.is_some_and(|(_, at)| at.elapsed() > STALE) {
            self.stopped();
        }
    }
}

/// Follows `id`'s stats; when the stream ends (the container stopped), waits for it
/// to run again, until it is removed.
async fn follow(docker: Docker, id: String, shared: Arc<Mutex<Watch>>) {
    let lock = || shared.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let options = StatsOptionsBuilder::default().stream(true).build();
        let mut stream = docker.stats(&id, Some(options));
        while let Some(Ok(stats)) = stream.next().await {
            if is_of_a_stopped_container(&stats) {
                lock().stopped();
                continue;
            }
            let reading = Reading {
                cores: cores_used(&stats),
                memory_bytes: memory_in_use(&stats),
            };
            lock().reading(reading);
        }
        lock().stopped();
        tokio::time::sleep(Duration::from_secs(1)).await;
        if docker.inspect_container(&id, None).await.is_err() {
            return;
        }
    }
}

/// A stopped container's samples are empty: no process, no memory in use.
fn is_of_a_stopped_container(stats: &ContainerStatsResponse) -> bool {
    let processes = stats.pids_stats.as_ref().and_then(|p| p.current);
    let memory = stats.memory_stats.as_ref().and_then(|m| m.usage);
    processes == Some(0) || (processes.is_none() && memory.unwrap_or(0) == 0)
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Cores in use between the sample's two readings: the container's share of all CPU
/// time times the machine's CPUs, as `docker stats` computes it.
fn cores_used(stats: &ContainerStatsResponse) -> f64 {
    let total = |cpu: Option<&testcontainers::bollard::models::ContainerCpuStats>| {
        cpu.map(|c| {
            (
                c.cpu_usage.as_ref().and_then(|u| u.total_usage).unwrap_or(0),
                c.system_cpu_usage.unwrap_or(0),
                c.online_cpus.unwrap_or(1).max(1),
            )
        })
    };
    let (Some(now), Some(before)) = (
        total(stats.cpu_stats.as_ref()),
        total(stats.precpu_stats.as_ref()),
    ) else {
        return 0.0;
    };
    let container = now.0.saturating_sub(before.0) as f64;
    let system = now.1.saturating_sub(before.1) as f64;
    if system <= 0.0 {
        return 0.0;
    }
    container / system * f64::from(now.2)
}

/// Usage less the inactive page cache, as `docker stats` counts it (cgroup v1 names
/// it `total_inactive_file`, v2 `inactive_file`).
fn memory_in_use(stats: &ContainerStatsResponse) -> u64 {
    let Some(memory) = stats.memory_stats.as_ref() else {
        return 0;
    };
    let usage = memory.usage.unwrap_or(0);
    let empty = HashMap::new();
    let detail = memory.stats.as_ref().unwrap_or(&empty);
    let inactive = detail
        .get("total_inactive_file")
        .or_else(|| detail.get("inactive_file"))
        .copied()
        .unwrap_or(0);
    usage.saturating_sub(inactive)
}
