//! Settings from the environment variables the seed names, plus a few knobs the
//! reference stack adds for load testing (bcrypt cost, rate limits, pool sizes).

use std::time::Duration;

/// Why the environment could not be turned into [`Settings`].
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is required")]
    Missing { name: &'static str },
    #[error("{name}={value:?} is invalid: {why}")]
    Invalid {
        name: &'static str,
        value: String,
        why: String,
    },
}

/// A secret that never shows up in `Debug` output or logs.
#[derive(Clone, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Everything the backend needs to start, resolved once at start-up.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Address to listen on (`SERVER_HOST`, `SERVER_PORT`); port 0 picks a free one.
    pub host: String,
    pub port: u16,
    /// `SERVER_ENVIRONMENT`: only reported, the behaviour does not change with it.
    pub environment: String,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub jwt: JwtSettings,
    /// bcrypt cost (`BCRYPT_COST`, default 10 as in production). Raising it is how a
    /// deliberately slower build is made for regression-gate tests.
    pub bcrypt_cost: u32,
    pub rate_limit: RateLimitSettings,
    /// How long search results stay in the Redis cache (`SEARCH_CACHE_TTL`, 0 = off).
    pub search_cache_ttl: Duration,
    /// `LOG_LEVEL`: `info` (every request), `error` or `off`.
    pub log_level: String,
    /// `LOG_FORMAT`: `json` (the seed's JSON lines, default) or `gin` (Gin's default
    /// logger's plain-text access lines, which carry no request id).
    pub log_format: String,
}

#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    pub name: String,
    pub sslmode: String,
    /// Open connections per instance (`DB_MAX_OPEN_CONNS`, seed: 25).
    pub max_open: u32,
    /// Connections kept open while idle (`DB_MAX_IDLE_CONNS`, seed: 5).
    pub max_idle: u32,
    /// A connection is replaced after this long (`DB_CONN_MAX_LIFETIME`, seed: 5 min).
    pub max_lifetime: Duration,
}

#[derive(Clone, Debug)]
pub struct RedisSettings {
    pub host: String,
    pub port: u16,
    pub password: Secret,
    pub db: i64,
}

#[derive(Clone, Debug)]
pub struct JwtSettings {
    pub secret: Secret,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

/// Auth rate limiting. Off by default: a load test from one address would trip it at
/// once, and a capacity number measured behind it would be the limit, not the stack.
#[derive(Clone, Debug)]
pub struct RateLimitSettings {
    /// `RATE_LIMIT_ENABLED` (`true`/`false`).
    pub enabled: bool,
    /// `RATE_LIMIT_AUTH_PER_MINUTE`: requests per client per minute on `/api/v1/auth/*`.
    pub auth_per_minute: u32,
    /// `RATE_LIMIT_SEARCH_PER_MINUTE`: per client on `/services` and `/providers`.
    pub search_per_minute: u32,
    /// `RATE_LIMIT_API_PER_MINUTE`: per user on the other API routes.
    pub api_per_minute: u32,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        Ok(Self {
            host: env.string("SERVER_HOST", "0.0.0.0"),
            port: env.parse("SERVER_PORT", 8080)?,
            environment: env.string("SERVER_ENVIRONMENT", "development"),
            database: DatabaseSettings {
                host: env.string("DB_HOST", "localhost"),
                port: env.parse("DB_PORT", 5432)?,
                user: env.string("DB_USER", "postgres"),
                password: Secret(env.string("DB_PASSWORD", "")),
                name: env.string("DB_NAME", "karigar"),
                sslmode: env.string("DB_SSLMODE", "disable"),
                max_open: env.parse("DB_MAX_OPEN_CONNS", 25)?,
                max_idle: env.parse("DB_MAX_IDLE_CONNS", 5)?,
                max_lifetime: env.duration("DB_CONN_MAX_LIFETIME", "5m")?,
            },
            redis: RedisSettings {
                host: env.string("REDIS_HOST", "localhost"),
                port: env.parse("REDIS_PORT", 6379)?,
                password: Secret(env.string("REDIS_PASSWORD", "")),
                db: env.parse("REDIS_DB", 0)?,
            },
            jwt: JwtSettings {
                secret: Secret(jwt_secret(&env)?),
                access_ttl: env.duration("JWT_ACCESS_EXPIRY", "15m")?,
                refresh_ttl: env.duration("JWT_REFRESH_EXPIRY", "7d")?,
            },
            bcrypt_cost: bcrypt_cost(&env)?,
            rate_limit: RateLimitSettings {
                enabled: env.parse("RATE_LIMIT_ENABLED", false)?,
                auth_per_minute: env.parse("RATE_LIMIT_AUTH_PER_MINUTE", 10)?,
                search_per_minute: env.parse("RATE_LIMIT_SEARCH_PER_MINUTE", 30)?,
                api_per_minute: env.parse("RATE_LIMIT_API_PER_MINUTE", 100)?,
            },
            search_cache_ttl: env.duration("SEARCH_CACHE_TTL", "60s")?,
            log_level: env.string("LOG_LEVEL", "info"),
            log_format: env.string("LOG_FORMAT", "json"),
        })
    }
}

fn jwt_secret(env: &Env<'_>) -> Result<String, ConfigError> {
    let secret = env
        .get("JWT_SECRET")
        .ok_or(ConfigError::Missing { name: "JWT_SECRET" })?;
    if secret.chars().count() < 32 {
        return Err(ConfigError::Invalid {
            name: "JWT_SECRET",
            value: "***".into(),
            why: "must be at least 32 characters".into(),
        });
    }
    Ok(secret)
}

/// The production backend's bcrypt cost (the bcrypt crate's own default is 12).
pub const BCRYPT_COST: u32 = 10;

fn bcrypt_cost(env: &Env<'_>) -> Result<u32, ConfigError> {
    let cost = env.parse("BCRYPT_COST", BCRYPT_COST)?;
    if !(4..=31).contains(&cost) {
        return Err(ConfigError::Invalid {
            name: "BCRYPT_COST",
            value: cost.to_string(),
            why: "bcrypt accepts costs from 4 to 31".into(),
        });
    }
    Ok(cost)
}

/// Typed access to one environment, with defaults.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.is_empty())
    }

    fn string(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_string())
    }

    fn parse<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                why: e.to_string(),
                value,
            }),
        }
    }

    fn duration(&self, name: &'static str, default: &str) -> Result<Duration, ConfigError> {
        let value = self.string(name, default);
        humantime::parse_duration(&value).map_err(|e| ConfigError::Invalid {
            name,
            why: e.to_string(),
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| env.get(name).cloned())
    }

    const SECRET: (&str, &str) = ("JWT_SECRET", "0123456789abcdef0123456789abcdef");

    #[test]
    fn defaults_follow_the_seed() {
        let s = settings(&[SECRET]).unwrap();
        assert_eq!(s.database.max_open, 25);
        assert_eq!(s.database.max_idle, 5);
        assert_eq!(s.database.max_lifetime, Duration::from_secs(300));
        assert_eq!(s.jwt.access_ttl, Duration::from_secs(15 * 60));
        assert_eq!(s.jwt.refresh_ttl, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(s.bcrypt_cost, 10);
        assert!(!s.rate_limit.enabled);
    }

    #[test]
    fn short_or_missing_jwt_secret_is_rejected() {
        assert!(matches!(settings(&[]), Err(ConfigError::Missing { .. })));
        let short = settings(&[("JWT_SECRET", "too-short")]).unwrap_err();
        assert!(short.to_string().contains("at least 32"));
    }

    #[test]
    fn bad_numbers_name_the_variable() {
        let err = settings(&[SECRET, ("DB_PORT", "five")]).unwrap_err();
        assert!(err.to_string().starts_with("DB_PORT=\"five\""), "{err}");
        let err = settings(&[SECRET, ("BCRYPT_COST", "40")]).unwrap_err();
        assert!(err.to_string().contains("BCRYPT_COST"), "{err}");
    }
}
