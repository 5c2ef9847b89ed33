//! The stack under test. Providers share one shape: they return a [`Stack`] guard
//! holding the endpoints the load needs and the parts to tear down, which happens on
//! success, on error, on panic (drop) and on interruption.
//!
//! - `local`: Postgres, Redis, the reference backend and frontend as child processes
//! - `docker`: the same four (or the user's own images) as containers on a per-run
//!   network, with the seed's resource limits, backend replicas behind nginx
//! - `external`: an existing deployment given with `--target`; nothing to tear down
//! - `stores`: Postgres and Redis servers of our own (the local stack's, and tests')
//! - `host`: server binaries, users, scratch folders and ports on this machine
//! - `process`: the child-process guard every started server lives in
//! - `install`: the local stack's server packages, installed when missing and allowed

mod docker;
mod external;
mod host;
mod install;
mod local;
mod process;
mod rig;
mod stores;

use std::path::PathBuf;

use rand::distributions::{Alphanumeric, DistString};
use serde::{Deserialize, Serialize};

use crate::error::Result;
pub use docker::{
    access_log, connect as connect_docker, down, inspect_running, runtime_image, Attempts, DockerOptions,
    DockerParts, Fleet, ImageChoice, Instance, Limits as ContainerLimits, Member, Profile, StackLimits,
    Swept, Watched,
};
pub use external::normalise;
pub use host::{free_port, postgres_bin_dir, redis_server_path, run_to_completion as run_logged};
pub use install::{missing_packages, InstallPolicy};
pub use process::ManagedProcess;
pub use rig::{Rig, RigSettings};
pub use stores::{create_database, LocalPostgres, LocalRedis};

/// Where a run's load went, as its reports name it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TargetInfo {
    /// `local`, `docker` or `external`.
    pub stack: String,
    pub backend: String,
    pub frontend: Option<String>,
    /// How requests reached it ([`crate::http::HttpSettings::describe`]): no secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http: Vec<String>,
}

/// The database the backend uses, in every stack the harness starts.
pub const DATABASE: &str = "karigar";

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

pub use crate::scenario::StackKind;

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
    /// Names containers and networks, so that runs never collide.
    pub run_id: String,
    pub docker: DockerOptions,
    /// Extra environment of every backend instance (the scenario's `[stack]`).
    pub backend_env: Vec<(String, String)>,
    /// Whether missing server packages of the local stack may be installed (as root,
    /// with apt).
    pub install_missing: bool,
    /// How an existing deployment is reached (TLS, routing, headers).
    pub http: crate::http::HttpSettings,
}

/// A provisioned stack. Dropping it tears it down, last-started part first.
pub struct Stack {
    pub endpoints: Endpoints,
    pub kind: StackKind,
    parts: Vec<ManagedProcess>,
    /// Data directories of the local stack, removed after the parts stop.
    scratch: Option<tempfile::TempDir>,
    /// The containers and network of the Docker stack.
    pub docker: Option<DockerParts>,
}

impl Stack {
    pub fn external(endpoints: Endpoints) -> Self {
        Self {
            endpoints,
            kind: StackKind::External,
            parts: Vec::new(),
            scratch: None,
            docker: None,
        }
    }

    /// Pids of the running parts, by name.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.parts
            .iter()
            .map(|p| (p.name().to_owned(), p.pid()))
            .collect()
    }

    /// Requests each backend replica served, by name, once the stack is down (counted
    /// by the load balancer; empty without one).
    pub fn served(&self) -> std::collections::BTreeMap<String, u64> {
        self.docker
            .as_ref()
            .map(|parts| parts.served.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Stops every part in reverse start order and removes scratch data.
    pub fn teardown(&mut self) {
        if let Some(docker) = self.docker.as_mut() {
            docker.teardown();
        }
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
        (Some(target), _) => external::connect(target, options.frontend.as_deref(), &options.http).await,
        (None, StackKind::External) => {
            Err(crate::error::Error::config("--stack external needs --target URL"))
        }
        (None, StackKind::Local) => local::start(options).await,
        (None, StackKind::Docker) => docker::start(options).await,
        (None, StackKind::Auto) if docker::answers().await => docker::start(options).await,
        (None, StackKind::Auto) => local::start(options).await,
    }
}

/// Where a store listens, as the backend reaches it.
pub struct Store<'a> {
    host: &'a str,
    port: u16,
    password: &'a str,
}

impl<'a> Store<'a> {
    pub fn new(host: &'a str, port: u16, password: &'a str) -> Self {
        Self { host, port, password }
    }
}

/// Environment for the backend: the seed's variables pointing at our stores, with a
/// fresh JWT secret that every replica shares.
pub fn backend_env(postgres: Store<'_>, redis: Store<'_>) -> Vec<(&'static str, String)> {
    vec![
        ("SERVER_ENVIRONMENT", "loadtest".into()),
        ("DB_HOST", postgres.host.into()),
        ("DB_PORT", postgres.port.to_string()),
        ("DB_USER", "postgres".into()),
        ("DB_PASSWORD", postgres.password.into()),
        ("DB_NAME", DATABASE.into()),
        ("DB_SSLMODE", "disable".into()),
        ("REDIS_HOST", redis.host.into()),
        ("REDIS_PORT", redis.port.to_string()),
        ("REDIS_PASSWORD", redis.password.into()),
        ("REDIS_DB", "0".into()),
        (
            "JWT_SECRET",
            Alphanumeric.sample_string(&mut rand::thread_rng(), 48),
        ),
    ]
}
