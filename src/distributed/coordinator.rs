//! The coordinator's side: a small HTTP server (127.0.0.1 unless told otherwise) that
//! registers generators, hands each its segment and the start instant once all have
//! registered, merges what they report every second into one [`Collector`] (so live
//! windows, telemetry and the progress line see the whole run), tells them when to
//! stop, and notices the ones that die or fall silent.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::protocol::{unix_ms, Ack, Assignment, Clock, Registration, Report, GENERATOR_LOST_S};
use super::split::Segment;
use crate::error::Context as _;
use crate::error::{Error, Result};
use crate::metrics::{Collector, Measurements, Schedule};
use crate::stop::Stop;

/// One load generator of a run on several.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeneratorReport {
    pub index: usize,
    /// How its engine named it, and its process id (in its own namespace).
    pub name: String,
    pub pid: u32,
    /// Requests it sent (every outcome).
    pub requests: u64,
    /// CPU it used: seconds, and cores on average.
    pub cpu_s: f64,
    pub cpu_cores: f64,
    /// The open model's worst start delay on it.
    pub max_lateness_ms: Option<f64>,
    /// Its clock minus the coordinator's, as estimated at registration.
    pub clock_offset_ms: f64,
    /// It sent everything; when not, `missing_seconds` are the seconds it never reported.
    pub complete: bool,
    pub missing_seconds: Vec<u64>,
}

/// Time from the last registration to the start: every generator gets its answer and
/// builds its plan well before.
const START_DELAY: Duration = Duration::from_secs(1);

/// The coordinator while the run lasts.
pub struct Coordinator {
    state: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
    /// Where generators reach it, e.g. `http://127.0.0.1:41234`.
    pub url: String,
}

/// What every generator is told, less its own segment and the start.
pub struct Template {
    pub assignment: Assignment,
    pub segments: Vec<Segment>,
    /// Steps as `(kind, name)` and the longest SLO window: the merged collector's shape.
    pub steps: Vec<(String, String)>,
    pub window_s: u64,
}

struct Shared {
    token: String,
    template: Template,
    generators: Mutex<Vec<Generator>>,
    t0: watch::Sender<Option<u64>>,
    collector: OnceLock<Arc<Collector>>,
    stop: AtomicBool,
}

/// One generator as the coordinator sees it.
struct Generator {
    registration: Registration,
    last_heard: Instant,
    closed_until: u64,
    done: bool,
    /// Everything it reported, merged: its own figures for the report.
    measured: Option<Measurements>,
    /// Requests it had in flight at most, over its last report's second.
    in_flight_peak: u64,
}

/// The start: when, and the collector the merged load is recorded in.
pub struct Started {
    pub collector: Arc<Collector>,
}

/// How the generators did, once all are done or lost.
pub struct Finished {
    pub generators: Vec<GeneratorReport>,
    /// A generator died or fell silent: some of the load is missing.
    pub incomplete: bool,
    /// The open model's schedule counters of every generator, added up.
    pub schedule: Option<Schedule>,
    /// How long the longest-running generator's load ran.
    pub elapsed: Duration,
}

impl Coordinator {
    /// Listens on `listen` for the run's generators.
    pub async fn bind(listen: SocketAddr, token: String, template: Template) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .config_context(|| format!("the coordinator cannot listen on {listen}"))?;
        let address = listener.local_addr().map_err(|e| Error::Internal(e.into()))?;
        let state = Arc::new(Shared {
            token,
            template,
            generators: Mutex::new(Vec::new()),
            t0: watch::channel(None).0,
            collector: OnceLock::new(),
            stop: AtomicBool::new(false),
        });
        let router = Router::new()
            .route("/clock", get(clock))
            .route("/register", post(register))
            .route("/report/{index}", post(report))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            state,
            server,
            url: format!("http://{address}"),
        })
    }

    /// Waits until every generator has registered (or `timeout` passes, or `cancel`
    /// fires), then fixes the start and returns the merged collector.
    pub async fn wait_registered(
        &self,
        timeout: Duration,
        cancel: impl std::future::Future<Output = ()>,
    ) -> Result<Option<Started>> {
        let expected = self.state.template.segments.len();
        let deadline = Instant::now() + timeout;
        tokio::pin!(cancel);
        while self.registered() < expected {
            if Instant::now() > deadline {
                return Err(Error::stack(format!(
                    "only {} of {expected} generators registered within {}s: see their logs",
                    self.registered(),
                    timeout.as_secs()
                )));
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = &mut cancel => return Ok(None),
            }
        }
        let template = &self.state.template;
        let collector = Arc::new(Collector::with_windows_from(
            template.steps.clone(),
            template.window_s,
            Instant::now() + START_DELAY,
        ));
        // Fed by reports only: no second counts as complete before they say so.
        collector.set_complete_until(0);
        let t0 = (unix_ms() + START_DELAY.as_secs_f64() * 1000.0) as u64;
        let _ = self.state.collector.set(collector.clone());
        self.state.t0.send_replace(Some(t0));
        tokio::time::sleep(START_DELAY).await;
        Ok(Some(Started { collector }))
    }

    fn registered(&self) -> usize {
        lock(&self.state.generators).len()
    }

    /// Tells every generator to stop at its next report.
    pub fn stop(&self) {
        self.state.stop.store(true, Ordering::Relaxed);
    }

    /// Waits until every generator is done or lost, or `deadline`; stops them when
    /// `stop` fires (a signal, an SLO's abort).
    pub async fn finish(self, deadline: Instant, stop: &Stop) -> Finished {
        loop {
            if stop.is_stopped() {
                self.stop();
            }
            let settled = lock(&self.state.generators)
                .iter()
                .all(|g| g.done || g.last_heard.elapsed() > Duration::from_secs(GENERATOR_LOST_S));
            if settled || Instant::now() > deadline {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = stop.stopped(), if !stop.is_stopped() => {}
            }
        }
        let collector = self.state.collector.get().cloned();
        let seconds = collector.map_or(0, |c| c.elapsed().as_secs());
        let generators = lock(&self.state.generators);
        let mut all = Measurements::empty(&[]);
        for measured in generators.iter().filter_map(|g| g.measured.as_ref()) {
            all.merge(measured);
        }
        Finished {
            schedule: all.schedule,
            elapsed: generators
                .iter()
                .filter_map(|g| g.measured.as_ref())
                .map(|m| m.elapsed)
                .max()
                .unwrap_or_default(),
            generators: generators
                .iter()
                .enumerate()
                .map(|(i, g)| g.report(i, seconds))
                .collect(),
            incomplete: generators.iter().any(|g| !g.done),
        }
    }
}

impl Drop for Coordinator {
    /// The server goes with the coordinator, whichever way the run ends.
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Generator {
    fn report(&self, index: usize, seconds: u64) -> GeneratorReport {
        let measured = self.measured.as_ref();
        let elapsed = measured.map_or(0.0, |m| m.elapsed.as_secs_f64());
        let cpu_s = measured.map_or(0.0, |m| m.generator_cpu_s);
        GeneratorReport {
            index,
            name: self.registration.name.clone(),
            pid: self.registration.pid,
            requests: measured.map_or(0, |m| m.all_steps().outcomes.total()),
            cpu_s,
            cpu_cores: if elapsed > 0.0 { cpu_s / elapsed } else { 0.0 },
            max_lateness_ms: measured
                .and_then(|m| m.schedule)
                .map(|s| s.max_lateness_us as f64 / 1000.0),
            clock_offset_ms: self.registration.clock_offset_ms,
            complete: self.done,
            missing_seconds: match self.done {
                true => Vec::new(),
                false => (self.closed_until..seconds.max(self.closed_until)).collect(),
            },
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn authorized(state: &Shared, headers: &HeaderMap) -> Result<(), StatusCode> {
    let expected = format!("Bearer {}", state.token);
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(StatusCode::UNAUTHORIZED),
    }
}

/// Compares without stopping at the first difference, so the time taken tells nothing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn clock(State(state): State<Arc<Shared>>, headers: HeaderMap) -> Result<Json<Clock>, StatusCode> {
    authorized(&state, &headers)?;
    Ok(Json(Clock { unix_ms: unix_ms() }))
}

/// Registers a generator, then holds the answer until every one has registered.
async fn register(
    State(state): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(registration): Json<Registration>,
) -> Result<Json<Assignment>, StatusCode> {
    authorized(&state, &headers)?;
    let index = {
        let mut generators = lock(&state.generators);
        if generators.len() >= state.template.segments.len() {
            return Err(StatusCode::CONFLICT);
        }
        generators.push(Generator {
            registration,
            last_heard: Instant::now(),
            closed_until: 0,
            done: false,
            measured: None,
            in_flight_peak: 0,
        });
        generators.len() - 1
    };
    let mut t0 = state.t0.subscribe();
    let t0 = t0
        .wait_for(Option::is_some)
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?
        .expect("waited for it");
    let mut assignment = state.template.assignment.clone();
    assignment.segment = state.template.segments[index].clone();
    assignment.t0_unix_ms = t0;
    Ok(Json(assignment))
}

/// Merges a generator's report and answers whether to stop.
async fn report(
    State(state): State<Arc<Shared>>,
    Path(index): Path<usize>,
    headers: HeaderMap,
    Json(report): Json<Report>,
) -> Result<Json<Ack>, StatusCode> {
    authorized(&state, &headers)?;
    let collector = state.collector.get().ok_or(StatusCode::CONFLICT)?;
    let mut generators = lock(&state.generators);
    let generator = generators.get_mut(index).ok_or(StatusCode::NOT_FOUND)?;
    collector.absorb(&report.delta);
    match &mut generator.measured {
        Some(measured) => measured.merge(&report.delta),
        None => generator.measured = Some(report.delta),
    }
    generator.last_heard = Instant::now();
    generator.closed_until = generator.closed_until.max(report.closed_until);
    generator.done |= report.done;
    generator.in_flight_peak = report.in_flight_peak;
    collector.note_in_flight(generators.iter().map(|g| g.in_flight_peak).sum());
    let lost = Duration::from_secs(GENERATOR_LOST_S);
    let complete_until = generators
        .iter()
        .filter(|g| !g.done && g.last_heard.elapsed() < lost)
        .map(|g| g.closed_until)
        .min();
    if let Some(second) = complete_until {
        collector.set_complete_until(second);
    }
    Ok(Json(Ack {
        stop: state.stop.load(Ordering::Relaxed),
    }))
}
