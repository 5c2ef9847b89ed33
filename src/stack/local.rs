//! The local stack: a real Postgres (fresh `initdb` in a scratch folder), a real Redis
//! with the seed's configuration and the reference backend, each on a free loopback
//! port, each checked for readiness before the next starts.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rand::distributions::{Alphanumeric, DistString};

use super::host::{free_port, postgres_bin_dir, redis_server_path, scratch_dir};
use super::process::{log_tail, ManagedProcess};
use super::stores::{LocalPostgres, LocalRedis};
use super::{Endpoints, Stack, StackKind, StackOptions};
use crate::error::{Error, Result};

/// Includes connecting to both stores and running migrations.
const BACKEND_READY: Duration = Duration::from_secs(60);
const DATABASE: &str = "karigar";

/// Starts Postgres, Redis and the backend; stops what started if a later part fails.
pub async fn start(options: &StackOptions) -> Result<Stack> {
    let pg_bin = postgres_bin_dir()?;
    let redis_server = redis_server_path()?;
    let scratch = scratch_dir()?;
    let mut stack = Stack {
        endpoints: Endpoints::default(),
        kind: StackKind::Local,
        parts: Vec::new(),
        scratch: None,
    };
    let postgres = LocalPostgres::start(&pg_bin, scratch.path(), &options.logs_dir).await?;
    postgres.create_database(&pg_bin, DATABASE)?;
    let postgres_port = postgres.port;
    stack.endpoints.postgres = Some(postgres.url(DATABASE));
    stack.parts.push(postgres.process);
    let redis = LocalRedis::start(&redis_server, scratch.path(), &options.logs_dir).await?;
    stack.endpoints.redis = Some(redis.url());
    let backend_env = backend_env(postgres_port, &redis);
    stack.parts.push(redis.process);
    let (backend, url) = start_backend(&options.backend_exe, backend_env, &options.logs_dir).await?;
    stack.parts.push(backend);
    stack.endpoints.backend = url;
    stack.endpoints.frontend = options.frontend.clone();
    stack.scratch = Some(scratch);
    Ok(stack)
}

/// Environment for the backend: the seed's variables pointing at our stores.
fn backend_env(postgres_port: u16, redis: &LocalRedis) -> Vec<(&'static str, String)> {
    vec![
        ("SERVER_ENVIRONMENT", "loadtest".into()),
        ("DB_HOST", "127.0.0.1".into()),
        ("DB_PORT", postgres_port.to_string()),
        ("DB_USER", "postgres".into()),
        ("DB_PASSWORD", String::new()),
        ("DB_NAME", DATABASE.into()),
        ("DB_SSLMODE", "disable".into()),
        ("REDIS_HOST", "127.0.0.1".into()),
        ("REDIS_PORT", redis.port.to_string()),
        ("REDIS_PASSWORD", redis.password.clone()),
        ("REDIS_DB", "0".into()),
        (
            "JWT_SECRET",
            Alphanumeric.sample_string(&mut rand::thread_rng(), 48),
        ),
    ]
}

/// Starts `exe backend` on a free port; settings the user exported (BCRYPT_COST,
/// RATE_LIMIT_*, ...) pass through, the stack's own addresses win.
async fn start_backend(
    exe: &Path,
    env: Vec<(&'static str, String)>,
    logs: &Path,
) -> Result<(ManagedProcess, String)> {
    let port = free_port()?;
    let mut command = Command::new(exe);
    command
        .arg("backend")
        .envs(env)
        .env("SERVER_HOST", "127.0.0.1")
        .env("SERVER_PORT", port.to_string());
    let log = logs.join("backend.log");
    let mut process = ManagedProcess::spawn("backend", command, &log, libc::SIGTERM, libc::SIGTERM)?;
    let url = format!("http://127.0.0.1:{port}");
    let health = format!("{url}/health");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| Error::Internal(e.into()))?;
    wait_ready(&mut process, &log, BACKEND_READY, || {
        let request = client.get(&health).send();
        async move { request.await.is_ok_and(|r| r.status().is_success()) }
    })
    .await?;
    Ok((process, url))
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
