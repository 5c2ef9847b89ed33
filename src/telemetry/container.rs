//! CPU and memory of a container from the Docker API (the `stats` stream), as
//! percentages of the container's own limits: the same figures `docker stats` shows,
//! divided by the CPU limit so that "70%" means what the seed's trigger means.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use testcontainers::bollard::models::ContainerStatsResponse;
use testcontainers::bollard::query_parameters::StatsOptionsBuilder;
use testcontainers::bollard::Docker;
use tokio::task::JoinHandle;

/// The latest figures of one container, kept current by a task that follows the
/// daemon's stats stream (one sample a second, each with the second before it).
pub struct Watcher {
    latest: Arc<Mutex<Option<Reading>>>,
    task: JoinHandle<()>,
}

/// One stats sample: cores in use over the last second, and memory in use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    pub cores: f64,
    pub memory_bytes: u64,
}

impl Watcher {
    pub fn start(docker: Docker, id: String) -> Self {
        let latest = Arc::new(Mutex::new(None));
        let shared = latest.clone();
        let task = tokio::spawn(async move {
            let options = StatsOptionsBuilder::default().stream(true).build();
            let mut stream = docker.stats(&id, Some(options));
            while let Some(Ok(stats)) = stream.next().await {
                let reading = Reading {
                    cores: cores_used(&stats),
                    memory_bytes: memory_in_use(&stats),
                };
                *shared.lock().unwrap_or_else(|e| e.into_inner()) = Some(reading);
            }
        });
        Self { latest, task }
    }

    /// The most recent sample, if one arrived.
    pub fn latest(&self) -> Option<Reading> {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }
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
