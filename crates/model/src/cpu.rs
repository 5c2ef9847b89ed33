//! CPU of a local process from `/proc` (the generator's own; a backend's, with its
//! children, is the harness's `telemetry::tree`), as percentages of the limits the
//! instance is given (a local process has no cgroup limit, so the limit is configured:
//! by default the machine's cores and the seed's 512 MB development budget).

use std::time::Instant;

/// Cumulative CPU time of a process at one instant.
#[derive(Clone, Copy, Debug)]
pub struct CpuReading {
    ticks: u64,
    at: Instant,
}

/// Reads `utime + stime` of `pid`, in clock ticks.
pub fn cpu_reading(pid: u32) -> Option<CpuReading> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the `(comm)`, which may itself contain spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(CpuReading {
        ticks: utime + stime,
        at: Instant::now(),
    })
}

/// CPU used between two readings, as a percentage of `limit_cores`.
pub fn cpu_percent(before: CpuReading, after: CpuReading, limit_cores: f64) -> f64 {
    let seconds = after.at.duration_since(before.at).as_secs_f64();
    if seconds <= 0.0 || limit_cores <= 0.0 {
        return 0.0;
    }
    cpu_seconds(before, after) / seconds / limit_cores * 100.0
}

/// CPU seconds used between two readings.
pub fn cpu_seconds(before: CpuReading, after: CpuReading) -> f64 {
    after.ticks.saturating_sub(before.ticks) as f64 / clock_ticks_per_second()
}

/// Cores this process may use: the default CPU limit of a local instance.
pub fn available_cores() -> f64 {
    std::thread::available_parallelism()
        .map(|n| n.get() as f64)
        .unwrap_or(1.0)
}

/// Clock ticks per second, as `/proc` counts CPU time (`sysconf(_SC_CLK_TCK)`).
pub fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// CPU time this thread has used (`CLOCK_THREAD_CPUTIME_ID`).
    fn thread_cpu() -> Duration {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec for clock_gettime to write.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
        Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    }

    /// The thread spins for 300 ms of its own CPU time, not of the wall clock, so that a
    /// loaded machine slows the test down but cannot change what it reads.
    #[test]
    fn a_busy_thread_reads_as_cpu_use() {
        let pid = std::process::id();
        let before = cpu_reading(pid).unwrap();
        let (started, spun_from) = (Instant::now(), thread_cpu());
        let mut x = 0u64;
        while thread_cpu() - spun_from < Duration::from_millis(300) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the thread got no CPU"
            );
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let after = cpu_reading(pid).unwrap();
        let used = cpu_seconds(before, after);
        assert!(used >= 0.28, "300 ms spun, {used} s read");
        let wall = after.at.duration_since(before.at).as_secs_f64();
        let percent_of_one_core = cpu_percent(before, after, 1.0);
        assert!((percent_of_one_core - used / wall * 100.0).abs() < 1e-6);
        let of_four = cpu_percent(before, after, 4.0);
        assert!((of_four * 4.0 - percent_of_one_core).abs() < 1e-6, "{of_four}");
    }
}
