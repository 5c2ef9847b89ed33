//! The run while it lasts: a live dashboard (`--dashboard`), `/metrics` for Prometheus
//! to scrape (`--prometheus-listen`) and pushes to a remote-write receiver
//! (`--remote-write`). All three read one [`State`], brought up to date once a second
//! from the collector, so they show the same numbers the final report will.

mod families;
mod remote_write;
mod server;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::console::status;
use crate::error::Context as _;
use crate::error::{Error, Result};
use crate::metrics::Collector;
use crate::slo::SloExpr;
use crate::telemetry::{cpu_reading, cpu_seconds, Latest};
pub use state::State;

/// How often the state is brought up to date.
const TICK: Duration = Duration::from_secs(1);
/// Remote write pushes every this many ticks (and once at the end).
const PUSH_EVERY: u64 = 5;

/// What the user asked to see live.
#[derive(Clone, Debug, Default)]
pub struct LiveConfig {
    pub metrics: Option<SocketAddr>,
    pub dashboard: Option<SocketAddr>,
    pub remote_write: Option<String>,
    /// How long the dashboard keeps serving the final report after the run.
    pub linger: Duration,
}

impl LiveConfig {
    pub fn is_on(&self) -> bool {
        self.metrics.is_some() || self.dashboard.is_some() || self.remote_write.is_some()
    }
}

/// The live view's ports, bound before the stack starts: a port in use is a
/// configuration error that costs nothing.
#[derive(Default)]
pub struct Listeners {
    metrics: Option<std::net::TcpListener>,
    dashboard: Option<std::net::TcpListener>,
}

impl Listeners {
    pub fn bind(config: &LiveConfig) -> Result<Self> {
        let bind = |addr: Option<SocketAddr>, flag: &str| -> Result<Option<std::net::TcpListener>> {
            let Some(addr) = addr else { return Ok(None) };
            let listener = std::net::TcpListener::bind(addr)
                .config_context(|| format!("{flag} {addr}: cannot listen"))?;
            listener
                .set_nonblocking(true)
                .map_err(|e| Error::Internal(e.into()))?;
            Ok(Some(listener))
        };
        Ok(Self {
            metrics: bind(config.metrics, "--prometheus-listen")?,
            dashboard: bind(config.dashboard, "--dashboard")?,
        })
    }
}

/// What the live view reads.
pub struct Feed {
    pub run_id: String,
    pub scenario: String,
    pub steps: Vec<(String, String)>,
    pub slos: Vec<SloExpr>,
    pub collector: Arc<Collector>,
    pub latest: Latest,
    /// The backend's CPU cores and memory bytes, the base of telemetry percentages.
    pub limits: (f64, u64),
    /// Whether the load follows a schedule (`--rate`).
    pub open_model: bool,
}

/// The running live view; [`finish`](Self::finish) shows the final report and stops it.
pub struct Live {
    state: server::Handle,
    stop: oneshot::Sender<()>,
    ticker: JoinHandle<()>,
    servers: Vec<JoinHandle<()>>,
    dashboard: Option<SocketAddr>,
    linger: Duration,
}

impl Live {
    /// Starts the ticker and the servers on `listeners`; `None` when nothing is asked.
    pub fn start(config: &LiveConfig, listeners: Listeners, feed: Feed) -> Result<Option<Self>> {
        if !config.is_on() {
            return Ok(None);
        }
        let state = Arc::new(RwLock::new(State::new(&feed)));
        let mut servers = Vec::new();
        let mut dashboard = None;
        if let Some(listener) = listeners.metrics {
            let addr = local_addr(&listener)?;
            servers.push(serve(listener, server::metrics_routes(state.clone()))?);
            status(&format!("metrics at http://{addr}/metrics"));
        }
        if let Some(listener) = listeners.dashboard {
            let addr = local_addr(&listener)?;
            servers.push(serve(listener, server::dashboard_routes(state.clone()))?);
            status(&format!("dashboard at http://{addr}/"));
            dashboard = Some(addr);
        }
        let (stop, stopped) = oneshot::channel();
        let ticker = tokio::spawn(tick_until(
            state.clone(),
            feed,
            config.remote_write.clone(),
            stopped,
        ));
        Ok(Some(Self {
            state,
            stop,
            ticker,
            servers,
            dashboard,
            linger: config.linger,
        }))
    }

    /// Takes the last figures (and pushes them), shows `report_html` on the dashboard
    /// for the linger time, then stops serving.
    pub async fn finish(self, report_html: String) {
        let _ = self.stop.send(());
        let _ = self.ticker.await;
        self.state.write().unwrap_or_else(|e| e.into_inner()).report_html = Some(report_html);
        if let Some(addr) = self.dashboard.filter(|_| !self.linger.is_zero()) {
            status(&format!(
                "dashboard: the final report is at http://{addr}/report for {}s more",
                self.linger.as_secs()
            ));
            tokio::time::sleep(self.linger).await;
        }
        for server in self.servers {
            server.abort();
        }
    }
}

fn local_addr(listener: &std::net::TcpListener) -> Result<SocketAddr> {
    listener.local_addr().map_err(|e| Error::Internal(e.into()))
}

fn serve(listener: std::net::TcpListener, routes: axum::Router) -> Result<JoinHandle<()>> {
    let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| Error::Internal(e.into()))?;
    Ok(tokio::spawn(async move {
        let _ = axum::serve(listener, routes).await;
    }))
}

/// Brings the state up to date every second (and pushes every few) until stopped,
/// then once more.
async fn tick_until(
    state: server::Handle,
    feed: Feed,
    remote_write: Option<String>,
    mut stopped: oneshot::Receiver<()>,
) {
    let pid = std::process::id();
    let cpu_at_start = cpu_reading(pid);
    let http = crate::client::base().build().unwrap_or_default();
    let mut pusher = remote_write.map(Pusher::new);
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    ticker.tick().await;
    for tick in 1u64.. {
        let last = tokio::select! {
            _ = ticker.tick() => false,
            _ = &mut stopped => true,
        };
        let sample = feed.latest.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let cpu_s = match (cpu_at_start, cpu_reading(pid)) {
            (Some(before), Some(now)) => cpu_seconds(before, now),
            _ => 0.0,
        };
        state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .tick(&feed.collector, sample, &feed.slos, cpu_s);
        if let Some(pusher) = pusher.as_mut().filter(|_| last || tick % PUSH_EVERY == 0) {
            pusher.push(&http, &state).await;
        }
        if last {
            break;
        }
    }
}

/// Remote write, saying so the first time a push fails and when pushes work again.
struct Pusher {
    url: String,
    failing: bool,
}

impl Pusher {
    fn new(url: String) -> Self {
        Self { url, failing: false }
    }

    async fn push(&mut self, http: &reqwest::Client, state: &server::Handle) {
        // The encoded request is built under the lock; the push happens without it.
        let body = remote_write::body(&state.read().unwrap_or_else(|e| e.into_inner()));
        match remote_write::send(http, &self.url, body).await {
            Ok(()) if self.failing => {
                self.failing = false;
                status(&format!("remote write to {}: working again", self.url));
            }
            Ok(()) => {}
            Err(e) if !self.failing => {
                self.failing = true;
                status(&format!("{e} (the run goes on; retrying every {PUSH_EVERY}s)"));
            }
            Err(_) => {}
        }
    }
}
