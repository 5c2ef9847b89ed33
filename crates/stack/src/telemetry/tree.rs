//! CPU and memory of a process *with its descendants*, from `/proc`: a backend given as
//! `--backend-pid` may be a wrapper (`go run`, a shell, a supervisor) whose own CPU is
//! nothing while its child serves every request.

use std::collections::HashMap;
use std::time::Instant;

/// A process tree at one instant.
#[derive(Clone, Debug)]
pub struct TreeReading {
    at: Instant,
    /// CPU ticks (`utime + stime`) of each process, keyed by pid and start time, so that
    /// a reused pid is another process.
    ticks: HashMap<(u32, u64), u64>,
    /// Resident memory of the whole tree.
    pub rss_bytes: u64,
    /// Processes in the tree, the root included.
    pub processes: usize,
}

/// What `/proc/PID/stat` says of one process.
struct Stat {
    ppid: u32,
    zombie: bool,
    start: u64,
    ticks: u64,
}

/// `root` and its descendants now; `None` once `root` is gone (no `/proc` entry, or a
/// zombie waiting for its parent).
pub fn tree_reading(root: u32) -> Option<TreeReading> {
    let stats = all_stats();
    let root_stat = stats.get(&root).filter(|s| !s.zombie)?;
    let mut reading = TreeReading {
        at: Instant::now(),
        ticks: HashMap::new(),
        rss_bytes: 0,
        processes: 0,
    };
    reading.add(root, root_stat);
    for pid in descendants(root, &stats) {
        if let Some(stat) = stats.get(&pid).filter(|s| !s.zombie) {
            reading.add(pid, stat);
        }
    }
    Some(reading)
}

impl TreeReading {
    fn add(&mut self, pid: u32, stat: &Stat) {
        self.ticks.insert((pid, stat.start), stat.ticks);
        self.rss_bytes += rss_bytes(pid).unwrap_or(0);
        self.processes += 1;
    }

    /// CPU seconds the tree used since `before`: each process's growth, and the whole
    /// of a process that started since (a child that ended in between is lost: its
    /// ticks went with it).
    pub fn cpu_seconds_since(&self, before: &TreeReading) -> f64 {
        let ticks: u64 = self
            .ticks
            .iter()
            .map(|(key, &now)| now.saturating_sub(before.ticks.get(key).copied().unwrap_or(0)))
            .sum();
        ticks as f64 / crate::cpu::clock_ticks_per_second()
    }

    /// CPU used since `before`, as a percentage of `limit_cores`.
    pub fn cpu_percent_since(&self, before: &TreeReading, limit_cores: f64) -> f64 {
        let seconds = self.at.duration_since(before.at).as_secs_f64();
        if seconds <= 0.0 || limit_cores <= 0.0 {
            return 0.0;
        }
        self.cpu_seconds_since(before) / seconds / limit_cores * 100.0
    }
}

/// Every process's stat line, by pid.
fn all_stats() -> HashMap<u32, Stat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .collect()
}

fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the `(comm)`, which may itself hold spaces and parentheses.
    let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    let number = |k: usize| fields.get(k)?.parse::<u64>().ok();
    Some(Stat {
        zombie: fields.first() == Some(&"Z"),
        ppid: number(1)? as u32,
        ticks: number(11)? + number(12)?,
        start: number(19)?,
    })
}

/// The pids below `root`, breadth first.
fn descendants(root: u32, stats: &HashMap<u32, Stat>) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&pid, stat) in stats {
        children.entry(stat.ppid).or_default().push(pid);
    }
    let mut found = Vec::new();
    let mut next = vec![root];
    while let Some(parent) = next.pop() {
        for &child in children.get(&parent).into_iter().flatten() {
            found.push(child);
            next.push(child);
        }
    }
    found
}

/// Resident memory of `pid` in bytes (a zombie has none).
fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    #[test]
    fn a_wrappers_busy_child_counts_as_the_wrappers_cpu() {
        // A shell that waits on a child spinning for 2 s: the shell itself uses nothing.
        // Its own process group, ended whole: no spinning grandchild outlives the test.
        let mut shell = Command::new("sh")
            .args([
                "-c",
                "timeout --foreground 2 sh -c 'while :; do :; done'; sleep 5",
            ])
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let before = tree_reading(shell.id()).unwrap();
        std::thread::sleep(Duration::from_millis(600));
        let after = tree_reading(shell.id()).unwrap();
        assert!(
            after.processes >= 2,
            "the shell and its child: {}",
            after.processes
        );
        let percent = after.cpu_percent_since(&before, 1.0);
        // A core spinning for 0.6 s; a loaded machine gives it less, never nothing.
        assert!(percent > 10.0, "{percent}");
        assert!(after.rss_bytes > 0);
        // SAFETY: kill(2) on the process group this test made; no memory is involved.
        unsafe { libc::kill(-(shell.id() as i32), libc::SIGKILL) };
        shell.wait().unwrap();
        assert!(tree_reading(shell.id()).is_none(), "a reaped process is gone");
    }

    #[test]
    fn a_zombie_is_gone() {
        let mut child = Command::new("true").spawn().unwrap();
        // Not reaped yet: a zombie once it has exited.
        let exited = Instant::now();
        while stat(child.id()).is_some_and(|s| !s.zombie) && exited.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(tree_reading(child.id()).is_none());
        child.wait().unwrap();
    }
}
