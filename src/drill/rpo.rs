//! The restore drill's RPO: the acknowledged writes against what the restored database
//! kept, each placed by its commit against the backup's WAL range.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection};

use super::commits::{BackupRange, Commits, Place};
use super::journal::Ack;
use super::{db_error, quote};
use crate::error::Result;

/// The acknowledged writes against the restored database.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Rpo {
    /// Sent before T2 and acknowledged (a write in flight at T2 may have committed).
    pub acknowledged: u64,
    /// Of those, absent after the restore.
    pub lost: u64,
    /// Committed before the backup's start LSN / up to its end LSN / after it.
    pub acknowledged_before_backup: u64,
    pub acknowledged_during_backup: u64,
    pub acknowledged_after_backup: u64,
    pub lost_before_backup: u64,
    pub lost_during_backup: u64,
    pub lost_after_backup: u64,
    /// Committed after the backup's end and kept all the same: the WAL streamed with
    /// the backup ran past its end LSN (base policy), or the archive replayed it (WAL).
    #[serde(default)]
    pub kept_after_backup: u64,
    /// Whose commit could not be placed for certain (see [`commits`](super::commits)), and of those lost.
    #[serde(default)]
    pub in_doubt: u64,
    #[serde(default)]
    pub lost_in_doubt: u64,
    /// Lost writes whose commit came before a kept write's: a restore keeps a prefix of
    /// the commit order, so anything but 0 is a damaged restore.
    #[serde(default)]
    pub lost_out_of_order: u64,
    /// Seconds from the earliest lost acknowledgement to T2: the data loss window.
    pub window_s: f64,
    /// Rows of the table right after the restore, before any new write.
    pub rows_after_restore: u64,
    /// Sent after T2, acknowledged, and absent (must be 0).
    pub lost_after_restore: u64,
}

/// The keys of `acks` that the restored database has.
/// `table.column` is where each write's key is found.
pub(super) async fn present_keys(
    acks: &[Ack],
    url: &str,
    (table, column): (&str, &str),
) -> Result<HashSet<String>> {
    let keys: Vec<&str> = acks.iter().map(|a| a.key.as_str()).collect();
    let mut db = PgConnection::connect(url).await.map_err(db_error)?;
    let sql = format!(
        "SELECT {column}::text FROM {table} WHERE {column}::text = ANY($1)",
        column = quote(column),
        table = quote(table)
    );
    let present = sqlx::query_scalar(&sql)
        .bind(&keys)
        .fetch_all(&mut db)
        .await
        .map_err(db_error)?;
    Ok(present.into_iter().collect())
}

/// The acknowledged writes against what the restore kept (`present`), each placed by
/// its commit against the backup's WAL range.
pub(super) fn rpo(
    acks: &[Ack],
    present: &HashSet<String>,
    commits: &Commits,
    range: &BackupRange,
    destroyed_s: f64,
) -> Rpo {
    let mut rpo = Rpo::default();
    let mut earliest_lost: Option<f64> = None;
    let mut last_kept = None;
    let mut lost_commits = Vec::new();
    for ack in acks {
        let lost = !present.contains(&ack.key);
        if ack.sent_s >= destroyed_s {
            rpo.lost_after_restore += u64::from(lost);
            continue;
        }
        rpo.acknowledged += 1;
        let (acknowledged, lost_in) = match commits.place(range, &ack.key, ack.sent_s, ack.at_s) {
            Place::BeforeBackup => (&mut rpo.acknowledged_before_backup, &mut rpo.lost_before_backup),
            Place::DuringBackup => (&mut rpo.acknowledged_during_backup, &mut rpo.lost_during_backup),
            Place::AfterBackup => (&mut rpo.acknowledged_after_backup, &mut rpo.lost_after_backup),
            Place::InDoubt => (&mut rpo.in_doubt, &mut rpo.lost_in_doubt),
        };
        *acknowledged += 1;
        let commit = commits.lsn(&ack.key);
        if lost {
            *lost_in += 1;
            rpo.lost += 1;
            earliest_lost = Some(earliest_lost.map_or(ack.at_s, |e: f64| e.min(ack.at_s)));
            lost_commits.extend(commit);
        } else {
            last_kept = last_kept.max(commit);
        }
    }
    rpo.kept_after_backup = rpo.acknowledged_after_backup - rpo.lost_after_backup;
    rpo.lost_out_of_order = lost_commits.iter().filter(|&&c| Some(c) < last_kept).count() as u64;
    rpo.window_s = earliest_lost.map_or(0.0, |at| destroyed_s - at);
    rpo
}
