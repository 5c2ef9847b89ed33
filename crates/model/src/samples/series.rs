//! Named series over the samples, in base units (fractions for percentages, µs for
//! latency, plain counts), and the aggregates SLOs take of them.

use super::{RedisSample, Sample, Telemetry};

/// Series names, as SLOs write them.
pub const SERIES: &str = "backend.cpu, backend.memory, db_connections, redis.memory, redis.evicted_keys, \
                          redis.hit_ratio, redis.clients, health, health_detailed, in_flight";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesName {
    /// The busiest instance's CPU, as a fraction of its limit.
    BackendCpu,
    /// The largest instance's memory, as a fraction of its limit.
    BackendMemory,
    /// Connections of the busiest instance (the seed allows 25).
    DbConnections,
    /// Redis used memory as a fraction of `maxmemory`.
    RedisMemory,
    /// Keys evicted since the load started.
    RedisEvictedKeys,
    /// Keyspace hits over lookups since the load started.
    RedisHitRatio,
    RedisClients,
    /// `GET /health` latency (µs).
    Health,
    /// `GET /health/detailed` latency (µs).
    HealthDetailed,
    /// Peak requests in flight in the generator (a queue depth proxy).
    InFlight,
}

/// What a series measures, which decides the units an SLO may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesKind {
    Fraction,
    Count,
    Latency,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Aggregate {
    Max,
    Min,
    Mean,
    Last,
    /// A quantile in 0..=1 over the per-second values.
    Percentile(f64),
}

impl SeriesName {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "backend.cpu" => Self::BackendCpu,
            "backend.memory" => Self::BackendMemory,
            "db_connections" => Self::DbConnections,
            "redis.memory" => Self::RedisMemory,
            "redis.evicted_keys" => Self::RedisEvictedKeys,
            "redis.hit_ratio" => Self::RedisHitRatio,
            "redis.clients" => Self::RedisClients,
            "health" => Self::Health,
            "health_detailed" => Self::HealthDetailed,
            "in_flight" => Self::InFlight,
            _ => return None,
        })
    }

    pub fn kind(self) -> SeriesKind {
        match self {
            Self::BackendCpu | Self::BackendMemory | Self::RedisMemory | Self::RedisHitRatio => {
                SeriesKind::Fraction
            }
            Self::Health | Self::HealthDetailed => SeriesKind::Latency,
            Self::DbConnections | Self::RedisEvictedKeys | Self::RedisClients | Self::InFlight => {
                SeriesKind::Count
            }
        }
    }
}

impl Aggregate {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "max" => Self::Max,
            "min" => Self::Min,
            "mean" | "avg" => Self::Mean,
            "last" => Self::Last,
            _ => {
                let percent: f64 = text.strip_prefix('p')?.parse().ok()?;
                if !(0.0..=100.0).contains(&percent) {
                    return None;
                }
                Self::Percentile(percent / 100.0)
            }
        })
    }

    /// The aggregate of `values`, or `None` when there are none.
    pub fn apply(self, values: &[f64]) -> Option<f64> {
        if values.is_empty() {
            return None;
        }
        Some(match self {
            Self::Max => values.iter().copied().fold(f64::MIN, f64::max),
            Self::Min => values.iter().copied().fold(f64::MAX, f64::min),
            Self::Mean => values.iter().sum::<f64>() / values.len() as f64,
            Self::Last => values[values.len() - 1],
            Self::Percentile(q) => {
                let mut sorted = values.to_vec();
                sorted.sort_by(f64::total_cmp);
                let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
                sorted[rank.min(sorted.len()) - 1]
            }
        })
    }
}

impl Telemetry {
    /// The per-second values of `name`, in base units, skipping seconds without data.
    pub fn values(&self, name: SeriesName) -> Vec<f64> {
        self.points(name).into_iter().map(|(_, v)| v).collect()
    }

    /// `(second, value)` of `name`, in base units, skipping seconds without data.
    pub fn points(&self, name: SeriesName) -> Vec<(u64, f64)> {
        let first_redis = self.samples.iter().find_map(|s| s.redis.as_ref());
        self.samples
            .iter()
            .filter_map(|s| Some((s.second, value(s, name, first_redis)?)))
            .collect()
    }

    /// The last sample's value of `name`, in base units.
    pub fn latest(&self, name: SeriesName) -> Option<f64> {
        let first_redis = self.samples.iter().find_map(|s| s.redis.as_ref());
        value(self.samples.last()?, name, first_redis)
    }

    /// CPU demand per second in instance-equivalents: the sum over instances of their
    /// use as a fraction of one instance's limit. What an autoscaler would spread.
    pub fn cpu_demand(&self) -> Vec<(u64, f64)> {
        self.samples
            .iter()
            .filter(|s| !s.backends.is_empty())
            .map(|s| (s.second, s.backends.iter().map(|b| b.cpu_percent / 100.0).sum()))
            .collect()
    }
}

/// One sample's value of `name`; counters count from the first Redis sample.
fn value(s: &Sample, name: SeriesName, first_redis: Option<&RedisSample>) -> Option<f64> {
    match name {
        SeriesName::BackendCpu => max_of(s.backends.iter().map(|b| b.cpu_percent / 100.0)),
        SeriesName::BackendMemory => max_of(s.backends.iter().map(|b| b.memory_percent / 100.0)),
        SeriesName::DbConnections => s.db.as_ref().map(|db| f64::from(db.max_per_instance())),
        SeriesName::RedisMemory => s
            .redis
            .as_ref()
            .filter(|r| r.maxmemory_bytes > 0)
            .map(|r| r.used_memory_bytes as f64 / r.maxmemory_bytes as f64),
        SeriesName::RedisEvictedKeys => {
            let (r, first) = (s.redis.as_ref()?, first_redis?);
            Some(r.evicted_keys.saturating_sub(first.evicted_keys) as f64)
        }
        SeriesName::RedisHitRatio => {
            let (r, first) = (s.redis.as_ref()?, first_redis?);
            let hits = r.keyspace_hits.saturating_sub(first.keyspace_hits) as f64;
            let misses = r.keyspace_misses.saturating_sub(first.keyspace_misses) as f64;
            (hits + misses > 0.0).then(|| hits / (hits + misses))
        }
        SeriesName::RedisClients => s.redis.as_ref().map(|r| r.connected_clients as f64),
        SeriesName::Health => s.health_ms.map(|ms| ms * 1000.0),
        SeriesName::HealthDetailed => s.health_detailed_ms.map(|ms| ms * 1000.0),
        SeriesName::InFlight => Some(s.in_flight as f64),
    }
}

fn max_of(values: impl Iterator<Item = f64>) -> Option<f64> {
    values.fold(None, |max, v| Some(max.map_or(v, |m: f64| m.max(v))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::{DbSample, InstanceSample, RedisSample, Sample};

    fn telemetry() -> Telemetry {
        let sample = |second: u64, cpu: f64, conns: u32, evicted: u64, hits: u64| Sample {
            second,
            backends: vec![InstanceSample {
                name: "backend".into(),
                cpu_percent: cpu,
                memory_percent: 10.0,
                rss_bytes: 1,
            }],
            db: Some(DbSample {
                per_instance: [("127.0.0.1".to_string(), conns)].into(),
                total: conns,
                ..Default::default()
            }),
            redis: Some(RedisSample {
                evicted_keys: evicted,
                keyspace_hits: hits,
                keyspace_misses: 10 * second,
                maxmemory_bytes: 100,
                used_memory_bytes: 25,
                ..Default::default()
            }),
            health_ms: Some(2.0),
            health_detailed_ms: None,
            in_flight: second,
            replicas: None,
        };
        Telemetry {
            samples: vec![
                sample(0, 20.0, 3, 5, 0),
                sample(1, 80.0, 9, 5, 30),
                sample(2, 50.0, 6, 7, 90),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn series_are_in_base_units() {
        let t = telemetry();
        assert_eq!(t.values(SeriesName::BackendCpu), [0.2, 0.8, 0.5]);
        assert_eq!(t.values(SeriesName::DbConnections), [3.0, 9.0, 6.0]);
        assert_eq!(t.values(SeriesName::RedisEvictedKeys), [0.0, 0.0, 2.0]);
        assert_eq!(t.values(SeriesName::RedisMemory), [0.25, 0.25, 0.25]);
        assert_eq!(t.values(SeriesName::RedisHitRatio), [0.75, 90.0 / 110.0]);
        assert_eq!(t.values(SeriesName::Health), [2000.0, 2000.0, 2000.0]);
        assert!(t.values(SeriesName::HealthDetailed).is_empty());
    }

    #[test]
    fn aggregates() {
        let v = [3.0, 9.0, 6.0, 1.0];
        assert_eq!(Aggregate::Max.apply(&v), Some(9.0));
        assert_eq!(Aggregate::Min.apply(&v), Some(1.0));
        assert_eq!(Aggregate::Mean.apply(&v), Some(4.75));
        assert_eq!(Aggregate::Last.apply(&v), Some(1.0));
        assert_eq!(Aggregate::parse("p50").unwrap().apply(&v), Some(3.0));
        assert_eq!(Aggregate::parse("p95").unwrap().apply(&v), Some(9.0));
        assert_eq!(Aggregate::Max.apply(&[]), None);
        assert!(Aggregate::parse("p101").is_none() && Aggregate::parse("median").is_none());
    }
}
