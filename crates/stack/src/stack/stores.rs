//! Postgres and Redis servers of our own, for the local stack and for tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rand::distributions::{Alphanumeric, DistString};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::host::{as_user, free_port, run_to_completion, server_user, write_private};
use super::process::{wait_ready, ManagedProcess};
use crate::error::Context as _;
use crate::error::{Error, Result};

const POSTGRES_READY: Duration = Duration::from_secs(30);
const REDIS_READY: Duration = Duration::from_secs(10);

/// A Postgres server of our own.
pub struct LocalPostgres {
    pub process: ManagedProcess,
    pub port: u16,
    /// The data directory.
    pub data: PathBuf,
}

/// Gives `path` to the user Postgres runs as (when the harness is root).
pub(super) fn hand_to_server(path: &Path, owner: Option<(u32, u32)>) -> Result<()> {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .stack_context(|| format!("chown {}", path.display()))?;
    }
    Ok(())
}

/// Starts Postgres on the data directory `data` (its socket in `socket_dir`, which the
/// server's user owns), listening on 127.0.0.1:`port`, and waits until it accepts
/// connections.
pub(super) async fn serve_postgres(
    bin: &Path,
    data: &Path,
    socket_dir: &Path,
    port: u16,
    settings: &[(String, String)],
    log: &Path,
) -> Result<ManagedProcess> {
    let mut server = Command::new(bin.join("postgres"));
    server.arg("-D").arg(data).arg("-k").arg(socket_dir);
    server.args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"]);
    for (name, value) in settings {
        server.arg("-c").arg(format!("{name}={value}"));
    }
    let mut process = ManagedProcess::spawn(
        "postgres",
        as_user(server, server_user()?),
        log,
        libc::SIGINT,
        libc::SIGQUIT,
    )?;
    let isready = bin.join("pg_isready");
    wait_ready(&mut process, log, POSTGRES_READY, || {
        let ready = Command::new(&isready)
            .args(["-q", "-h", "127.0.0.1", "-U", "postgres", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        async move { ready }
    })
    .await?;
    Ok(process)
}

impl LocalPostgres {
    /// `initdb` into `dir/pg` and starts the server; as root, runs it as the
    /// `postgres` user (Postgres refuses to run as root).
    pub async fn start(bin: &Path, dir: &Path, logs: &Path) -> Result<Self> {
        Self::start_with(bin, dir, logs, &[]).await
    }

    /// As [`start`](Self::start), with server settings (`-c name=value`) on top.
    pub async fn start_with(
        bin: &Path,
        dir: &Path,
        logs: &Path,
        settings: &[(String, String)],
    ) -> Result<Self> {
        let root = dir.join("pg");
        std::fs::create_dir_all(&root).stack_context(|| format!("{}", root.display()))?;
        let owner = server_user()?;
        hand_to_server(&root, owner)?;
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
        let data = root.join("data");
        initdb.arg(&data);
        run_to_completion("initdb", as_user(initdb, owner), &log)?;
        let port = free_port()?;
        let process = serve_postgres(bin, &data, &root, port, settings, &log).await?;
        Ok(Self { process, port, data })
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn create_database(&self, bin: &Path, name: &str) -> Result<()> {
        create_database(bin, self.port, name)
    }
}

/// `createdb NAME` on the server listening on `port`.
pub fn create_database(bin: &Path, port: u16, name: &str) -> Result<()> {
    let port = port.to_string();
    let status = Command::new(bin.join("createdb"))
        .args(["-h", "127.0.0.1", "-U", "postgres", "-p", &port, name])
        .status()
        .stack_context(|| "createdb")?;
    if !status.success() {
        return Err(Error::stack(format!("createdb {name} failed ({status})")));
    }
    Ok(())
}

/// A Redis server of our own, configured as the seed configures production.
pub struct LocalRedis {
    pub process: ManagedProcess,
    pub port: u16,
    pub password: String,
    config: PathBuf,
    log: PathBuf,
}

impl LocalRedis {
    /// Redis with the seed's settings: AOF with `appendfsync everysec`.
    pub async fn start(redis_server: &Path, dir: &Path, logs: &Path) -> Result<Self> {
        Self::start_with(redis_server, dir, logs, "everysec").await
    }

    /// As [`start`](Self::start), with the AOF's fsync policy `appendfsync`.
    pub async fn start_with(redis_server: &Path, dir: &Path, logs: &Path, appendfsync: &str) -> Result<Self> {
        let data = dir.join("redis");
        std::fs::create_dir_all(&data).stack_context(|| format!("{}", data.display()))?;
        let port = free_port()?;
        let password = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
        let config = data.join("redis.conf");
        write_private(&config, &redis_config(port, &password, &data, appendfsync))?;
        let log = logs.join("redis.log");
        let process = serve_redis(redis_server, &config, port, &password, &log).await?;
        Ok(Self {
            process,
            port,
            password,
            config,
            log,
        })
    }

    /// Starts Redis again on its configuration and data (it loads its AOF), once the
    /// last one has gone.
    pub async fn restart(&mut self, redis_server: &Path) -> Result<()> {
        self.process = serve_redis(redis_server, &self.config, self.port, &self.password, &self.log).await?;
        Ok(())
    }

    pub fn url(&self) -> String {
        format!("redis://:{}@127.0.0.1:{}/0", self.password, self.port)
    }
}

async fn serve_redis(
    redis_server: &Path,
    config: &Path,
    port: u16,
    password: &str,
    log: &Path,
) -> Result<ManagedProcess> {
    let mut command = Command::new(redis_server);
    command.arg(config);
    let mut process = ManagedProcess::spawn("redis-server", command, log, libc::SIGTERM, libc::SIGTERM)?;
    wait_ready(&mut process, log, REDIS_READY, || {
        redis_answers(port, password.to_owned())
    })
    .await?;
    Ok(process)
}

/// The seed's Redis settings: AOF, a password, 512 MB with LRU eviction.
fn redis_config(port: u16, password: &str, dir: &Path, appendfsync: &str) -> String {
    format!(
        "bind 127.0.0.1\nport {port}\nprotected-mode yes\nrequirepass {password}\n\
         appendonly yes\nappendfsync {appendfsync}\nmaxmemory {}\nmaxmemory-policy {}\n\
         dir {}\nsave \"\"\ndaemonize no\nlogfile \"\"\n",
        crate::policy::redis_maxmemory(),
        crate::policy::REDIS_MAXMEMORY_POLICY,
        dir.display()
    )
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
