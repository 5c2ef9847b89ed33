//! The local stack: a real Postgres (fresh `initdb` in a scratch folder), a real Redis
//! with the seed's configuration and the reference backend, each on a free loopback
//! port, each checked for readiness before the next starts.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rand::distributions::{Alphanumeric, DistString};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::process::{log_tail, ManagedProcess};
use super::{Endpoints, Stack, StackKind, StackOptions};
use crate::error::{Error, Result};

const POSTGRES_READY: Duration = Duration::from_secs(30);
const REDIS_READY: Duration = Duration::from_secs(10);
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

/// A Postgres server of our own.
pub struct LocalPostgres {
    pub process: ManagedProcess,
    pub port: u16,
}

impl LocalPostgres {
    /// `initdb` into `dir/pg` and starts the server; as root, runs it as the
    /// `postgres` user (Postgres refuses to run as root).
    pub async fn start(bin: &Path, dir: &Path, logs: &Path) -> Result<Self> {
        let data = dir.join("pg");
        std::fs::create_dir_all(&data).map_err(|e| Error::stack(format!("{}: {e}", data.display())))?;
        let owner = server_user()?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&data, Some(uid), Some(gid))
                .map_err(|e| Error::stack(format!("chown {}: {e}", data.display())))?;
        }
        let log = logs.join("postgres.log");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb.args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
            "-D",
        ]);
        initdb.arg(data.join("data"));
        run_to_completion("initdb", as_user(initdb, owner), &log)?;
        let port = free_port()?;
        let mut server = Command::new(bin.join("postgres"));
        server.arg("-D").arg(data.join("data")).arg("-k").arg(&data);
        server.args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"]);
        let mut process = ManagedProcess::spawn(
            "postgres",
            as_user(server, owner),
            &log,
            libc::SIGINT,
            libc::SIGQUIT,
        )?;
        let isready = bin.join("pg_isready");
        wait_ready(&mut process, &log, POSTGRES_READY, || {
            let ready = Command::new(&isready)
                .args(["-q", "-h", "127.0.0.1", "-U", "postgres", "-p", &port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            async move { ready }
        })
        .await?;
        Ok(Self { process, port })
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn create_database(&self, bin: &Path, name: &str) -> Result<()> {
        let status = Command::new(bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-p",
                &self.port.to_string(),
                name,
            ])
            .status()
            .map_err(|e| Error::stack(format!("createdb: {e}")))?;
        if !status.success() {
            return Err(Error::stack(format!("createdb {name} failed ({status})")));
        }
        Ok(())
    }
}

/// A Redis server of our own, configured as the seed configures production.
pub struct LocalRedis {
    pub process: ManagedProcess,
    pub port: u16,
    pub password: String,
}

impl LocalRedis {
    pub async fn start(redis_server: &Path, dir: &Path, logs: &Path) -> Result<Self> {
        let data = dir.join("redis");
        std::fs::create_dir_all(&data).map_err(|e| Error::stack(format!("{}: {e}", data.display())))?;
        let port = free_port()?;
        let password = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
        let config = data.join("redis.conf");
        write_private(&config, &redis_config(port, &password, &data))?;
        let mut command = Command::new(redis_server);
        command.arg(&config);
        let log = logs.join("redis.log");
        let mut process = ManagedProcess::spawn("redis-server", command, &log, libc::SIGTERM, libc::SIGTERM)?;
        wait_ready(&mut process, &log, REDIS_READY, || {
            redis_answers(port, password.clone())
        })
        .await?;
        Ok(Self {
            process,
            port,
            password,
        })
    }

    pub fn url(&self) -> String {
        format!("redis://:{}@127.0.0.1:{}/0", self.password, self.port)
    }
}

/// The seed's Redis settings: AOF, a password, 512 MB with LRU eviction.
fn redis_config(port: u16, password: &str, dir: &Path) -> String {
    format!(
        "bind 127.0.0.1\nport {port}\nprotected-mode yes\nrequirepass {password}\n\
         appendonly yes\nappendfsync everysec\nmaxmemory 512mb\nmaxmemory-policy allkeys-lru\n\
         dir {}\nsave \"\"\ndaemonize no\nlogfile \"\"\n",
        dir.display()
    )
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
async fn wait_ready<F, Fut>(
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

/// Whether Redis accepts our password and answers PING.
async fn redis_answers(port: u16, password: String) -> bool {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let command = format!("AUTH {password}\r\nPING\r\n");
        stream.write_all(command.as_bytes()).await.ok()?;
        let mut reply = Vec::new();
        let mut buf = [0u8; 64];
        while !reply.windows(5).any(|w| w == b"+PONG") {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            reply.extend_from_slice(&buf[..n]);
        }
        Some(())
    };
    tokio::time::timeout(Duration::from_secs(1), exchange)
        .await
        .ok()
        .flatten()
        .is_some()
}

/// Runs a set-up command to its end; its output goes to `log`.
fn run_to_completion(name: &str, mut command: Command, log: &Path) -> Result<()> {
    let out = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::stack(format!("{}: {e}", log.display())))?;
    let err = out.try_clone().map_err(|e| Error::stack(e.to_string()))?;
    let status = command
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| Error::stack(format!("cannot run {name}: {e}")))?;
    if !status.success() {
        return Err(Error::stack(format!(
            "{name} failed ({status}); last lines of {}:\n{}",
            log.display(),
            log_tail(log, 15)
        )));
    }
    Ok(())
}

fn as_user(mut command: Command, owner: Option<(u32, u32)>) -> Command {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
    command
}

/// The uid and gid to run Postgres as: `None` when not root (run as ourselves).
fn server_user() -> Result<Option<(u32, u32)>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let entry = |name: &str| {
        passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&name) && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
    };
    entry("postgres")
        .or_else(|| entry("nobody"))
        .map(Some)
        .ok_or_else(|| {
            Error::stack(
                "running as root, and Postgres refuses to: no `postgres` or `nobody` user to run it as",
            )
        })
}

/// A fresh folder for the stack's data, readable by the Postgres user.
fn scratch_dir() -> Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("karigar-perf-")
        .tempdir()
        .map_err(|e| Error::stack(format!("cannot create a scratch folder: {e}")))?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::stack(format!("{}: {e}", dir.path().display())))?;
    Ok(dir)
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::File::options()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::stack(format!("{}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::stack(format!("{}: {e}", path.display())))
}

/// A port the kernel says is free now.
pub fn free_port() -> Result<u16> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::stack(format!("no free loopback port: {e}")))
}

/// The folder holding `initdb`, `postgres`, `pg_isready` and `createdb`.
pub fn postgres_bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("KARIGAR_PERF_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let versioned = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file() && bin.join("postgres").is_file())
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin);
    versioned
        .or_else(|| on_path("initdb").and_then(|p| p.parent().map(Path::to_path_buf)))
        .ok_or_else(|| {
            Error::stack(
                "PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin or on PATH. \
                 Install them (Debian 12: apt-get install postgresql-15) or set KARIGAR_PERF_PG_BIN to their folder.",
            )
        })
}

pub fn redis_server_path() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("KARIGAR_PERF_REDIS_SERVER") {
        return Ok(PathBuf::from(path));
    }
    on_path("redis-server").ok_or_else(|| {
        Error::stack(
            "redis-server not found on PATH. Install it (Debian 12: apt-get install redis-server) \
             or set KARIGAR_PERF_REDIS_SERVER to its path.",
        )
    })
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
