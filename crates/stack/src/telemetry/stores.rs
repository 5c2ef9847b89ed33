//! Postgres connections from `pg_stat_activity` and Redis `INFO`, read from the outside
//! so they work for any backend.

use std::collections::BTreeMap;

use crate::samples::{DbSample, RedisSample};
use sqlx::{Connection, PgConnection};

/// Reads `pg_stat_activity` over one connection of its own (not counted).
pub(super) struct PostgresProbe {
    url: String,
    connection: Option<PgConnection>,
}

impl PostgresProbe {
    pub(super) fn new(url: String) -> Self {
        Self {
            url,
            connection: None,
        }
    }

    /// `max_connections` of the server.
    pub(super) async fn max_connections(&mut self) -> Option<u32> {
        let connection = self.connection().await?;
        let value: String = sqlx::query_scalar("SHOW max_connections")
            .fetch_one(connection)
            .await
            .ok()?;
        value.parse().ok()
    }

    pub(super) async fn sample(&mut self) -> Option<DbSample> {
        let connection = self.connection().await?;
        let rows: Result<Vec<(String, String, i64)>, _> = sqlx::query_as(
            "SELECT coalesce(host(client_addr), 'local'), coalesce(state, 'unknown'), count(*)
             FROM pg_stat_activity
             WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
             GROUP BY 1, 2",
        )
        .fetch_all(connection)
        .await;
        match rows {
            Ok(rows) => Some(tally(rows)),
            Err(_) => {
                self.connection = None;
                None
            }
        }
    }

    async fn connection(&mut self) -> Option<&mut PgConnection> {
        if self.connection.is_none() {
            self.connection = PgConnection::connect(&self.url).await.ok();
        }
        self.connection.as_mut()
    }
}

fn tally(rows: Vec<(String, String, i64)>) -> DbSample {
    let mut sample = DbSample::default();
    for (instance, state, count) in rows {
        let count = count as u32;
        *sample.per_instance.entry(instance).or_default() += count;
        sample.total += count;
        match state.as_str() {
            "active" => sample.active += count,
            "idle" => sample.idle += count,
            "idle in transaction" | "idle in transaction (aborted)" => sample.idle_in_transaction += count,
            _ => {}
        }
    }
    sample
}

pub(super) struct RedisProbe {
    client: Option<redis::Client>,
    connection: Option<redis::aio::MultiplexedConnection>,
}

impl RedisProbe {
    pub(super) fn new(url: &str) -> Self {
        Self {
            client: redis::Client::open(url).ok(),
            connection: None,
        }
    }

    pub(super) async fn sample(&mut self) -> Option<RedisSample> {
        if self.connection.is_none() {
            self.connection = self
                .client
                .as_ref()?
                .get_multiplexed_async_connection()
                .await
                .ok();
        }
        let connection = self.connection.as_mut()?;
        match redis::cmd("INFO").query_async::<String>(connection).await {
            Ok(info) => Some(parse_info(&info)),
            Err(_) => {
                self.connection = None;
                None
            }
        }
    }
}

fn parse_info(info: &str) -> RedisSample {
    let fields: BTreeMap<&str, &str> = info
        .lines()
        .filter_map(|line| line.trim_end().split_once(':'))
        .collect();
    let number = |name: &str| fields.get(name).and_then(|v| v.parse().ok()).unwrap_or(0);
    RedisSample {
        used_memory_bytes: number("used_memory"),
        maxmemory_bytes: number("maxmemory"),
        evicted_keys: number("evicted_keys"),
        keyspace_hits: number("keyspace_hits"),
        keyspace_misses: number("keyspace_misses"),
        connected_clients: number("connected_clients"),
        aof_enabled: fields.get("aof_enabled") == Some(&"1"),
        aof_ok: fields.get("aof_last_write_status") == Some(&"ok"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_tallied_by_instance_and_state() {
        let sample = tally(vec![
            ("10.0.0.2".into(), "active".into(), 3),
            ("10.0.0.2".into(), "idle".into(), 5),
            ("10.0.0.3".into(), "idle in transaction".into(), 1),
        ]);
        assert_eq!(
            (
                sample.total,
                sample.active,
                sample.idle,
                sample.idle_in_transaction
            ),
            (9, 3, 5, 1)
        );
        assert_eq!(sample.max_per_instance(), 8);
    }

    #[test]
    fn info_fields_are_read_by_exact_name() {
        let info = "used_memory:1000\r\nused_memory_rss:5000\r\nmaxmemory:536870912\r\nevicted_keys:2\r\n\
                    keyspace_hits:30\r\nkeyspace_misses:10\r\nconnected_clients:4\r\naof_enabled:1\r\n\
                    aof_last_write_status:ok\r\n";
        let s = parse_info(info);
        assert_eq!(
            (s.used_memory_bytes, s.maxmemory_bytes, s.evicted_keys),
            (1000, 536870912, 2)
        );
        assert_eq!(
            (s.keyspace_hits, s.keyspace_misses, s.connected_clients),
            (30, 10, 4)
        );
        assert!(s.aof_enabled && s.aof_ok);
    }
}
