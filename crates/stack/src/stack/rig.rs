//! The local stack of a drill: the same Postgres, Redis and reference backend as the
//! local stack, each part of which the drill may destroy and start again on the same
//! port (the load keeps its one URL), and Postgres set up for the backup policy the
//! drill tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::host::{as_user, free_port, postgres_bin_dir, redis_server_path, scratch_dir, server_user};
use super::install::InstallPolicy;
use super::local::start_backend;
use super::stores::{hand_to_server, serve_postgres, LocalPostgres, LocalRedis};
use super::{backend_env, ManagedProcess, StackOptions, Store, DATABASE};
use crate::error::Context as _;
use crate::error::{Error, Result};

/// What the drill needs of Postgres and Redis.
#[derive(Clone, Debug, Default)]
pub struct RigSettings {
    /// Postgres server settings, `-c name=value`.
    pub postgres: Vec<(String, String)>,
    /// Redis's `appendfsync` (the seed's: `everysec`).
    pub appendfsync: String,
}

/// The parts, each on its own port for as long as the rig lives.
pub struct Rig {
    pub pg_bin: PathBuf,
    redis_server: PathBuf,
    pub postgres: Option<ManagedProcess>,
    pub postgres_port: u16,
    /// The data directory Postgres runs on now.
    pub postgres_data: PathBuf,
    postgres_settings: Vec<(String, String)>,
    pub redis: LocalRedis,
    backend: Option<ManagedProcess>,
    backend_port: u16,
    backend_env: Vec<(String, String)>,
    exe: PathBuf,
    pub logs: PathBuf,
    /// Room for backups, archives and restored data directories.
    pub scratch: tempfile::TempDir,
}

impl Rig {
    pub async fn start(options: &StackOptions, settings: &RigSettings) -> Result<Self> {
        super::install::ensure_local_servers(InstallPolicy::from_options(options))?;
        let pg_bin = postgres_bin_dir()?;
        let redis_server = redis_server_path()?;
        let scratch = scratch_dir()?;
        let logs = options.logs_dir.clone();
        let postgres = LocalPostgres::start_with(&pg_bin, scratch.path(), &logs, &settings.postgres).await?;
        super::create_database(&pg_bin, postgres.port, DATABASE)?;
        let redis =
            LocalRedis::start_with(&redis_server, scratch.path(), &logs, &settings.appendfsync).await?;
        let mut env: Vec<(String, String)> = backend_env(
            Store::new("127.0.0.1", postgres.port, ""),
            Store::new("127.0.0.1", redis.port, &redis.password),
        )
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        env.extend(options.backend_env.iter().cloned());
        let backend_port = free_port()?;
        let backend = start_backend(&options.backend_exe, &env, &logs, backend_port).await?;
        Ok(Self {
            pg_bin,
            redis_server,
            postgres: Some(postgres.process),
            postgres_port: postgres.port,
            postgres_data: postgres.data,
            postgres_settings: settings.postgres.clone(),
            redis,
            backend: Some(backend),
            backend_port,
            backend_env: env,
            exe: options.backend_exe.clone(),
            logs,
            scratch,
        })
    }

    pub fn backend_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.backend_port)
    }

    pub fn postgres_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{DATABASE}", self.postgres_port)
    }

    pub fn redis_url(&self) -> String {
        self.redis.url()
    }

    /// SIGKILL to every Postgres process (the postmaster's process group) and its data
    /// directory removed: the database is gone as a lost disk leaves it.
    pub fn destroy_postgres(&mut self) -> Result<()> {
        if let Some(mut postgres) = self.postgres.take() {
            postgres.kill_group();
        }
        std::fs::remove_dir_all(&self.postgres_data)
            .stack_context(|| format!("cannot remove {}", self.postgres_data.display()))
    }

    /// Postgres on data directory `data`, on the same port as before; returns once it
    /// accepts connections (it may still be replaying WAL).
    pub async fn serve_postgres(&mut self, data: &Path, extra: &[(String, String)]) -> Result<()> {
        let owner = server_user()?;
        own_recursively(data, owner)?;
        let mut settings = self.postgres_settings.clone();
        settings.extend(extra.iter().cloned());
        let log = self.logs.join("postgres.log");
        let socket_dir = self.scratch.path().join("pg");
        let served = serve_postgres(
            &self.pg_bin,
            data,
            &socket_dir,
            self.postgres_port,
            &settings,
            &log,
        )
        .await?;
        self.postgres = Some(served);
        self.postgres_data = data.to_owned();
        Ok(())
    }

    /// `program` run as the user Postgres runs as (its tools must read and write what
    /// the server does).
    pub fn as_server(&self, program: &Path) -> Result<Command> {
        Ok(as_user(Command::new(program), server_user()?))
    }

    /// Postgres's client tool `name`, pointed at the server as `postgres`.
    pub fn pg_tool(&self, name: &str) -> Command {
        let mut command = Command::new(self.pg_bin.join(name));
        let port = self.postgres_port.to_string();
        command.args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres"]);
        command
    }

    /// A folder in the scratch space that the server's user owns.
    pub fn server_dir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.scratch.path().join(name);
        std::fs::create_dir_all(&dir).stack_context(|| format!("{}", dir.display()))?;
        hand_to_server(&dir, server_user()?)?;
        Ok(dir)
    }

    /// SIGTERM to the backend, waiting for it to finish what it serves.
    pub fn stop_backend(&mut self) {
        if let Some(mut backend) = self.backend.take() {
            backend.stop();
        }
    }

    /// The backend again, on its port; ready once it has connected and migrated.
    pub async fn start_backend(&mut self) -> Result<()> {
        let backend = start_backend(&self.exe, &self.backend_env, &self.logs, self.backend_port).await?;
        self.backend = Some(backend);
        Ok(())
    }

    /// SIGKILL to Redis: no shutdown, no final write of its AOF.
    pub fn kill_redis(&mut self) {
        self.redis.process.kill_group();
    }

    /// Redis again on its configuration; it loads its AOF before it answers.
    pub async fn restart_redis(&mut self) -> Result<()> {
        self.redis.restart(&self.redis_server).await
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.stop_backend();
        if let Some(mut postgres) = self.postgres.take() {
            postgres.stop();
        }
    }
}

/// `chown -R` to the user Postgres runs as, and `chmod 700` (Postgres insists).
fn own_recursively(path: &Path, owner: Option<(u32, u32)>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .stack_context(|| format!("chmod {}", path.display()))?;
    if owner.is_none() {
        return Ok(());
    }
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{}:{}", owner.unwrap().0, owner.unwrap().1))
        .arg(path)
        .status()
        .stack_context(|| "chown")?;
    if !status.success() {
        return Err(Error::stack(format!("chown -R {} failed", path.display())));
    }
    hand_to_server(path, owner)
}
