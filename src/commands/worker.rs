//! `karigar-perf worker --coordinator URL`: one load generator of a coordinated run,
//! what an engine (local processes, a Swarm service, a Kubernetes Job) starts.

use crate::cli::WorkerArgs;
use crate::distributed::{self, WorkerSettings, TOKEN_ENV};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;

pub async fn run(args: &WorkerArgs) -> Result<u8> {
    let token = token(args)?;
    // A signal stops the load (Goose's killswitch); the last report still goes out.
    let _interrupt = Interrupt::listen().map_err(|e| Error::Internal(e.into()))?;
    let name = args.name.clone().unwrap_or_else(default_name);
    distributed::run_worker(WorkerSettings {
        coordinator: args.coordinator.clone(),
        token,
        name,
        output: args.output.clone(),
        quiet: args.progress.quiet,
    })
    .await
}

/// The run's token: from `--token-file` (a Swarm or Kubernetes secret), else the
/// environment. Never from a flag: flags show in process lists.
fn token(args: &WorkerArgs) -> Result<String> {
    let token = match &args.token_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read the token file {}: {e}", path.display())))?,
        None => std::env::var(TOKEN_ENV)
            .map_err(|_| Error::config(format!("no run token: set {TOKEN_ENV} or give --token-file")))?,
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(Error::config("the run token is empty"));
    }
    Ok(token)
}

/// `HOSTNAME-PID`: unique enough to tell generators apart in a report.
fn default_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_else(|_| "generator".into());
    format!("{}-{}", host.trim(), std::process::id())
}
