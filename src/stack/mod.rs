//! The stack under test. Providers share one shape: they return a [`Stack`] guard
//! holding the endpoints the load needs and the parts to tear down, which happens on
//! success, on error, on panic (drop) and on interruption.
//!
//! - `local`: Postgres, Redis and the reference backend as child processes
//! - `external`: an existing deployment given with `--target`; nothing to tear down
//! - `stores`: Postgres and Redis servers of our own (the local stack's, and tests')
//! - `host`: server binaries, users, scratch folders and ports on this machine
//! - `process`: the child-process guard every started server lives in

pub mod external;
pub mod host;
pub mod local;
pub mod process;
pub mod stores;

use std::path::PathBuf;

use crate::error::Result;
pub use process::ManagedProcess;

/// Where the load goes and where telemetry can look.
#[derive(Clone, Debug, Default)]
pub struct Endpoints {
    /// Backend base URL (no trailing slash), e.g. `http://127.0.0.1:41234`.
    pub backend: String,
    pub frontend: Option<String>,
    /// Connection URLs of the stores, when the harness started them.
    pub postgres: Option<String>,
    pub redis: Option<String>,
}

/// Which provider runs the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StackKind {
    /// Postgres, Redis and the reference backend as local processes.
    Local,
    /// An existing deployment (`--target`); chosen automatically when a target is given.
    External,
}

/// How to provision: the resolved stack flags.
#[derive(Clone, Debug)]
pub struct StackOptions {
    pub kind: StackKind,
    pub target: Option<String>,
    pub frontend: Option<String>,
    /// Where the stack's processes write their logs.
    pub logs_dir: PathBuf,
    /// The executable that serves the reference backend with `backend` as argument.
    pub backend_exe: PathBuf,
}

/// A provisioned stack. Dropping it tears it down, last-started part first.
pub struct Stack {
    pub endpoints: Endpoints,
    pub kind: StackKind,
    parts: Vec<ManagedProcess>,
    /// Data directories of the local stack, removed after the parts stop.
    scratch: Option<tempfile::TempDir>,
}

impl Stack {
    pub fn external(endpoints: Endpoints) -> Self {
        Self {
            endpoints,
            kind: StackKind::External,
            parts: Vec::new(),
            scratch: None,
        }
    }

    /// Pids of the running parts, by name.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.parts
            .iter()
            .map(|p| (p.name().to_owned(), p.pid()))
            .collect()
    }

    /// Stops every part in reverse start order and removes scratch data.
    pub fn teardown(&mut self) {
        while let Some(mut part) = self.parts.pop() {
            part.stop();
        }
        if let Some(scratch) = self.scratch.take() {
            let _ = scratch.close();
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// Brings up the stack `options` describe.
pub async fn provision(options: &StackOptions) -> Result<Stack> {
    match (&options.target, options.kind) {
        (Some(target), _) => external::connect(target, options.frontend.as_deref()).await,
        (None, StackKind::External) => {
            Err(crate::error::Error::config("--stack external needs --target URL"))
        }
        (None, StackKind::Local) => local::start(options).await,
    }
}
