//! One module per subcommand; none imports another. Each takes the parsed arguments,
//! resolves them once ([`crate::config`]) and returns the process exit code.

mod capacity;
mod compare;
mod deploy;
mod drill;
mod gate;
mod history;
mod import;
mod k8s;
mod merge;
mod scenario;
mod seed;
mod serve;
mod slo;
mod stack;
mod worker;

use crate::cli::{
    Command, DeployCommand, DrillCommand, GateCommand, HistoryCommand, K8sCommand, SloCommand, StackCommand,
};
use crate::error::{Error, Result};

/// Runs one subcommand to its exit code.
pub async fn dispatch(command: Command) -> Result<u8> {
    match command {
        Command::Scenario(args) => scenario::run(&args, current_exe()?).await,
        Command::Capacity(args) => capacity::run(&args, current_exe()?).await,
        Command::Compare(args) => compare::run(&args),
        Command::Seed(args) => seed::run(&args).await,
        Command::Worker(args) => worker::run(&args).await,
        Command::Merge(args) => merge::run(&args).await,
        Command::K8s(K8sCommand::Generators(args)) => k8s::generators(&args),
        Command::Gate(GateCommand::Calibrate(args)) => gate::calibrate(&args, &current_exe()?),
        Command::Stack(StackCommand::Up(args)) => stack::up(&args, current_exe()?).await,
        Command::Stack(StackCommand::Down { orphans }) => stack::down(orphans).await,
        Command::Deploy(DeployCommand::K8s(args)) => deploy::k8s(&args),
        Command::Deploy(DeployCommand::Compose(args)) => deploy::compose(&args),
        Command::Drill(DrillCommand::Restore(args)) => drill::restore(&args, current_exe()?).await,
        Command::Drill(DrillCommand::RedisKill(args)) => drill::redis_kill(&args, current_exe()?).await,
        Command::Import(command) => import::run(&command),
        Command::Slo(SloCommand::Rules(args)) => slo::rules(&args),
        Command::History(HistoryCommand::Report(args)) => history::report(&args),
        Command::Completions { shell } => print(&crate::cli::reference::completions(shell)),
        Command::Backend => serve::backend().await,
        Command::Frontend => serve::frontend().await,
    }
}

/// Writes `text` to stdout; a reader that went away early (`| head`) is not an error.
fn print(text: &[u8]) -> Result<u8> {
    use std::io::Write;
    match std::io::stdout().write_all(text) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Internal(e.into())),
        _ => Ok(crate::exit::PASS),
    }
}

/// This executable: the local stack runs the reference backend and frontend from it.
fn current_exe() -> Result<std::path::PathBuf> {
    std::env::current_exe().map_err(|e| Error::Internal(e.into()))
}
