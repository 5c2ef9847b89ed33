//! A child process the stack owns: its own process group (a terminal's Ctrl-C reaches
//! only the harness, which then stops the stack in order), a parent-death signal (the
//! kernel ends it if the harness is killed outright), and a stop that escalates from
//! the process's graceful signal to SIGKILL.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::Context as _;
use crate::error::{Error, Result};

/// How long a process gets between its stop signal and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

pub struct ManagedProcess {
    name: String,
    child: Child,
    /// The signal that asks this program to shut down cleanly.
    stop_signal: i32,
}

impl ManagedProcess {
    /// Starts `command` with stdout and stderr appended to `log`.
    ///
    /// `stop_signal` is sent on [`stop`](Self::stop); `death_signal` is what the kernel
    /// sends if the harness dies first.
    pub fn spawn(
        name: &str,
        mut command: Command,
        log: &Path,
        stop_signal: i32,
        death_signal: i32,
    ) -> Result<Self> {
        let out = open_log(log)?;
        let err = out.try_clone().stack_context(|| format!("{}", log.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        // SAFETY: prctl is async-signal-safe and touches only the child's own state.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, death_signal as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let program = command.get_program().to_string_lossy().into_owned();
        let child = command
            .spawn()
            .stack_context(|| format!("cannot start {name} ({program})"))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            stop_signal,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the process has ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Asks the process to stop, waits up to the grace period, then kills it.
    pub fn stop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        self.signal(self.stop_signal);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "{} did not stop within {}s; killing it",
            self.name,
            STOP_GRACE.as_secs()
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGKILL to the process and every process of its group (a server's workers),
    /// at once: a crash, not a stop.
    pub fn kill_group(&mut self) {
        if self.exited().is_some() {
            return;
        }
        // SAFETY: kill(2) on the process group our own child leads (spawned with
        // process_group(0)), which we have not yet reaped.
        unsafe {
            libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid, which we have not yet reaped.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, signal);
        }
    }
}

impl Drop for ManagedProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

fn open_log(path: &Path) -> Result<File> {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .stack_context(|| format!("cannot open log {}", path.display()))
}

/// The last `lines` lines of a log, to show why a process failed to start.
pub(super) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Polls `probe` until it says ready, the process exits, or `timeout` passes.
pub(super) async fn wait_ready<F, Fut>(
    process: &mut ManagedProcess,
    log: &Path,
    timeout: Duration,
    mut probe: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if let Some(status) = process.exited() {
            return Err(Error::stack(format!(
                "{} exited during start-up ({status}); last lines of {}:\n{}",
                process.name(),
                log.display(),
                log_tail(log, 15)
            )));
        }
        if probe().await {
            return Ok(());
        }
        if started.elapsed() > timeout {
            return Err(Error::stack(format!(
                "{} was not ready after {}s; last lines of {}:\n{}",
                process.name(),
                timeout.as_secs(),
                log.display(),
                log_tail(log, 15)
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
