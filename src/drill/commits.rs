//! Where each acknowledged write's commit fell in the WAL, so that a restore drill
//! places writes against the backup's start and end by log position, not by when their
//! answers arrived. Postgres decodes its own WAL through a logical replication slot
//! (`test_decoding`, shipped with the server): every transaction with the LSN where its
//! commit record ends. The backup's start and end LSNs come from its manifest.
//!
//! A commit the slot did not decode is placed only where that is certain: the slot
//! decodes every commit between its creation and the peek, so a write acknowledged
//! before the peek and not decoded committed before the slot existed (before the
//! backup), and one sent after the slot existed and not decoded committed after the
//! peek (after the backup). Any other write is in doubt and counted apart.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use sqlx::{Connection, PgConnection};

use super::db_error;
use crate::error::{Error, Result};

/// The slot the drill decodes commits from.
const SLOT: &str = "karigar_commits";

/// A position in the WAL (`pg_lsn`), comparable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(pub u64);

impl FromStr for Lsn {
    type Err = String;

    /// `16/B374D848`, as Postgres writes one.
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let (high, low) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not an LSN"))?;
        let part = |p: &str| u64::from_str_radix(p, 16).map_err(|_| format!("{text:?} is not an LSN"));
        Ok(Self(part(high)? << 32 | part(low)?))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// Where a write's commit fell against a base backup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    BeforeBackup,
    DuringBackup,
    AfterBackup,
    /// Neither decoded nor placeable for certain.
    InDoubt,
}

/// The backup's WAL range: its start (the checkpoint's redo point) and its end (the
/// backup-end record); a restore of the backup alone holds every commit up to the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackupRange {
    pub start: Lsn,
    pub end: Lsn,
}

impl BackupRange {
    /// The range in `dir/backup_manifest`, which `pg_basebackup` writes.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join("backup_manifest");
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::stack(format!("{}: {e}", path.display())))?;
        Self::parse(&text).map_err(|why| Error::stack(format!("{}: {why}", path.display())))
    }

    fn parse(manifest: &str) -> std::result::Result<Self, String> {
        let json: serde_json::Value = serde_json::from_str(manifest).map_err(|e| e.to_string())?;
        let ranges = json["WAL-Ranges"].as_array().ok_or("no WAL-Ranges")?;
        let lsn = |field: &str, range: Option<&serde_json::Value>| -> std::result::Result<Lsn, String> {
            range
                .and_then(|r| r[field].as_str())
                .ok_or_else(|| format!("WAL-Ranges without {field}"))?
                .parse()
        };
        Ok(Self {
            start: lsn("Start-LSN", ranges.first())?,
            end: lsn("End-LSN", ranges.last())?,
        })
    }

    fn place(&self, commit: Lsn) -> Place {
        if commit <= self.start {
            Place::BeforeBackup
        } else if commit <= self.end {
            Place::DuringBackup
        } else {
            Place::AfterBackup
        }
    }
}

/// The commits decoded from the slot, by the key each wrote.
#[derive(Debug, Default)]
pub struct Commits {
    /// Seconds on the load's clock: the slot existed from `created_s`, and was read at
    /// `peeked_s`.
    pub created_s: f64,
    pub peeked_s: f64,
    by_key: HashMap<String, Lsn>,
}

impl Commits {
    pub fn new(created_s: f64, peeked_s: f64, by_key: HashMap<String, Lsn>) -> Self {
        Self {
            created_s,
            peeked_s,
            by_key,
        }
    }

    /// Where the write of `key`, sent at `sent_s` and acknowledged at `at_s`, committed.
    pub fn place(&self, range: &BackupRange, key: &str, sent_s: f64, at_s: f64) -> Place {
        match self.by_key.get(key) {
            Some(&commit) => range.place(commit),
            None if at_s < self.peeked_s && sent_s < self.created_s => Place::BeforeBackup,
            None if sent_s >= self.created_s && at_s >= self.peeked_s => Place::AfterBackup,
            None => Place::InDoubt,
        }
    }

    /// The commit of `key`'s write, when the slot decoded it.
    pub fn lsn(&self, key: &str) -> Option<Lsn> {
        self.by_key.get(key).copied()
    }
}

/// Creates the slot on the server at `url`; from here on every commit is decoded.
pub async fn create_slot(url: &str) -> Result<()> {
    let mut db = PgConnection::connect(url).await.map_err(db_error)?;
    sqlx::query("SELECT pg_create_logical_replication_slot($1, 'test_decoding')")
        .bind(SLOT)
        .execute(&mut db)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Every commit decoded so far that inserted into `table`, keyed by its `column`.
pub async fn peek(url: &str, table: &str, column: &str) -> Result<HashMap<String, Lsn>> {
    let mut db = PgConnection::connect(url).await.map_err(db_error)?;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT lsn::text, data FROM pg_logical_slot_peek_changes($1, NULL, NULL)")
            .bind(SLOT)
            .fetch_all(&mut db)
            .await
            .map_err(db_error)?;
    commits_by_key(&rows, table, column)
}

/// `test_decoding`'s rows (LSN, text) in commit order: each `COMMIT` row's LSN given to
/// the keys its transaction inserted.
fn commits_by_key(rows: &[(String, String)], table: &str, column: &str) -> Result<HashMap<String, Lsn>> {
    let mut by_key = HashMap::new();
    let mut pending = Vec::new();
    for (lsn, data) in rows {
        if data.starts_with("BEGIN") {
            pending.clear();
        } else if data.starts_with("COMMIT") {
            let lsn: Lsn = lsn.parse().map_err(Error::stack)?;
            by_key.extend(pending.drain(..).map(|key| (key, lsn)));
        } else if let Some(key) = inserted_key(data, table, column) {
            pending.push(key);
        }
    }
    Ok(by_key)
}

/// The value of `column` in a `test_decoding` INSERT into `table`, e.g.
/// `table public.users: INSERT: id[uuid]:'…' email[character varying]:'a@b.test' …`.
fn inserted_key(data: &str, table: &str, column: &str) -> Option<String> {
    let rest = data.strip_prefix("table ")?;
    let (name, rest) = rest.split_once(": INSERT: ")?;
    let bare = name.rsplit('.').next()?.trim_matches('"');
    if bare != table {
        return None;
    }
    let mut from = 0;
    let start = loop {
        let at = from + rest[from..].find(&format!("{column}["))?;
        if at == 0 || rest.as_bytes()[at - 1] == b' ' {
            break at;
        }
        from = at + 1;
    };
    let value = &rest[start..];
    let value = &value[value.find("]:")? + 2..];
    match value.strip_prefix('\'') {
        Some(quoted) => {
            let mut out = String::new();
            let mut chars = quoted.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, chars.peek()) {
                    ('\'', Some('\'')) => {
                        out.push('\'');
                        chars.next();
                    }
                    ('\'', _) => return Some(out),
                    _ => out.push(c),
                }
            }
            None
        }
        None => Some(value.split(' ').next()?.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_parse_and_order_as_postgres_writes_them() {
        let a: Lsn = "0/2000028".parse().unwrap();
        let b: Lsn = "1/0".parse().unwrap();
        assert!(a < b);
        assert_eq!(a.to_string(), "0/2000028");
        assert_eq!(b.0, 1 << 32);
        assert!("2000028".parse::<Lsn>().is_err());
    }

    #[test]
    fn the_manifest_gives_the_backups_wal_range() {
        let manifest = r#"{ "PostgreSQL-Backup-Manifest-Version": 1, "Files": [],
            "WAL-Ranges": [ { "Timeline": 1, "Start-LSN": "0/5000028", "End-LSN": "0/5000138" } ] }"#;
        let range = BackupRange::parse(manifest).unwrap();
        assert_eq!(range.start.to_string(), "0/5000028");
        assert_eq!(range.place("0/5000028".parse().unwrap()), Place::BeforeBackup);
        assert_eq!(range.place("0/5000100".parse().unwrap()), Place::DuringBackup);
        assert_eq!(range.place("0/5000138".parse().unwrap()), Place::DuringBackup);
        assert_eq!(range.place("0/5000139".parse().unwrap()), Place::AfterBackup);
        assert!(BackupRange::parse("{}").is_err());
    }

    #[test]
    fn each_insert_takes_the_lsn_of_its_transactions_commit() {
        let row = |lsn: &str, data: &str| (lsn.to_owned(), data.to_owned());
        let rows = [
            row("0/10", "BEGIN 700"),
            row("0/11", "table public.users: INSERT: id[uuid]:'9f' email[character varying]:'o''neil@x.test' name[text]:'O'"),
            row("0/12", "table public.sessions: INSERT: email[text]:'elsewhere@x.test'"),
            row("0/20", "COMMIT 700"),
            row("0/21", "BEGIN 701"),
            row("0/22", "table public.users: INSERT: id[integer]:7 old_email[text]:'no@x.test' email[text]:'b@x.test'"),
            row("0/30", "COMMIT 701"),
        ];
        let by_key = commits_by_key(&rows, "users", "email").unwrap();
        assert_eq!(by_key.len(), 2, "{by_key:?}");
        assert_eq!(by_key["o'neil@x.test"].to_string(), "0/20");
        assert_eq!(by_key["b@x.test"].to_string(), "0/30");
        let ids = commits_by_key(&rows, "users", "id").unwrap();
        assert_eq!(ids["7"].to_string(), "0/30");
    }

    #[test]
    fn an_undecoded_write_is_placed_only_where_certain() {
        let range = BackupRange {
            start: Lsn(100),
            end: Lsn(200),
        };
        let commits = Commits::new(1.0, 9.0, HashMap::from([("d".to_owned(), Lsn(150))]));
        assert_eq!(commits.place(&range, "d", 5.0, 5.1), Place::DuringBackup);
        assert_eq!(commits.place(&range, "early", 0.5, 0.6), Place::BeforeBackup);
        assert_eq!(commits.place(&range, "late", 9.0, 9.1), Place::AfterBackup);
        assert_eq!(commits.place(&range, "slow", 0.9, 9.5), Place::InDoubt);
        assert_eq!(commits.place(&range, "lost?", 5.0, 5.1), Place::InDoubt);
    }
}
