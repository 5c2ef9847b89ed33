//! The Postgres pool, sized as the seed sizes it, and the migrations run at start-up.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::PgPool;

use crate::config::DatabaseSettings;

/// How long a request waits for a free connection before it fails with 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle connections above the idle floor are closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects lazily: the pool opens connections as requests need them, up to
/// `max_open`, and keeps `max_idle` of them open when idle. (Go's `SetMaxIdleConns`
/// caps idle connections; sqlx keeps a floor instead, which matches it once warm.)
pub fn pool(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    let ssl_mode: PgSslMode = settings
        .sslmode
        .parse()
        .map_err(|e| anyhow::anyhow!("DB_SSLMODE={:?}: {e}", settings.sslmode))?;
    let options = PgConnectOptions::new()
        .host(&settings.host)
        .port(settings.port)
        .username(&settings.user)
        .password(&settings.password.0)
        .database(&settings.name)
        .ssl_mode(ssl_mode)
        .application_name("karigar-backend");
    Ok(PgPoolOptions::new()
        .max_connections(settings.max_open)
        .min_connections(settings.max_idle.min(settings.max_open))
        .max_lifetime(settings.max_lifetime)
        .idle_timeout(IDLE_TIMEOUT)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options))
}

/// Applies the embedded migrations; concurrent instances serialise on sqlx's lock.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}
