//! The local stack's servers come from Debian packages. When one is missing and the
//! harness runs as root on a machine with apt, it installs the package itself (saying
//! which and why first), unless told not to; elsewhere the error names the command.

use std::path::Path;
use std::process::Command;

use super::host::{postgres_bin_dir, redis_server_path};
use super::StackOptions;
use crate::error::Context as _;
use crate::error::{Error, Result};

/// Keeps package scripts from starting system-wide services: the harness starts its
/// own servers on free ports. `.ci/run` uses the same guard.
const POLICY_RC: &str = "/usr/sbin/policy-rc.d";
const APT_GET: &str = "/usr/bin/apt-get";
/// apt and its helpers (gpgv, dpkg) are found on the system's own path, whatever ours is.
const SYSTEM_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Whether a missing package may be installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallPolicy {
    /// As root with apt-get: install, saying so.
    Allowed,
    /// `--no-install` or `KARIGAR_PERF_NO_INSTALL`: only say what to install.
    Forbidden,
}

impl InstallPolicy {
    pub(super) fn from_options(options: &StackOptions) -> Self {
        if options.install_missing {
            Self::Allowed
        } else {
            Self::Forbidden
        }
    }
}

/// The Debian packages the local stack needs and this machine lacks, with the server
/// each one brings.
pub fn missing_packages() -> Vec<(&'static str, &'static str)> {
    let mut missing = Vec::new();
    if postgres_bin_dir().is_err() {
        missing.push(("postgresql-15", "the PostgreSQL 15 server (initdb, postgres)"));
    }
    if redis_server_path().is_err() {
        missing.push(("redis-server", "the Redis server"));
    }
    missing
}

/// Installs what the local stack lacks when `policy` and the machine allow it; else an
/// error naming the exact command to run.
pub(super) fn ensure_local_servers(policy: InstallPolicy) -> Result<()> {
    let missing = missing_packages();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|(package, _)| *package).collect();
    let command = format!("apt-get install {}", names.join(" "));
    let can_install = is_root() && Path::new(APT_GET).is_file();
    if policy == InstallPolicy::Forbidden || !can_install {
        let why = match policy {
            InstallPolicy::Forbidden => "installing is forbidden (--no-install / KARIGAR_PERF_NO_INSTALL)",
            InstallPolicy::Allowed => "the harness installs them only as root on a machine with apt-get",
        };
        return Err(Error::stack(format!(
            "the local stack needs {}, which this machine lacks; {why}. Install with:\n    sudo {command}\n\
             (or use --stack docker, or --target URL for a deployment that runs already)",
            names.join(", ")
        )));
    }
    for (package, what) in &missing {
        crate::console::status(&format!(
            "the local stack needs {what}: installing the Debian package {package} with apt-get"
        ));
    }
    crate::console::status(
        "(no system service is started; --no-install or KARIGAR_PERF_NO_INSTALL=1 forbids this)",
    );
    apt_install(&names)?;
    let still = missing_packages();
    if !still.is_empty() {
        return Err(Error::stack(format!(
            "installed {}, yet the local stack still lacks {}",
            names.join(", "),
            still.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(())
}

/// `apt-get update` and `apt-get install`, with a `policy-rc.d` that forbids starting
/// services while the packages install (removed again if we created it).
fn apt_install(packages: &[&str]) -> Result<()> {
    let guard = PolicyGuard::install()?;
    let run = |args: &[&str]| -> Result<()> {
        let status = Command::new(APT_GET)
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env("PATH", SYSTEM_PATH)
            .status()
            .stack_context(|| "cannot run apt-get")?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::stack(format!(
                "apt-get {} failed ({status}); install them yourself: apt-get install {}",
                args.first().copied().unwrap_or_default(),
                packages.join(" ")
            )))
        }
    };
    run(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend_from_slice(packages);
    let result = run(&install);
    drop(guard);
    result
}

/// A `policy-rc.d` of ours for as long as it lives; one already there is left alone.
struct PolicyGuard {
    created: bool,
}

impl PolicyGuard {
    fn install() -> Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let path = Path::new(POLICY_RC);
        if path.exists() {
            return Ok(Self { created: false });
        }
        std::fs::write(path, "#!/bin/sh\nexit 101\n")
            .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)))
            .stack_context(|| format!("cannot write {POLICY_RC}"))?;
        Ok(Self { created: true })
    }
}

impl Drop for PolicyGuard {
    fn drop(&mut self) {
        if self.created {
            let _ = std::fs::remove_file(POLICY_RC);
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
