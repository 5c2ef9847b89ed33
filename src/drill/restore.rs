//! `drill restore`: a base backup at T1 while writes run, Postgres destroyed at T2
//! (SIGKILL and its data directory removed), then the seed's recovery procedure step
//! by step: stop the backend, restore the base backup, replay the WAL to its end (or,
//! base backup only, just the WAL the backup carries), verify integrity
//! (`pg_amcheck`), migrations and restart, verify through the API. RTO is the first
//! successful request of the load after T2; RPO, the acknowledged writes the restored
//! database no longer has, each placed before, during or after the backup by where its
//! commit fell in the WAL against the backup's LSNs ([`commits`](super::commits)).
//!
//! WAL archiving is continuous: `pg_receivewal --synchronous` is Postgres's synchronous
//! standby, so a commit is acknowledged only once its WAL is in the archive folder
//! (`archive_command` ships only complete 16 MB segments, and would lose the last one).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection};

use super::commits::{self, BackupRange, Commits};
use super::journal::Journal;
use super::rpo::{present_keys, rpo, Rpo};
use super::{db_error, quote};
use super::{Clock, Phase, Phases};
use crate::error::Context as _;
use crate::error::{Error, Result};
use crate::stack::{ManagedProcess, Rig};

/// The phase that copies the base backup back.
pub const RESTORE_PHASE: &str = "restore base backup";
/// The phase of the WAL policy that replays the archive.
pub const REPLAY_PHASE: &str = "replay WAL to its end";

/// The name the archiver streams under, and its replication slot.
const ARCHIVER: &str = "karigar_wal";

/// How the database is backed up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// A base backup and every WAL record since, streamed synchronously.
    Wal,
    /// The base backup alone: the seed's daily backup.
    Base,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Self::Wal => "wal",
            Self::Base => "base",
        }
    }
}

/// When the drill acts, on the load's clock, and what it checks.
#[derive(Clone, Debug)]
pub struct RestoreTiming {
    /// The base backup starts (T1).
    pub backup_at: Duration,
    /// Postgres is destroyed this long after the backup finished (T2).
    pub destroy_after: Duration,
    /// The load goes on this long after the backend is back.
    pub after: Duration,
    /// `table.column` where each acknowledged write's key must be found.
    pub table: String,
    pub column: String,
}

/// What one restore drill found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RestoreOutcome {
    pub policy: Policy,
    pub backup_started_s: f64,
    pub backup_finished_s: f64,
    pub backup_bytes: u64,
    /// The backup's WAL range, from its manifest.
    #[serde(default)]
    pub backup_start_lsn: String,
    #[serde(default)]
    pub backup_end_lsn: String,
    pub destroyed_s: f64,
    pub phases: Vec<Phase>,
    /// The first write sent after T2 that was acknowledged, minus T2: when users could
    /// write again (reads that need no database, such as a token check, may succeed
    /// throughout).
    pub rto_s: Option<f64>,
    pub rpo: Rpo,
    /// `pg_amcheck` found no corruption.
    pub integrity_ok: bool,
    /// Bytes per second the base backup was taken and restored at.
    pub backup_rate_bytes_s: f64,
    pub restore_rate_bytes_s: f64,
}

/// Postgres settings of the rig, whatever the policy: the archiver streams WAL, and
/// the drill decodes commits (a logical slot) to place them against the backup.
pub fn postgres_settings() -> Vec<(String, String)> {
    vec![("wal_level".into(), "logical".into())]
}

/// Runs the drill on `rig` while the load writes; returns when the load may stop.
pub async fn run(
    rig: &mut Rig,
    policy: Policy,
    timing: &RestoreTiming,
    clock: &Clock,
    journal: &Journal,
) -> Result<RestoreOutcome> {
    commits::create_slot(&rig.postgres_url()).await?;
    let slot_created_s = clock.now_s();
    let archive = rig.server_dir("wal-archive")?;
    let mut archiver = match policy {
        Policy::Wal => Some(start_archiver(rig, &archive).await?),
        Policy::Base => None,
    };
    clock.sleep_until(timing.backup_at).await;
    let backup = take_backup(rig, clock)?;
    let range = BackupRange::read(&backup.dir)?;
    clock
        .sleep_until(Duration::from_secs_f64(backup.finished_s) + timing.destroy_after)
        .await;
    let peeked_s = clock.now_s();
    let decoded = commits::peek(&rig.postgres_url(), &timing.table, &timing.column).await?;
    let commits = Commits::new(slot_created_s, peeked_s, decoded);
    rig.destroy_postgres()?;
    // T2 once Postgres is gone: a write sent before it may have committed on the old
    // server and counts as acknowledged before T2; one sent after it cannot have.
    let destroyed_s = clock.now_s();
    clock.say("Postgres destroyed: SIGKILL, data directory removed");
    if let Some(mut archiver) = archiver.take() {
        archiver.stop();
    }
    let recovered = recover(rig, policy, timing, clock, &backup.dir, &archive).await?;
    clock
        .sleep_until(Duration::from_secs_f64(clock.now_s()) + timing.after)
        .await;
    let rto_s = journal
        .first_acknowledged_after(destroyed_s)
        .map(|at| at - destroyed_s);
    // One snapshot of the journal for both the query and the count: the load goes on.
    let acks = journal.acks();
    let present = present_keys(&acks, &rig.postgres_url(), (&timing.table, &timing.column)).await?;
    let mut rpo = rpo(&acks, &present, &commits, &range, destroyed_s);
    rpo.rows_after_restore = recovered.rows_after_restore;
    let copy_s = recovered
        .phases
        .iter()
        .find(|p| p.name == RESTORE_PHASE)
        .map_or(0.0, Phase::seconds);
    Ok(RestoreOutcome {
        policy,
        backup_started_s: backup.started_s,
        backup_finished_s: backup.finished_s,
        backup_bytes: backup.bytes,
        backup_start_lsn: range.start.to_string(),
        backup_end_lsn: range.end.to_string(),
        destroyed_s,
        rto_s,
        rpo,
        integrity_ok: recovered.integrity_ok,
        backup_rate_bytes_s: backup.bytes as f64 / (backup.finished_s - backup.started_s).max(1e-3),
        restore_rate_bytes_s: backup.bytes as f64 / copy_s.max(1e-3),
        phases: recovered.phases,
    })
}

/// A base backup taken (T1).
struct Backup {
    dir: PathBuf,
    started_s: f64,
    finished_s: f64,
    bytes: u64,
}

fn take_backup(rig: &Rig, clock: &Clock) -> Result<Backup> {
    let dir = rig.scratch.path().join("base-backup");
    let started_s = clock.now_s();
    clock.say("base backup (pg_basebackup -X stream) started");
    base_backup(rig, &dir)?;
    let finished_s = clock.now_s();
    let bytes = dir_bytes(&dir);
    clock.say(&format!("base backup finished: {} MB", bytes / 1_000_000));
    Ok(Backup {
        dir,
        started_s,
        finished_s,
        bytes,
    })
}

/// What the recovery procedure left.
struct Recovered {
    phases: Vec<Phase>,
    integrity_ok: bool,
    /// Rows of the checked table before any new write.
    rows_after_restore: u64,
}

/// The seed's procedure, each step timed: stop the backend, restore, replay, verify
/// integrity, migrations and restart, verify through the API.
async fn recover(
    rig: &mut Rig,
    policy: Policy,
    timing: &RestoreTiming,
    clock: &Clock,
    backup: &Path,
    archive: &Path,
) -> Result<Recovered> {
    let mut phases = Phases::new(clock);
    phases
        .step("stop backend", async {
            rig.stop_backend();
            Ok(())
        })
        .await?;
    let restored = rig.scratch.path().join(format!("restored-{}", policy.name()));
    phases
        .step(RESTORE_PHASE, async { copy_dir(backup, &restored) })
        .await?;
    let replay = match policy {
        Policy::Wal => REPLAY_PHASE,
        Policy::Base => "recover to the end of the backup",
    };
    let recovery = recovery_settings(policy, archive, &restored)?;
    phases
        .step(replay, async {
            rig.serve_postgres(&restored, &recovery).await?;
            wait_out_of_recovery(&rig.postgres_url()).await
        })
        .await?;
    let integrity_ok = phases
        .step("verify integrity (pg_amcheck)", async { amcheck(rig) })
        .await?;
    let rows_after_restore = count_rows(&rig.postgres_url(), timing).await?;
    phases
        .step("migrations and backend restart", rig.start_backend())
        .await?;
    let backend = rig.backend_url();
    phases
        .step("verify through the API", verify_api(&backend))
        .await?;
    Ok(Recovered {
        phases: phases.done(),
        integrity_ok,
        rows_after_restore,
    })
}

/// `pg_receivewal --synchronous` into `archive`, made Postgres's synchronous standby:
/// from here on a commit returns only once its WAL is flushed in the archive.
async fn start_archiver(rig: &Rig, archive: &Path) -> Result<ManagedProcess> {
    let port = rig.postgres_port.to_string();
    let connection = format!("host=127.0.0.1 port={port} user=postgres application_name={ARCHIVER}");
    let log = rig.logs.join("pg_receivewal.log");
    let mut create = rig.as_server(&rig.pg_bin.join("pg_receivewal"))?;
    create.args([
        "--create-slot",
        "--if-not-exists",
        "-S",
        ARCHIVER,
        "-d",
        &connection,
    ]);
    run_tool("pg_receivewal --create-slot", create, &log)?;
    let mut receive = rig.as_server(&rig.pg_bin.join("pg_receivewal"))?;
    receive.args([
        "-S",
        ARCHIVER,
        "--synchronous",
        "--no-loop",
        "-d",
        &connection,
        "-D",
    ]);
    receive.arg(archive);
    let archiver = ManagedProcess::spawn("pg_receivewal", receive, &log, libc::SIGINT, libc::SIGINT)?;
    let mut db = PgConnection::connect(&rig.postgres_url())
        .await
        .map_err(db_error)?;
    let begun = Instant::now();
    loop {
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM pg_stat_replication WHERE application_name = $1")
                .bind(ARCHIVER)
                .fetch_optional(&mut db)
                .await
                .map_err(db_error)?;
        if state.as_deref() == Some("streaming") {
            break;
        }
        if begun.elapsed() > Duration::from_secs(20) {
            return Err(Error::stack(format!(
                "pg_receivewal did not start streaming within 20 s; see {}",
                log.display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for statement in [
        format!("ALTER SYSTEM SET synchronous_standby_names = '{ARCHIVER}'"),
        "SELECT pg_reload_conf()".into(),
    ] {
        sqlx::query(&statement).execute(&mut db).await.map_err(db_error)?;
    }
    Ok(archiver)
}

/// `pg_basebackup` of the running server into `into`, with the WAL it needs.
fn base_backup(rig: &Rig, into: &Path) -> Result<()> {
    let mut command = rig.pg_tool("pg_basebackup");
    command
        .args(["-X", "stream", "-c", "fast", "--no-sync", "-D"])
        .arg(into);
    run_tool("pg_basebackup", command, &rig.logs.join("pg_basebackup.log"))
}

/// The restored server's settings: with WAL, recovery from the archive (the segment
/// pg_receivewal was writing is `.partial`); never waiting for the archiver any more.
fn recovery_settings(policy: Policy, archive: &Path, restored: &Path) -> Result<Vec<(String, String)>> {
    let mut settings = vec![("synchronous_standby_names".to_string(), String::new())];
    if policy == Policy::Wal {
        let dir = archive.display();
        settings.push((
            "restore_command".into(),
            format!("cp {dir}/%f %p 2>/dev/null || cp {dir}/%f.partial %p"),
        ));
        let signal = restored.join("recovery.signal");
        std::fs::write(&signal, "").stack_context(|| format!("{}", signal.display()))?;
    }
    Ok(settings)
}

/// Polls until the server has finished recovery and accepts writes.
async fn wait_out_of_recovery(url: &str) -> Result<()> {
    let begun = Instant::now();
    loop {
        if let Ok(mut db) = PgConnection::connect(url).await {
            let recovering: Option<bool> = sqlx::query_scalar("SELECT pg_is_in_recovery()")
                .fetch_one(&mut db)
                .await
                .ok();
            if recovering == Some(false) {
                return Ok(());
            }
        }
        if begun.elapsed() > Duration::from_secs(600) {
            return Err(Error::stack(
                "the restored Postgres did not finish recovery within 10 minutes",
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `pg_amcheck` over every table and index; true when it found nothing.
fn amcheck(rig: &Rig) -> Result<bool> {
    let mut command = rig.pg_tool("pg_amcheck");
    command.args([
        "--install-missing",
        "--heapallindexed",
        "-d",
        crate::stack::DATABASE,
    ]);
    let log = rig.logs.join("pg_amcheck.log");
    match run_tool("pg_amcheck", command, &log) {
        Ok(()) => Ok(true),
        Err(Error::Stack(why)) if why.to_string().contains("exit status: 2") => Ok(false),
        Err(e) => Err(e),
    }
}

async fn count_rows(url: &str, timing: &RestoreTiming) -> Result<u64> {
    let mut db = PgConnection::connect(url).await.map_err(db_error)?;
    let sql = format!("SELECT count(*) FROM {}", quote(&timing.table));
    let rows: i64 = sqlx::query_scalar(&sql)
        .fetch_one(&mut db)
        .await
        .map_err(db_error)?;
    Ok(rows as u64)
}

/// `/health/detailed` answers 200 and a new account can register: reads and writes
/// go through.
async fn verify_api(backend: &str) -> Result<()> {
    let client = crate::client::base()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::Internal(e.into()))?;
    let health = client
        .get(format!("{backend}/health/detailed"))
        .send()
        .await
        .stack_context(|| "after the restore, /health/detailed")?;
    if !health.status().is_success() {
        return Err(Error::stack(format!(
            "after the restore, /health/detailed answered {}",
            health.status()
        )));
    }
    let email = format!("restore-check-{}@drill.karigar.test", std::process::id());
    let body = serde_json::json!({"email": email, "password": "Kp1restore-check", "name": "Restore Check", "role": "customer"});
    let registered = client
        .post(format!("{backend}/api/v1/auth/register"))
        .json(&body)
        .send()
        .await
        .stack_context(|| "after the restore, register")?;
    match registered.status().as_u16() {
        201 | 409 => Ok(()),
        other => Err(Error::stack(format!(
            "after the restore, register answered {other}"
        ))),
    }
}

fn run_tool(name: &str, command: Command, log: &Path) -> Result<()> {
    crate::stack::run_logged(name, command, log)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .stack_context(|| "cp")?;
    if !status.success() {
        return Err(Error::stack(format!(
            "cp -a {} {} failed",
            from.display(),
            to.display()
        )));
    }
    Ok(())
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut pending: Vec<PathBuf> = vec![dir.to_owned()];
    while let Some(path) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => pending.push(entry.path()),
                Ok(meta) => total += meta.len(),
                Err(_) => {}
            }
        }
    }
    total
}
