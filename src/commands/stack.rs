//! `karigar-perf stack up` keeps a stack running between runs, the deployment a team
//! points `--target` at while it iterates on scenarios; `stack down` stops it and
//! sweeps containers and networks of runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cli::StackUpArgs;
use crate::config::StackUpConfig;
use crate::console::status;
use crate::error::Context as _;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::setup::{self, Setup};
use crate::stack::Stack;

/// Where a kept stack is recorded, relative to the working folder, so that `stack
/// down` run from the same place finds it.
const KEPT: &str = "reports/stack-up.json";
/// How long `stack down` waits for a kept stack to tear itself down.
const STOP_WAIT: Duration = Duration::from_secs(90);

/// What `stack up` records of the stack it keeps.
#[derive(Debug, Serialize, Deserialize)]
pub struct Kept {
    /// The `stack up` process: it owns the stack and tears it down on SIGTERM.
    pub pid: u32,
    /// Labels the stack's containers and names its logs.
    pub run_id: String,
    pub stack: String,
    pub backend: String,
    pub frontend: Option<String>,
    pub postgres_url: Option<String>,
    pub redis_url: Option<String>,
    /// The flags that point a run at this stack, with its telemetry.
    pub flags: Vec<String>,
    pub report_dir: PathBuf,
}

pub async fn up(args: &StackUpArgs, backend_exe: PathBuf) -> Result<u8> {
    let StackUpConfig {
        stack: config,
        reports,
    } = StackUpConfig::resolve(args)?;
    let interrupt = Interrupt::listen().map_err(|e| Error::Internal(e.into()))?;
    let setup = Setup::prepare(&config, &reports, "stack", backend_exe)?;
    let Some(mut stack) = setup.start_stack(&interrupt, "stack").await? else {
        return Ok(crate::exit::INTERRUPTED);
    };
    setup::seed_stack(&stack, &config).await?;
    let kept = describe(&stack, &setup);
    print!("{}", text(&kept));
    write_kept(&kept)?;
    interrupt.wait().await;
    stack.teardown();
    let _ = std::fs::remove_file(KEPT);
    status("stack torn down");
    Ok(crate::exit::PASS)
}

pub async fn down(orphans_only: bool) -> Result<u8> {
    if !orphans_only {
        stop_kept().await?;
    }
    match crate::stack::down(orphans_only).await? {
        Some(swept) => println!("removed {swept}"),
        None => println!("no Docker daemon answers: no container or network to remove"),
    }
    Ok(crate::exit::PASS)
}

/// The stack's addresses and the flags that point a run (and its telemetry) at it.
fn describe(stack: &Stack, setup: &Setup) -> Kept {
    let endpoints = &stack.endpoints;
    let mut flags = vec!["--target".to_owned(), endpoints.backend.clone()];
    if let Some(frontend) = &endpoints.frontend {
        flags.extend(["--frontend".to_owned(), frontend.clone()]);
    }
    if let Some(url) = &endpoints.postgres {
        flags.extend(["--postgres-url".to_owned(), url.clone()]);
    }
    if let Some(url) = &endpoints.redis {
        flags.extend(["--redis-url".to_owned(), url.clone()]);
    }
    match &stack.docker {
        Some(parts) => {
            for backend in parts.backends() {
                flags.extend(["--backend-container".to_owned(), backend.container_id.clone()]);
            }
        }
        None => {
            for (_, pid) in stack.pids().iter().filter(|(name, _)| name == "backend") {
                flags.extend(["--backend-pid".to_owned(), pid.to_string()]);
            }
        }
    }
    Kept {
        pid: std::process::id(),
        run_id: setup.run_id.clone(),
        stack: setup::kind_name(stack.kind).to_owned(),
        backend: endpoints.backend.clone(),
        frontend: endpoints.frontend.clone(),
        postgres_url: endpoints.postgres.clone(),
        redis_url: endpoints.redis.clone(),
        flags,
        report_dir: setup.report_dir.clone(),
    }
}

/// What the console shows: one part a line, then the flags ready to paste.
fn text(kept: &Kept) -> String {
    let mut out = format!("stack up ({}): ready\n", kept.stack);
    let parts = [
        ("backend", Some(&kept.backend)),
        ("frontend", kept.frontend.as_ref()),
        ("postgres", kept.postgres_url.as_ref()),
        ("redis", kept.redis_url.as_ref()),
    ];
    for (name, url) in parts {
        if let Some(url) = url {
            out.push_str(&format!("{name:<10} {url}\n"));
        }
    }
    out.push_str(&format!(
        "\nrun a scenario against it:\n  karigar-perf scenario signup {}\n\n\
         kept until Ctrl-C or `karigar-perf stack down` (recorded in {KEPT}; logs in {})\n",
        kept.flags.join(" "),
        kept.report_dir.join("logs").display()
    ));
    out
}

fn write_kept(kept: &Kept) -> Result<()> {
    let path = Path::new(KEPT);
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(|e| Error::Internal(e.into()))?;
    }
    let json = serde_json::to_string_pretty(kept).map_err(|e| Error::Internal(e.into()))?;
    std::fs::write(path, json + "\n").map_err(|e| Error::Internal(e.into()))
}

/// Asks the `stack up` recorded here to tear its stack down (SIGTERM to the pid it
/// wrote, if that process is still a `stack up`), and waits until it has.
async fn stop_kept() -> Result<()> {
    let Ok(text) = std::fs::read_to_string(KEPT) else {
        return Ok(());
    };
    let kept: Kept =
        serde_json::from_str(&text).config_context(|| format!("{KEPT} is not a kept stack's record"))?;
    if !is_stack_up(kept.pid) {
        let _ = std::fs::remove_file(KEPT);
        return Ok(());
    }
    println!("stopping the {} stack kept by process {}", kept.stack, kept.pid);
    // SAFETY: signalling the `stack up` process recorded above; checked to be one.
    unsafe { libc::kill(kept.pid as i32, libc::SIGTERM) };
    let started = std::time::Instant::now();
    while is_stack_up(kept.pid) {
        if started.elapsed() > STOP_WAIT {
            return Err(Error::stack(format!(
                "the stack kept by process {} did not stop within {}s",
                kept.pid,
                STOP_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = std::fs::remove_file(KEPT);
    Ok(())
}

/// Whether `pid` is a live `karigar-perf stack up` (not a zombie, not a reused pid).
fn is_stack_up(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit(')').next().and_then(|r| r.split_whitespace().next());
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let is_up = args.windows(2).any(|w| w[0] == b"stack" && w[1] == b"up");
    is_up && !matches!(state, None | Some("Z") | Some("X"))
}
