//! What the local stack needs from the machine: server binaries, a user to run
//! Postgres as, scratch folders, free ports.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::log_tail;
use crate::error::Context as _;
use crate::error::{Error, Result};

/// Runs a set-up command to its end; its output goes to `log`.
pub fn run_to_completion(name: &str, mut command: Command, log: &Path) -> Result<()> {
    let out = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)
        .stack_context(|| format!("{}", log.display()))?;
    let err = out.try_clone().map_err(|e| Error::stack(e.to_string()))?;
    let status = command
        .stdout(out)
        .stderr(err)
        .status()
        .stack_context(|| format!("cannot run {name}"))?;
    if !status.success() {
        return Err(Error::stack(format!(
            "{name} failed ({status}); last lines of {}:\n{}",
            log.display(),
            log_tail(log, 15)
        )));
    }
    Ok(())
}

pub(super) fn as_user(mut command: Command, owner: Option<(u32, u32)>) -> Command {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
    command
}

/// The uid and gid to run Postgres as: `None` when not root (run as ourselves).
pub(super) fn server_user() -> Result<Option<(u32, u32)>> {
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

const SCRATCH_PREFIX: &str = "karigar-perf-";
/// Names the process a scratch folder belongs to.
const OWNER_FILE: &str = "owner.pid";

/// A fresh folder for the stack's data, readable by the Postgres user. Folders left
/// by runs that were killed outright are removed first.
pub(super) fn scratch_dir() -> Result<tempfile::TempDir> {
    sweep_orphaned_scratch(&std::env::temp_dir());
    let dir = tempfile::Builder::new()
        .prefix(SCRATCH_PREFIX)
        .tempdir()
        .stack_context(|| "cannot create a scratch folder")?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::stack(format!("{}: {e}", dir.path().display())))?;
    std::fs::write(dir.path().join(OWNER_FILE), std::process::id().to_string())
        .map_err(|e| Error::stack(format!("{}: {e}", dir.path().display())))?;
    Ok(dir)
}

/// Removes scratch folders whose owning process no longer exists.
fn sweep_orphaned_scratch(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(SCRATCH_PREFIX));
        let owner = std::fs::read_to_string(path.join(OWNER_FILE)).ok();
        let owner_alive = owner
            .and_then(|pid| pid.trim().parse::<u32>().ok())
            .map(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if ours && owner_alive == Some(false) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

pub(super) fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::File::options()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .stack_context(|| format!("{}", path.display()))?;
    file.write_all(text.as_bytes())
        .stack_context(|| format!("{}", path.display()))
}

/// A port the kernel says is free now.
pub fn free_port() -> Result<u16> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .stack_context(|| "no free loopback port")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeping_removes_only_folders_of_dead_owners() {
        let temp = tempfile::tempdir().unwrap();
        let make = |name: &str, owner: Option<&str>| {
            let dir = temp.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            if let Some(owner) = owner {
                std::fs::write(dir.join(OWNER_FILE), owner).unwrap();
            }
            dir
        };
        let dead = make("karigar-perf-dead", Some("4294967"));
        let alive = make("karigar-perf-alive", Some(&std::process::id().to_string()));
        let unowned = make("karigar-perf-unowned", None);
        let foreign = make("other-dead", Some("4294967"));
        sweep_orphaned_scratch(temp.path());
        assert!(!dead.exists());
        assert!(alive.exists() && unowned.exists() && foreign.exists());
    }
}
