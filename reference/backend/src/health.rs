//! `GET /health` (liveness, the container health check) and `GET /health/detailed`
//! (dependency status, 503 when one is down).

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

/// A dependency that takes longer than this to answer counts as down.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "message": "Karigar API is running" }))
}

pub async fn detailed(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (database, redis) = tokio::join!(database(&state), redis(&state));
    let healthy = database["status"] == "up" && redis["status"] == "up";
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if healthy { "ok" } else { "degraded" },
        "environment": state.settings.environment,
                "database": database,
        "redis": redis,
        "cache": {
            "hits": state.cache.hits.load(std::sync::atomic::Ordering::Relaxed),
            "misses": state.cache.misses.load(std::sync::atomic::Ordering::Relaxed),
        },
    });
    (status, Json(body))
}

async fn database(state: &AppState) -> Value {
    let started = Instant::now();
    let ping = tokio::time::timeout(PING_TIMEOUT, sqlx::query("SELECT 1").execute(&state.db)).await;
    let size = state.db.size();
    let idle = state.db.num_idle() as u32;
    let pool = json!({
        "in_use": size.saturating_sub(idle),
        "idle": idle,
        "max": state.settings.database.max_open,
    });
    match ping {
        Ok(Ok(_)) => json!({ "status": "up", "ping_ms": ms(started), "pool": pool }),
        Ok(Err(e)) => json!({ "status": "down", "error": e.to_string(), "pool": pool }),
        Err(_) => json!({ "status": "down", "error": "ping timed out", "pool": pool }),
    }
}

async fn redis(state: &AppState) -> Value {
    let started = Instant::now();
    let mut conn = state.redis.clone();
    let info = tokio::time::timeout(
        PING_TIMEOUT,
        redis::cmd("INFO").arg("memory").query_async::<String>(&mut conn),
    )
    .await;
    match info {
        Ok(Ok(info)) => json!({
            "status": "up",
            "ping_ms": ms(started),
            "used_memory_bytes": info_field(&info, "used_memory"),
            "maxmemory_bytes": info_field(&info, "maxmemory"),
        }),
        Ok(Err(e)) => json!({ "status": "down", "error": e.to_string() }),
        Err(_) => json!({ "status": "down", "error": "ping timed out" }),
    }
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// A numeric field of a Redis `INFO` reply (`name:value` lines).
fn info_field(info: &str, name: &str) -> Option<u64> {
    info.lines()
        .filter_map(|line| line.trim_end().split_once(':'))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| value.parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn info_field_reads_exact_names() {
        let info = "# Memory\r\nused_memory:1024\r\nused_memory_rss:4096\r\nmaxmemory:0\r\n";
        assert_eq!(super::info_field(info, "used_memory"), Some(1024));
        assert_eq!(super::info_field(info, "maxmemory"), Some(0));
        assert_eq!(super::info_field(info, "missing"), None);
    }
}
