//! `drill restore` and `drill redis-kill`.

use std::time::Duration;

use clap::{Args, Subcommand};

use super::*;

const DRILL_EXIT_CODES: &str = "Exit codes: 0 every check held, 1 internal error, 2 usage or \
configuration error, 3 a check failed (RTO, RPO, integrity, writes lost), 5 the stack failed to start \
or a recovery step failed, 130 interrupted (partial report written)";

#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// Under a write load, take a base backup (pg_basebackup, with WAL streamed to an
    /// archive), destroy Postgres (SIGKILL, data directory removed), follow the seed's
    /// recovery procedure, and report RTO with its phases and RPO write by write, for
    /// WAL archiving and for the base backup alone, with a 100 GB projection.
    #[command(after_help = DRILL_EXIT_CODES)]
    Restore(Box<RestoreArgs>),
    /// Under a load that rotates refresh tokens, SIGKILL Redis, restart it on its AOF
    /// and try every refresh token the users hold: rejected ones are lost writes.
    #[command(after_help = DRILL_EXIT_CODES)]
    RedisKill(Box<RedisKillArgs>),
}

/// What every drill takes.
#[derive(Debug, Args)]
pub struct DrillArgs {
    /// A scenario whose load writes (./scenarios/NAME.toml, built in, or a path).
    #[arg(default_value = "signup")]
    pub scenario: String,

    /// Virtual users (default: the scenario's).
    #[arg(long)]
    pub users: Option<usize>,

    /// The steps whose 2xx acknowledges a write (comma-separated; default: restore,
    /// `register`; redis-kill, every step that captures the key).
    #[arg(long, value_delimiter = ',')]
    pub write: Vec<String>,

    /// The session variable naming each write (default: restore `email`, redis-kill
    /// `refresh_token`).
    #[arg(long)]
    pub key: Option<String>,

    #[command(flatten)]
    pub reports: ReportDir,

    /// Never install missing Postgres or Redis packages.
    #[arg(long)]
    pub no_install: bool,

    #[command(flatten)]
    pub progress: Quiet,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub drill: DrillArgs,

    /// Which backup policies to drill, one cycle each.
    #[arg(long, value_enum, default_value = "both")]
    pub policy: PolicyChoice,

    /// When the base backup starts, into the load (T1).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub backup_at: Duration,

    /// How long after the backup Postgres is destroyed (T2).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub destroy_after: Duration,

    /// How long the load goes on once the backend is back.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub after: Duration,

    /// `TABLE.COLUMN` where each write's key must be found after the restore.
    #[arg(long, default_value = "users.email")]
    pub check: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyChoice {
    Both,
    Wal,
    Base,
}

#[derive(Debug, Args)]
pub struct RedisKillArgs {
    #[command(flatten)]
    pub drill: DrillArgs,

    /// Which `appendfsync` settings to drill, one cycle each (the seed's: everysec).
    #[arg(long, value_enum, default_value = "both")]
    pub appendfsync: FsyncChoice,

    /// When Redis is killed, into the load.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub kill_at: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FsyncChoice {
    Both,
    Everysec,
    Always,
}
