//! The drill report's data: each cycle's outcome, the checks against the seed's RTO
//! and RPO, the 100 GB projection, and per cycle a timeline of what the load saw with
//! every phase marked. Rendered by [`crate::report::drill_markdown`] and
//! [`crate::report::drill_html`].

use serde::{Deserialize, Serialize};

use super::redis::RedisKillOutcome;
use super::restore::{Policy, RestoreOutcome, REPLAY_PHASE, RESTORE_PHASE};
use crate::metrics::Measurements;
use crate::policy;

pub const DRILL_SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DrillKind {
    Restore,
    RedisKill,
}

/// One check of a drill against what the seed promises.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub pass: bool,
    pub observed: String,
    pub limit: String,
}

/// A second of a cycle's load.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Second {
    pub second: u64,
    pub ok: u64,
    pub errors: u64,
    /// The slowest step's p95 in that second.
    pub p95_ms: f64,
}

/// One cycle (a backup policy, an fsync policy) as the load saw it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timeline {
    pub label: String,
    pub seconds: Vec<Second>,
    /// `(seconds into the load, what happened)`.
    pub marks: Vec<(f64, String)>,
}

/// The measured backup and restore rates applied to the seed's production database.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Projection {
    pub database_bytes: u64,
    pub backup_rate_mb_s: f64,
    pub restore_rate_mb_s: f64,
    pub backup_s: f64,
    /// Copying the base backup back, plus the other phases as measured.
    pub rto_s: f64,
    pub rto_limit_s: f64,
    pub within_rto: bool,
    /// WAL archiving: replaying a day of WAL written at this drill's rate, from the
    /// measured replay (server start-up included) over the seconds of writes it
    /// replayed. What a restore from a day-old base backup adds to the RTO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_wal_replay_s: Option<f64>,
    /// This drill's acknowledged writes per second, which that figure assumes all day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes_per_s: Option<f64>,
    /// What the projection leaves out.
    pub caveat: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DrillReport {
    pub schema_version: u32,
    pub kind: DrillKind,
    pub run_id: String,
    pub scenario: String,
    pub started_at: String,
    pub users: usize,
    pub pass: bool,
    pub interrupted: bool,
    pub checks: Vec<Check>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restores: Vec<RestoreOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<Projection>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redis: Vec<RedisKillOutcome>,
    pub timelines: Vec<Timeline>,
    /// Why a cycle could not finish, when one could not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl DrillReport {
    /// Verdict from the checks: every one holds, nothing failed, nothing was cut short.
    pub fn settle(&mut self) {
        self.pass = !self.interrupted && self.errors.is_empty() && self.checks.iter().all(|c| c.pass);
    }
}

/// Seconds as `1h 02m`, `3m 05s` or `4.2 s`.
pub fn duration_text(seconds: f64) -> String {
    let whole = seconds.round() as u64;
    match whole {
        0..=59 => format!("{seconds:.1} s"),
        60..=3599 => format!("{}m {:02}s", whole / 60, whole % 60),
        _ => format!("{}h {:02}m", whole / 3600, (whole % 3600) / 60),
    }
}

/// The checks of a restore cycle: RTO and RPO against the seed, integrity, and for WAL
/// archiving, nothing acknowledged lost.
pub fn restore_checks(outcome: &RestoreOutcome) -> Vec<Check> {
    let policy = outcome.policy.name();
    let mut checks = vec![
        Check {
            name: format!("{policy}: RTO"),
            pass: outcome.rto_s.is_some_and(|s| s <= policy::RTO_S),
            observed: outcome
                .rto_s
                .map_or("no successful request after the restore".into(), duration_text),
            limit: format!("<= {}", duration_text(policy::RTO_S)),
        },
        Check {
            name: format!("{policy}: RPO"),
            pass: outcome.rpo.window_s <= policy::RPO_S,
            observed: format!(
                "{} of {} acknowledged writes lost, window {}",
                outcome.rpo.lost,
                outcome.rpo.acknowledged,
                duration_text(outcome.rpo.window_s)
            ),
            limit: format!("<= {}", duration_text(policy::RPO_S)),
        },
        Check {
            name: format!("{policy}: integrity (pg_amcheck)"),
            pass: outcome.integrity_ok,
            observed: if outcome.integrity_ok {
                "no corruption"
            } else {
                "corruption found"
            }
            .into(),
            limit: "no corruption".into(),
        },
    ];
    if outcome.policy == Policy::Wal {
        checks.push(Check {
            name: "wal: acknowledged writes lost".into(),
            pass: outcome.rpo.lost == 0,
            observed: outcome.rpo.lost.to_string(),
            limit: "0".into(),
        });
    }
    checks
}

/// The check of a Redis kill: `always` loses nothing, `everysec` at most the last 2 s.
pub fn redis_check(outcome: &RedisKillOutcome) -> Check {
    let (pass, limit) = match outcome.appendfsync.as_str() {
        "always" => (outcome.lost == 0, "0 lost".to_string()),
        _ => (
            outcome.lost_oldest_s.is_none_or(|s| s <= 2.0),
            "only writes of the last 2 s before the kill".to_string(),
        ),
    };
    let observed = match outcome.lost_oldest_s {
        None => format!("0 of {} held tokens lost", outcome.held),
        Some(oldest) => format!(
            "{} of {} held tokens lost, acknowledged {:.2}..{:.2} s before the kill",
            outcome.lost,
            outcome.held,
            outcome.lost_newest_s.unwrap_or(oldest),
            oldest
        ),
    };
    Check {
        name: format!("appendfsync {}: lost refresh tokens", outcome.appendfsync),
        pass,
        observed,
        limit,
    }
}

/// The projection's RTO against the seed's 4 h.
pub fn projection_check(projection: &Projection) -> Check {
    Check {
        name: "projected RTO for the 100 GB production database".into(),
        pass: projection.within_rto,
        observed: duration_text(projection.rto_s),
        limit: format!("<= {}", duration_text(projection.rto_limit_s)),
    }
}

/// The seed's production database (100 GB disk) restored at the measured rates.
pub fn projection(outcome: &RestoreOutcome) -> Projection {
    let bytes = policy::PRODUCTION_DATABASE_BYTES;
    let copy_s = outcome
        .phases
        .iter()
        .find(|p| p.name == RESTORE_PHASE)
        .map_or(0.0, |p| p.seconds());
    let other_s: f64 = outcome.phases.iter().map(|p| p.seconds()).sum::<f64>() - copy_s;
    let rto_s = bytes as f64 / outcome.restore_rate_bytes_s + other_s;
    let replayed_s = outcome.destroyed_s - outcome.backup_finished_s;
    let replay = outcome
        .phases
        .iter()
        .find(|p| p.name == REPLAY_PHASE)
        .filter(|_| outcome.policy == Policy::Wal && replayed_s > 0.0);
    Projection {
        day_of_wal_replay_s: replay.map(|p| p.seconds() / replayed_s * 86_400.0),
        writes_per_s: replay.map(|_| outcome.rpo.acknowledged_after_backup as f64 / replayed_s),
        database_bytes: bytes,
        backup_rate_mb_s: outcome.backup_rate_bytes_s / 1e6,
        restore_rate_mb_s: outcome.restore_rate_bytes_s / 1e6,
        backup_s: bytes as f64 / outcome.backup_rate_bytes_s,
        rto_s,
        rto_limit_s: policy::RTO_S,
        within_rto: rto_s <= policy::RTO_S,
        caveat: format!(
            "rates measured on a {} MB database, local disk, mostly from the page cache: a 100 GB \
             restore from backup storage is slower; replaying a day of WAL is not included",
            outcome.backup_bytes / 1_000_000
        ),
    }
}

/// Per second of `measured`: successes, errors and the slowest step's p95.
pub fn seconds(measured: &Measurements) -> Vec<Second> {
    let mut by_second = std::collections::BTreeMap::<u64, Second>::new();
    for step in &measured.steps {
        for s in step.series() {
            let slot = by_second.entry(s.second).or_insert_with(|| Second {
                second: s.second,
                ..Second::default()
            });
            slot.ok += s.requests - s.errors;
            slot.errors += s.errors;
            slot.p95_ms = slot.p95_ms.max(s.p95_us as f64 / 1000.0);
        }
    }
    by_second.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::{Phase, Rpo};

    fn restored(policy: Policy, lost: u64, window_s: f64) -> RestoreOutcome {
        let phase = |name: &str, start_s: f64, end_s: f64| Phase {
            name: name.into(),
            start_s,
            end_s,
        };
        RestoreOutcome {
            policy,
            backup_started_s: 10.0,
            backup_finished_s: 10.5,
            backup_bytes: 50_000_000,
            backup_start_lsn: "0/5000028".into(),
            backup_end_lsn: "0/5000138".into(),
            destroyed_s: 20.5,
            phases: vec![
                phase("stop backend", 20.5, 20.6),
                phase("restore base backup", 20.6, 20.7),
            ],
            rto_s: Some(3.0),
            rpo: Rpo {
                acknowledged: 100,
                lost,
                window_s,
                ..Rpo::default()
            },
            integrity_ok: true,
            backup_rate_bytes_s: 100e6,
            restore_rate_bytes_s: 500e6,
        }
    }

    #[test]
    fn wal_archiving_must_lose_nothing_and_every_policy_meets_the_seeds_rto_and_rpo() {
        let checks = restore_checks(&restored(Policy::Wal, 1, 0.2));
        assert_eq!(checks.len(), 4);
        assert!(checks[0].pass && checks[1].pass && checks[2].pass);
        assert!(!checks[3].pass, "WAL archiving lost a write");
        let base = restore_checks(&restored(Policy::Base, 40, 10.0));
        assert_eq!(base.len(), 3);
        assert!(base.iter().all(|c| c.pass), "{base:?}");
        let stale = restore_checks(&restored(Policy::Base, 40, 25.0 * 3600.0));
        assert!(!stale[1].pass && stale[1].limit == "<= 24h 00m");
    }

    #[test]
    fn the_projection_scales_the_copy_and_keeps_the_other_phases() {
        let mut wal = restored(Policy::Wal, 0, 0.0);
        wal.phases.push(Phase {
            name: REPLAY_PHASE.into(),
            start_s: 20.7,
            end_s: 21.7,
        });
        wal.rpo.acknowledged_after_backup = 50;
        let projected = projection(&wal);
        // 100 GB at 500 MB/s = 200 s, plus 0.1 s of stopping the backend and 1 s of replay.
        assert!((projected.rto_s - 201.1).abs() < 1e-6, "{projected:?}");
        // 1 s of replay for the 10 s of writes between the backup and T2: 2.4 h a day.
        assert!((projected.day_of_wal_replay_s.unwrap() - 8_640.0).abs() < 1e-6);
        assert_eq!(projected.writes_per_s, Some(5.0));
        assert!(projection(&restored(Policy::Base, 0, 0.0))
            .day_of_wal_replay_s
            .is_none());
        assert!((projected.backup_s - 1000.0).abs() < 1e-6);
        assert!(projected.within_rto);
    }

    #[test]
    fn everysec_may_lose_the_last_two_seconds_and_always_nothing() {
        let mut outcome = RedisKillOutcome {
            appendfsync: "everysec".into(),
            killed_s: 10.0,
            phases: Vec::new(),
            held: 20,
            in_doubt: 1,
            lost: 2,
            lost_oldest_s: Some(1.5),
            lost_newest_s: Some(0.2),
            acknowledged_last_2s: 30,
            accepted: 17,
            failed_requests: 5,
        };
        assert!(redis_check(&outcome).pass);
        outcome.lost_oldest_s = Some(2.5);
        assert!(!redis_check(&outcome).pass);
        outcome.appendfsync = "always".into();
        assert!(!redis_check(&outcome).pass);
        outcome.lost = 0;
        outcome.lost_oldest_s = None;
        assert!(redis_check(&outcome).pass);
        assert_eq!(duration_text(4.0 * 3600.0), "4h 00m");
        assert_eq!(duration_text(125.0), "2m 05s");
    }
}
