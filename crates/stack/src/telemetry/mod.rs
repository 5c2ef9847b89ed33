//! Telemetry sampled once a second from the outside while the load runs: backend CPU
//! and memory per instance, Postgres connections, Redis `INFO`, health-check latency
//! and the generator's requests in flight. Works for any backend; what cannot be
//! reached (an external target's database, say) is simply absent.

mod container;
mod prometheus;
mod stores;
mod tree;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::cpu::{available_cores, cpu_percent, cpu_reading, cpu_seconds, CpuReading};
use crate::metrics::Collector;
pub use crate::samples::prometheus_figures;
pub use crate::samples::{
    Aggregate, DbSample, Departure, DepartureEvent, InstanceSample, Limits, RedisSample, Sample, SeriesKind,
    SeriesName, Telemetry, ALL_INSTANCES, SERIES,
};
use prometheus::PrometheusProbe;
pub use prometheus::PrometheusSource;
use stores::{PostgresProbe, RedisProbe};
pub use tree::tree_reading;

const EVERY: Duration = Duration::from_secs(1);
/// A probe slower than this is skipped for the second.
const PROBE_TIMEOUT: Duration = Duration::from_millis(900);

/// What to watch, and the limits percentages are taken of.
#[derive(Clone, Debug)]
pub struct Targets {
    /// Backend instances started locally: name and pid.
    pub backends: Vec<(String, u32)>,
    /// Backend instances in containers: name and container id, read through `docker`.
    pub containers: Vec<(String, String)>,
    pub docker: Option<testcontainers::bollard::Docker>,
    /// Names for Postgres client addresses (a container's IP -> `backend-2`).
    pub addresses: std::collections::BTreeMap<String, String>,
    pub backend_url: String,
    /// How the health probe reaches `backend_url`: the run's own settings (a CA, a
    /// `--resolve`, a gateway's header), as the load reaches it.
    pub http: crate::http::HttpSettings,
    pub postgres_url: Option<String>,
    pub redis_url: Option<String>,
    /// Read what the probes above do not give from Prometheus.
    pub prometheus: Option<PrometheusSource>,
    pub limits: Limits,
}

/// The most recent sample, shared with whoever shows the run live.
pub type Latest = Arc<std::sync::Mutex<Option<Sample>>>;

/// The running sampler; [`finish`](Self::finish) stops it and hands over the series.
pub struct Sampler {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Telemetry>,
    latest: Latest,
}

impl Sampler {
    pub fn start(targets: Targets, collector: Arc<Collector>) -> Self {
        let (stop, stopped) = oneshot::channel();
        let latest = Latest::default();
        let task = tokio::spawn(sample_until(targets, collector, stopped, latest.clone()));
        Self { stop, task, latest }
    }

    /// The latest sample as it is taken, for the live view.
    pub fn latest(&self) -> Latest {
        self.latest.clone()
    }

    pub async fn finish(self) -> Telemetry {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

async fn sample_until(
    targets: Targets,
    collector: Arc<Collector>,
    mut stopped: oneshot::Receiver<()>,
    latest: Latest,
) -> Telemetry {
    let mut probes = Probes::new(&targets);
    let mut telemetry = Telemetry {
        cpu_limit_cores: targets.limits.cpu_cores,
        memory_limit_bytes: targets.limits.memory_bytes,
        max_connections: None,
        samples: Vec::new(),
        served: Default::default(),
        departures: Vec::new(),
    };
    if let Some(pg) = probes.postgres.as_mut() {
        telemetry.max_connections = within(pg.max_connections()).await.flatten();
    }
    let mut ticker = tokio::time::interval(EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = &mut stopped => break,
        }
        let (sample, max_connections) = probes.sample(&targets, &collector).await;
        telemetry.max_connections = telemetry.max_connections.or(max_connections);
        *latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(sample.clone());
        telemetry.samples.push(sample);
    }
    telemetry.departures = probes.departures;
    telemetry
}

/// The probes and what they remember between seconds.
struct Probes {
    pids: Vec<Watched<tree::TreeReading>>,
    containers: Vec<Watched<container::Watcher>>,
    departures: Vec<Departure>,
    postgres: Option<PostgresProbe>,
    redis: Option<RedisProbe>,
    prometheus: Option<PrometheusProbe>,
    http: reqwest::Client,
}

impl Probes {
    fn new(targets: &Targets) -> Self {
        Self {
            pids: targets
                .backends
                .iter()
                .map(|(_, pid)| Watched::new(tree::tree_reading(*pid)))
                .collect(),
            containers: match &targets.docker {
                Some(docker) => targets
                    .containers
                    .iter()
                    .map(|(_, id)| Watched::new(Some(container::Watcher::start(docker.clone(), id.clone()))))
                    .collect(),
                None => Vec::new(),
            },
            departures: Vec::new(),
            postgres: targets.postgres_url.clone().map(PostgresProbe::new),
            redis: targets.redis_url.as_deref().map(RedisProbe::new),
            prometheus: targets.prometheus.clone().map(PrometheusProbe::new),
            http: probe_client(&targets.http, &targets.backend_url),
        }
    }

    /// One second's sample, and `max_connections` when Prometheus told it.
    async fn sample(&mut self, targets: &Targets, collector: &Collector) -> (Sample, Option<u32>) {
        let second = collector.elapsed().as_secs();
        let in_flight = collector.take_in_flight_peak();
        let mut backends = self.backends(targets, second);
        backends.extend(self.containers(targets, second));
        let health = format!("{}/health", targets.backend_url);
        let detailed = format!("{}/health/detailed", targets.backend_url);
        let (db, redis, health_ms, health_detailed_ms, scraped) = tokio::join!(
            async {
                match self.postgres.as_mut() {
                    Some(pg) => within(pg.sample()).await.flatten(),
                    None => None,
                }
            },
            async {
                match self.redis.as_mut() {
                    Some(redis) => within(redis.sample()).await.flatten(),
                    None => None,
                }
            },
            timed_get(&self.http, &health),
            timed_get(&self.http, &detailed),
            async {
                match self.prometheus.as_ref() {
                    Some(prometheus) => Some(prometheus.sample(targets.limits).await),
                    None => None,
                }
            },
        );
        let scraped = scraped.unwrap_or_default();
        if backends.is_empty() {
            backends = scraped.backends;
        }
        let sample = Sample {
            second,
            backends,
            db: db.map(|db| db.named(&targets.addresses)).or(scraped.db),
            redis: redis.or(scraped.redis),
            health_ms,
            health_detailed_ms,
            in_flight,
            replicas: scraped.replicas,
        };
        (sample, scraped.max_connections)
    }

    /// CPU and memory of each backend process tree, as shares of the limits.
    fn backends(&mut self, targets: &Targets, second: u64) -> Vec<InstanceSample> {
        let limits = targets.limits;
        let mut samples = Vec::new();
        for ((name, pid), watched) in targets.backends.iter().zip(self.pids.iter_mut()) {
            let Some(now) = tree::tree_reading(*pid) else {
                if !watched.gone {
                    watched.gone = true;
                    let what = format!("pid {pid}");
                    self.departures
                        .push(watched.departure(name, what, DepartureEvent::Exited, second));
                }
                continue;
            };
            // A second without two readings (the first) is not measured: it is left
            // out, never counted as idle.
            if let Some(before) = &watched.state {
                let cpu_percent = now.cpu_percent_since(before, limits.cpu_cores);
                samples.push(InstanceSample::new(name, cpu_percent, now.rss_bytes, limits));
                watched.measured_s += 1;
            }
            watched.state = Some(now);
        }
        samples
    }

    /// CPU and memory of each backend container, as shares of its limits.
    fn containers(&mut self, targets: &Targets, second: u64) -> Vec<InstanceSample> {
        let limits = targets.limits;
        let mut samples = Vec::new();
        for ((name, id), watched) in targets.containers.iter().zip(self.containers.iter_mut()) {
            let Some(watcher) = &watched.state else {
                continue;
            };
            while let Some(event) = watcher.take_event() {
                let what = format!("container {}", id.chars().take(12).collect::<String>());
                self.departures.push(watched.departure(name, what, event, second));
            }
            let Some(reading) = watcher.latest() else {
                continue;
            };
            let cpu_percent = reading.cores / limits.cpu_cores.max(f64::EPSILON) * 100.0;
            samples.push(InstanceSample::new(
                name,
                cpu_percent,
                reading.memory_bytes,
                limits,
            ));
            watched.measured_s += 1;
        }
        samples
    }
}

/// A measured instance: its probe's state, the seconds it was measured, and whether
/// it was already reported gone.
struct Watched<T> {
    state: Option<T>,
    measured_s: u64,
    gone: bool,
}

impl<T> Watched<T> {
    fn new(state: Option<T>) -> Self {
        Self {
            state,
            measured_s: 0,
            gone: false,
        }
    }

    fn departure(&self, name: &str, what: String, event: DepartureEvent, second: u64) -> Departure {
        Departure {
            name: name.to_owned(),
            what,
            event,
            at_s: second,
            measured_s: self.measured_s,
        }
    }
}

/// The health probe's client. The settings were checked when the run read them (a
/// client was built from them then), so a failure here leaves the probe without them.
fn probe_client(http: &crate::http::HttpSettings, backend_url: &str) -> reqwest::Client {
    crate::client::builder(http, &[backend_url])
        .and_then(|builder| builder.timeout(PROBE_TIMEOUT).build().map_err(|e| e.to_string()))
        .unwrap_or_default()
}

async fn within<T>(probe: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::time::timeout(PROBE_TIMEOUT, probe).await.ok()
}

/// Milliseconds a GET took to answer 2xx, or `None`.
async fn timed_get(client: &reqwest::Client, url: &str) -> Option<f64> {
    let started = std::time::Instant::now();
    let response = client.get(url).send().await.ok()?;
    let ok = response.status().is_success();
    let _ = response.bytes().await;
    ok.then(|| started.elapsed().as_secs_f64() * 1000.0)
}
