//! What every handler shares: the pool, Redis, keys and settings.

use std::sync::Arc;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ConnectionAddr, ConnectionInfo, RedisConnectionInfo};
use sqlx::PgPool;

use crate::auth::tokens::TokenKeys;
use crate::config::{RedisSettings, Settings};
use crate::marketplace::CacheStats;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    /// One multiplexed connection that reconnects on its own.
    pub redis: ConnectionManager,
    pub keys: Arc<TokenKeys>,
    pub settings: Arc<Settings>,
    pub cache: Arc<CacheStats>,
}

impl AppState {
    /// Builds the pool and connects to Redis; fails fast when Redis does not answer.
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        let db = crate::db::pool(&settings.database)?;
        let redis = redis::Client::open(redis_info(&settings.redis))?;
        let redis = ConnectionManager::new_with_config(redis, redis_timeouts()).await?;
        Ok(Self {
            db,
            redis,
            keys: Arc::new(TokenKeys::new(&settings.jwt)),
            settings: Arc::new(settings),
            cache: Arc::new(CacheStats::default()),
        })
    }
}

/// go-redis's defaults, as the seed's Go backend has them: a dial gives up after 5 s
/// and a command after 3 s, so that a Redis that died answers requests with an error
/// instead of holding them, and reconnection (retried with backoff up to 1 s apart)
/// resumes once it is back.
fn redis_timeouts() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(5))
        .set_response_timeout(Duration::from_secs(3))
        .set_max_delay(1_000)
}

fn redis_info(settings: &RedisSettings) -> ConnectionInfo {
    let password = Some(settings.password.0.clone()).filter(|p| !p.is_empty());
    ConnectionInfo {
        addr: ConnectionAddr::Tcp(settings.host.clone(), settings.port),
        redis: RedisConnectionInfo {
            db: settings.db,
            password,
            ..Default::default()
        },
    }
}
