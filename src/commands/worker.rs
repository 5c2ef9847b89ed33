//! `karigar-perf worker --coordinator URL`: one load generator of a coordinated run,
//! what an engine (local processes, a Swarm service, a Kubernetes Job) starts.

use crate::cli::WorkerArgs;
use crate::distributed;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;

pub async fn run(args: &WorkerArgs) -> Result<u8> {
    let settings = crate::config::worker_settings(args)?;
    // A signal stops the load; the last report still goes out.
    let interrupt = Interrupt::listen().map_err(|e| Error::Internal(e.into()))?;
    distributed::run_worker(settings, interrupt.load_stop()).await
}
