//! Resilience drills under load: what users lose when the database is destroyed and
//! restored by the seed's procedure, or Redis is killed and restarted on its
//! append-only file. Each drill runs the scenario's load against a [`Rig`] (a local
//! stack whose parts it may destroy), logs every acknowledged write in a [`Journal`],
//! and reports what the stores kept, with a verdict against the seed's RTO and RPO.
//!
//! - `journal`: the harness's log of every acknowledged write
//! - `commits`: where each write's commit fell in the WAL, against the backup's LSNs
//! - `restore`: `drill restore`: base backup, destruction, the recovery procedure, RTO/RPO
//! - `rpo`: the restore drill's RPO, write by write against what the restore kept
//! - `redis`: `drill redis-kill`: SIGKILL and restart on the AOF, refresh tokens tried
//! - `report`: the drill report (JSON, Markdown, HTML with its timeline)
//!
//! [`Rig`]: crate::stack::Rig

mod commits;
mod journal;
mod redis;
mod report;
mod restore;
mod rpo;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use journal::{Ack, Journal};
pub use redis::{kill as redis_kill_now, recover as redis_recover, RedisKillOutcome, RedisTiming};
pub use report::{
    duration_text, projection, projection_check, redis_check, restore_checks, seconds, Check, DrillKind,
    DrillReport, Projection, Second, Timeline, DRILL_SCHEMA_VERSION,
};
pub use restore::{postgres_settings, run as restore_cycle, Policy, RestoreOutcome, RestoreTiming};
pub use rpo::Rpo;

use crate::error::Result;
use crate::metrics::Collector;

/// A Postgres error as the stack error a drill reports.
fn db_error(e: sqlx::Error) -> crate::error::Error {
    crate::error::Error::stack(format!("postgres: {e}"))
}

/// A SQL identifier, quoted.
fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// One step of a recovery procedure, on the load's clock.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    pub start_s: f64,
    pub end_s: f64,
}

impl Phase {
    pub fn seconds(&self) -> f64 {
        self.end_s - self.start_s
    }
}

/// The load's clock, as a drill acts on it.
pub struct Clock {
    pub collector: Arc<Collector>,
    /// `drill restore (wal)`, said before every line on stderr.
    pub label: String,
    /// Say nothing.
    pub quiet: bool,
}

impl Clock {
    pub fn now_s(&self) -> f64 {
        self.collector.elapsed().as_secs_f64()
    }

    /// Sleeps until `at` on the load's clock (at once if it has passed).
    pub async fn sleep_until(&self, at: Duration) {
        tokio::time::sleep(at.saturating_sub(self.collector.elapsed())).await;
    }

    pub fn say(&self, what: &str) {
        if self.quiet {
            return;
        }
        crate::console::status(&format!("{}: {what} at {:.1}s", self.label, self.now_s()));
    }
}

/// Times each step of a procedure in turn.
pub struct Phases<'a> {
    clock: &'a Clock,
    done: Vec<Phase>,
}

impl<'a> Phases<'a> {
    pub fn new(clock: &'a Clock) -> Self {
        Self {
            clock,
            done: Vec::new(),
        }
    }

    /// Runs `step`, timed as `name`; a failing step ends the procedure with its error.
    pub async fn step<T>(&mut self, name: &str, step: impl Future<Output = Result<T>>) -> Result<T> {
        let start_s = self.clock.now_s();
        let result = step.await;
        let end_s = self.clock.now_s();
        self.clock.say(&format!(
            "{name}: {} in {:.2}s",
            if result.is_ok() { "done" } else { "FAILED" },
            end_s - start_s
        ));
        self.done.push(Phase {
            name: name.to_owned(),
            start_s,
            end_s,
        });
        result
    }

    pub fn done(self) -> Vec<Phase> {
        self.done
    }
}
