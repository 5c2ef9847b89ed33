//! `drill redis-kill`: the load rotates refresh tokens (each one's id lives in Redis
//! until used once); Redis is SIGKILLed, the load stops with it, Redis starts again on
//! its append-only file, and every refresh token the harness holds is tried once.
//! A rejected token is an acknowledged write Redis lost: that user is logged out.
//!
//! A token whose user had a refresh in flight at the kill is in doubt (Redis may have
//! consumed it before dying without answering) and is counted apart.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::journal::Journal;
use super::{Clock, Phase, Phases};
use crate::error::Context as _;
use crate::error::{Error, Result};
use crate::stack::Rig;

/// When Redis is killed, on the load's clock.
#[derive(Clone, Debug)]
pub struct RedisTiming {
    pub kill_at: Duration,
}

/// What one kill found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RedisKillOutcome {
    pub appendfsync: String,
    pub killed_s: f64,
    pub phases: Vec<Phase>,
    /// Tokens the harness held at the kill (one per user), and of them in doubt.
    pub held: u64,
    pub in_doubt: u64,
    /// Acknowledged tokens Redis no longer had.
    pub lost: u64,
    /// Seconds from the earliest and the latest lost acknowledgement to the kill.
    pub lost_oldest_s: Option<f64>,
    pub lost_newest_s: Option<f64>,
    /// Writes acknowledged in the last 2 s before the kill: what `everysec` allows to lose.
    pub acknowledged_last_2s: u64,
    /// Refresh tokens (and in-doubt ones) the API accepted after the restart.
    pub accepted: u64,
    /// Requests of the load that failed from the kill to its end.
    pub failed_requests: u64,
}

/// Kills Redis at `timing.kill_at` and returns once the load must stop (at once: a
/// user refreshing after the restart would use up the token the drill tries).
pub async fn kill(rig: &mut Rig, timing: &RedisTiming, clock: &Clock) -> f64 {
    clock.sleep_until(timing.kill_at).await;
    let killed_s = clock.now_s();
    rig.kill_redis();
    clock.say("Redis killed (SIGKILL)");
    killed_s
}

/// After the load stopped: Redis restarted on its AOF, every held token tried once.
pub async fn recover(
    rig: &mut Rig,
    appendfsync: &str,
    killed_s: f64,
    clock: &Clock,
    journal: &Journal,
) -> Result<RedisKillOutcome> {
    let mut phases = Phases::new(clock);
    phases
        .step("restart Redis on its AOF", rig.restart_redis())
        .await?;
    let held = journal.held(killed_s);
    let backend = rig.backend_url();
    let answers = phases
        .step("try every held refresh token once", try_tokens(&backend, &held))
        .await?;
    let mut outcome = RedisKillOutcome {
        appendfsync: appendfsync.to_owned(),
        killed_s,
        phases: phases.done(),
        held: held.len() as u64,
        in_doubt: held.iter().filter(|(_, doubt)| *doubt).count() as u64,
        lost: 0,
        lost_oldest_s: None,
        lost_newest_s: None,
        acknowledged_last_2s: journal
            .acks()
            .iter()
            .filter(|a| a.at_s < killed_s && a.at_s >= killed_s - 2.0)
            .count() as u64,
        accepted: 0,
        failed_requests: 0,
    };
    for ((ack, in_doubt), accepted) in held.iter().zip(answers) {
        outcome.accepted += u64::from(accepted);
        if accepted || *in_doubt {
            continue;
        }
        outcome.lost += 1;
        let age = killed_s - ack.at_s;
        outcome.lost_oldest_s = Some(outcome.lost_oldest_s.map_or(age, |o: f64| o.max(age)));
        outcome.lost_newest_s = Some(outcome.lost_newest_s.map_or(age, |n: f64| n.min(age)));
    }
    Ok(outcome)
}

/// `POST /api/v1/auth/refresh` with each token: true when it was accepted (200), false
/// when refused (401); anything else is an error of the drill.
async fn try_tokens(backend: &str, held: &[(super::Ack, bool)]) -> Result<Vec<bool>> {
    let client = crate::client::base()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::Internal(e.into()))?;
    let url = format!("{backend}/api/v1/auth/refresh");
    let mut answers = Vec::with_capacity(held.len());
    for (ack, _) in held {
        let response = client
            .post(&url)
            .json(&serde_json::json!({ "refresh_token": ack.key }))
            .send()
            .await
            .stack_context(|| format!("after the restart, {url}"))?;
        answers.push(match response.status().as_u16() {
            200 => true,
            401 => false,
            other => {
                return Err(Error::stack(format!(
                    "after the restart, {url} answered {other}: {}",
                    response.text().await.unwrap_or_default()
                )))
            }
        });
    }
    Ok(answers)
}
