//! What every handler shares: the pool, Redis, keys and settings.

use std::sync::Arc;

use redis::aio::ConnectionManager;
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
        let redis = ConnectionManager::new(redis).await?;
        Ok(Self {
            db,
            redis,
            keys: Arc::new(TokenKeys::new(&settings.jwt)),
            settings: Arc::new(settings),
            cache: Arc::new(CacheStats::default()),
        })
    }
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
