//! `worker`: one generator of a coordinated run.

use crate::cli::WorkerArgs;
use crate::distributed::{WorkerSettings, TOKEN_ENV};
use crate::error::Context as _;
use crate::error::{Error, Result};

/// `worker`: where the coordinator is, the run's token and this generator's name.
pub fn worker_settings(args: &WorkerArgs) -> Result<WorkerSettings> {
    Ok(WorkerSettings {
        coordinator: args.coordinator.clone(),
        token: worker_token(args)?,
        name: args.name.clone().unwrap_or_else(default_worker_name),
        output: args.output.clone(),
        quiet: args.progress.quiet,
        env: worker_env(args)?,
    })
}

/// The values `--env-file` gives the HTTP settings' variables, before the environment.
fn worker_env(args: &WorkerArgs) -> Result<crate::http::Env> {
    let Some(path) = &args.env_file else {
        return Ok(crate::http::Env::Process);
    };
    let text = std::fs::read_to_string(path)
        .config_context(|| format!("--env-file {}: cannot read it", path.display()))?;
    crate::http::Env::parse(&text)
        .map_err(|why| Error::config(format!("--env-file {}: {why}", path.display())))
}

/// The run's token: from `--token-file` (a Swarm or Kubernetes secret), else the
/// environment. Never from a flag: flags show in process lists.
fn worker_token(args: &WorkerArgs) -> Result<String> {
    let token = match &args.token_file {
        Some(path) => std::fs::read_to_string(path)
            .config_context(|| format!("cannot read the token file {}", path.display()))?,
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
fn default_worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_else(|_| "generator".into());
    format!("{}-{}", host.trim(), std::process::id())
}
