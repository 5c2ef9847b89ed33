//! The local stack: a real Postgres (fresh `initdb` in a scratch folder), a real Redis
//! with the seed's configuration, the reference backend and the reference frontend
//! (unless `--frontend` names one), each on a free loopback port, each checked for readiness before the next starts.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::host::{free_port, postgres_bin_dir, redis_server_path, scratch_dir};
use super::install::InstallPolicy;
use super::process::{wait_ready, ManagedProcess};
use super::stores::{LocalPostgres, LocalRedis};
use super::{backend_env, Endpoints, Stack, StackKind, StackOptions, Store, DATABASE};
use crate::error::{Error, Result};

/// For the backend, includes connecting to both stores and running migrations.
const APP_READY: Duration = Duration::from_secs(60);

/// Starts Postgres, Redis and the backend; stops what started if a later part fails.
pub(super) async fn start(options: &StackOptions) -> Result<Stack> {
    super::install::ensure_local_servers(InstallPolicy::from_options(options))?;
    let pg_bin = postgres_bin_dir()?;
    let redis_server = redis_server_path()?;
    let scratch = scratch_dir()?;
    let mut stack = Stack {
        endpoints: Endpoints::default(),
        kind: StackKind::Local,
        parts: Vec::new(),
        scratch: None,
        docker: None,
    };
    let postgres = LocalPostgres::start(&pg_bin, scratch.path(), &options.logs_dir).await?;
    postgres.create_database(&pg_bin, DATABASE)?;
    let postgres_port = postgres.port;
    stack.endpoints.postgres = Some(postgres.url(DATABASE));
    stack.parts.push(postgres.process);
    let redis = LocalRedis::start(&redis_server, scratch.path(), &options.logs_dir).await?;
    stack.endpoints.redis = Some(redis.url());
    let mut backend_env: Vec<(String, String)> = backend_env(
        Store::new("127.0.0.1", postgres_port, ""),
        Store::new("127.0.0.1", redis.port, &redis.password),
    )
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    backend_env.extend(options.backend_env.iter().cloned());
    stack.parts.push(redis.process);
    let backend = App::BACKEND
        .start(
            &options.backend_exe,
            &backend_env,
            &options.logs_dir,
            free_port()?,
        )
        .await?;
    stack.endpoints.backend = backend.1.clone();
    stack.parts.push(backend.0);
    stack.endpoints.frontend = match &options.frontend {
        Some(url) => Some(url.clone()),
        None => {
            let env = [(
                "NEXT_PUBLIC_API_URL",
                format!("{}/api/v1", stack.endpoints.backend),
            )];
            let (frontend, url) = App::FRONTEND
                .start(&options.backend_exe, &env, &options.logs_dir, free_port()?)
                .await?;
            stack.parts.push(frontend);
            Some(url)
        }
    };
    stack.scratch = Some(scratch);
    Ok(stack)
}

/// The reference backend on loopback `port`, ready (it has run its migrations).
pub(super) async fn start_backend(
    exe: &Path,
    env: &[(String, String)],
    logs: &Path,
    port: u16,
) -> Result<ManagedProcess> {
    Ok(App::BACKEND.start(exe, env, logs, port).await?.0)
}

/// A server the harness executable serves through a hidden subcommand.
struct App {
    /// The subcommand, also the part's name and its log file's stem.
    name: &'static str,
    /// Environment variables that set the listening address.
    host_var: &'static str,
    port_var: &'static str,
    /// Answers 2xx once the server is ready.
    health_path: &'static str,
}

impl App {
    const BACKEND: App = App {
        name: "backend",
        host_var: "SERVER_HOST",
        port_var: "SERVER_PORT",
        health_path: "/health",
    };
    const FRONTEND: App = App {
        name: "frontend",
        host_var: "HOSTNAME",
        port_var: "PORT",
        health_path: "/",
    };

    /// Starts `exe NAME` on loopback `port` and waits for its health check.
    /// Settings the user exported (BCRYPT_COST, RATE_LIMIT_*, ...) pass through; the
    /// stack's own addresses win.
    async fn start<K: AsRef<std::ffi::OsStr>, V: AsRef<std::ffi::OsStr>>(
        &self,
        exe: &Path,
        env: &[(K, V)],
        logs: &Path,
        port: u16,
    ) -> Result<(ManagedProcess, String)> {
        let mut command = Command::new(exe);
        command
            .arg(self.name)
            .envs(env.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
            .env(self.host_var, "127.0.0.1")
            .env(self.port_var, port.to_string());
        let log = logs.join(format!("{}.log", self.name));
        let mut process = ManagedProcess::spawn(self.name, command, &log, libc::SIGTERM, libc::SIGTERM)?;
        let url = format!("http://127.0.0.1:{port}");
        let health = format!("{url}{}", self.health_path);
        let client = crate::client::base()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| Error::Internal(e.into()))?;
        wait_ready(&mut process, &log, APP_READY, || {
            let request = client.get(&health).send();
            async move { request.await.is_ok_and(|r| r.status().is_success()) }
        })
        .await?;
        Ok((process, url))
    }
}
