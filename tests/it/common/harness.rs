//! The `karigar-perf` binary as a user runs it, with its report in a temp folder.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_karigar-perf");

/// A run's report folder, removed when the test ends, and the test's share of the
/// machine while it lasts.
pub struct Run {
    pub dir: tempfile::TempDir,
    _machine: Share,
}

/// The machine, shared by the tests that run the harness, or had alone by one whose
/// verdict depends on timing (a recovery within seconds, a gate's noise, a merge within
/// 2 %): no other harness run (and the CPU it burns) overlaps with it.
static MACHINE: RwLock<()> = RwLock::new(());

thread_local! {
    /// This test's share of the machine and how many of its runs hold it: taken once
    /// per test thread, so that a test with two runs never asks for it twice (a second
    /// read behind a waiting writer would deadlock).
    static SHARED: std::cell::RefCell<(usize, Option<RwLockReadGuard<'static, ()>>)> =
        const { std::cell::RefCell::new((0, None)) };
}

enum Share {
    Shared,
    Alone(#[allow(dead_code)] RwLockWriteGuard<'static, ()>),
}

impl Drop for Share {
    fn drop(&mut self) {
        if let Share::Shared = self {
            SHARED.with(|shared| {
                let mut shared = shared.borrow_mut();
                shared.0 -= 1;
                if shared.0 == 0 {
                    shared.1 = None;
                }
            });
        }
    }
}

impl Run {
    /// A run that may overlap with other runs.
    pub fn new() -> Self {
        SHARED.with(|shared| {
            let mut shared = shared.borrow_mut();
            if shared.0 == 0 {
                shared.1 = Some(MACHINE.read().unwrap_or_else(|e| e.into_inner()));
            }
            shared.0 += 1;
        });
        Self::with(Share::Shared)
    }

    /// A run that has the machine to itself for as long as it lives.
    pub fn alone() -> Self {
        let share = Share::Alone(MACHINE.write().unwrap_or_else(|e| e.into_inner()));
        Self::with(share)
    }

    fn with(share: Share) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            _machine: share,
        }
    }

    pub fn report_dir(&self) -> PathBuf {
        self.dir.path().join("report")
    }

    /// `karigar-perf scenario ARGS... --report-dir DIR --quiet`, run from the project folder.
    pub fn command(&self, args: &[&str]) -> Command {
        self.subcommand("scenario", args)
    }

    /// `karigar-perf SUBCOMMAND ARGS... --report-dir DIR --quiet`.
    pub fn subcommand(&self, subcommand: &str, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg(subcommand)
            .args(args)
            .arg("--report-dir")
            .arg(self.report_dir())
            .arg("--quiet")
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("karigar-perf runs")
    }

    /// A scenario file `NAME.toml` of `text` in the run's folder; its path.
    pub fn scenario_file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// A file in the run's folder for a spawned run's output.
    pub fn log_file(&self, name: &str) -> std::fs::File {
        std::fs::File::create(self.dir.path().join(name)).unwrap()
    }

    pub fn read_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    pub fn summary(&self) -> Value {
        self.report("summary.json")
    }

    /// A JSON file of the run's report folder.
    pub fn report(&self, name: &str) -> Value {
        read_json(&self.report_dir().join(name))
    }

    /// Pids of the stack's processes, as the run recorded them.
    pub fn stack_pids(&self) -> Vec<(String, u32)> {
        let stack = read_json(&self.report_dir().join("stack.json"));
        stack["processes"]
            .as_array()
            .expect("processes listed")
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["pid"].as_u64().unwrap() as u32,
                )
            })
            .collect()
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Whether a process with this pid exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Asserts that none of the recorded stack processes is still running.
pub fn assert_stack_gone(run: &Run) {
    let pids = run.stack_pids();
    assert_eq!(
        pids.len(),
        4,
        "postgres, redis-server, backend and frontend were recorded: {pids:?}"
    );
    for (name, pid) in pids {
        assert!(!alive(pid), "{name} (pid {pid}) survived the run");
    }
}

/// Sends `signal` to `child` and waits up to `limit` for it to end.
pub fn signal_and_wait(child: &mut Child, signal: i32, limit: Duration) -> ExitStatus {
    // SAFETY: signalling our own child, which has not been reaped.
    unsafe { libc::kill(child.id() as i32, signal) };
    let sent = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            sent.elapsed() < limit,
            "still running {limit:?} after signal {signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A shipped scenario with its latency SLOs at 5 s (its data folder beside it): these
/// tests judge how runs merge, measure, report or boot, not whether bcrypt on a shared
/// 2-core machine stays under the seed's 500 ms. Every other SLO is kept as shipped.
pub fn roomy_scenario(run: &Run, name: &str) -> String {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let text = std::fs::read_to_string(shipped.join(format!("{name}.toml")))
        .unwrap()
        .replace("< 500ms", "< 5s");
    assert!(text.contains("< 5s"), "{name} has latency SLOs");
    let path = run.dir.path().join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    let data = run.dir.path().join("data");
    if !data.exists() {
        std::fs::create_dir(&data).unwrap();
        for file in std::fs::read_dir(shipped.join("data")).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, data.join(file.file_name().unwrap())).unwrap();
        }
    }
    path.to_str().unwrap().to_owned()
}

/// [`roomy_scenario`] of signup.
pub fn roomy_signup(run: &Run) -> String {
    roomy_scenario(run, "signup")
}

/// Asserts that a summary's infrastructure block holds every figure of a stack with one
/// backend: DB connections, `max_connections` 100, backend CPU and memory, Redis memory.
pub fn assert_stack_figures(infra: &Value) {
    assert!(infra["db_connections_max"].as_f64().unwrap() >= 1.0, "{infra}");
    assert_eq!(infra["max_connections"], 100, "{infra}");
    for figure in [
        "backend_cpu_max_percent",
        "backend_memory_max_percent",
        "redis_memory_max_bytes",
    ] {
        assert!(infra[figure].as_f64().unwrap() > 0.0, "{figure}: {infra}");
    }
}

/// Asserts the exit code, showing what the run printed when it differs.
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}\n{}",
        stdout(output),
        stderr(output)
    );
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
