//! A generator's side (`karigar-perf worker --coordinator URL`): estimate the clock
//! offset, register, build the plan of its segment, start at the agreed instant, report
//! what it measured every second, stop when told to, and stop on its own when the
//! coordinator is gone: no load outlives its coordinator.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::protocol::{unix_ms, Ack, Assignment, Clock, Registration, Report, COORDINATOR_LOST_S};
use crate::error::Context as _;
use crate::error::{Error, Result};
use crate::load::{self, LoadOptions, LoadRun};
use crate::metrics::{Collector, DeltaCursor, Measurements};
use crate::scenario::{LoadOverrides, Plan, Source};
use crate::stop::{Stop, StopReason};

/// How a worker reaches its coordinator.
pub struct WorkerSettings {
    pub coordinator: String,
    pub token: String,
    /// How the engine names this worker (e.g. `local-2`, `swarm-3`, `job-0`).
    pub name: String,
    /// Where to keep what it measured, for `karigar-perf merge`.
    pub output: Option<PathBuf>,
    pub quiet: bool,
    /// Where the HTTP settings' `${VAR}`s are read: the file its engine mounted (a
    /// Swarm secret), before this process's environment.
    pub env: crate::http::Env,
}

/// Runs one generator to its end (or until `stop` fires: a signal here) and returns its
/// exit code.
pub async fn run(settings: WorkerSettings, stop: Stop) -> Result<u8> {
    let client = Client::new(&settings)?;
    let (offset_ms, rtt_ms) = client.clock_offset().await?;
    let registration = Registration {
        name: settings.name.clone(),
        pid: std::process::id(),
        clock_offset_ms: offset_ms,
        rtt_ms,
    };
    let assignment: Assignment = client
        .post("register", &registration, Duration::from_secs(600))
        .await?;
    let plan = Arc::new(plan_of(&assignment)?);
    wait_for_start(assignment.t0_unix_ms, offset_ms).await;
    let collector = Arc::new(Collector::new(plan.step_keys()));
    let index = assignment.segment.index;
    let (load_done, done) = tokio::sync::oneshot::channel();
    let reporter = tokio::spawn(report_every_second(
        Reporting {
            client: client.clone(),
            index,
            collector: collector.clone(),
            stop: stop.clone(),
        },
        done,
    ));
    let options = LoadOptions {
        backend_url: assignment.backend_url.clone(),
        frontend_url: assignment.frontend_url.clone(),
        run_tag: assignment.run_tag.clone(),
        quiet: settings.quiet,
        clients: assignment.clients,
        user_offset: assignment.segment.user_offset,
        hook: None,
        http: crate::client::settings_in(&assignment.http, &settings.env).map_err(Error::config)?,
        generator: Some(index),
    };
    let mut reporter = reporter;
    let load = load::run(plan, collector.clone(), options, stop);
    tokio::pin!(load);
    // The reporter ends first only when the coordinator is gone: then this process
    // exits at once, and its load with it.
    let run = tokio::select! {
        run = &mut load => run,
        lost = &mut reporter => {
            lost.map_err(|e| Error::Internal(e.into()))??;
            return Err(Error::Internal(anyhow::anyhow!("the reporter ended before the load")));
        }
    };
    let _ = load_done.send(());
    let mut cursor = reporter.await.map_err(|e| Error::Internal(e.into()))??;
    let run = run?;
    let last = final_delta(&collector, &mut cursor, &run);
    if let Some(dir) = &settings.output {
        save(dir, &assignment, &run.measurements)?;
    }
    let report = Report {
        closed_until: u64::MAX,
        done: true,
        in_flight_peak: 0,
        delta: last,
    };
    client.post_retrying(&format!("report/{index}"), &report).await?;
    Ok(crate::exit::PASS)
}

/// The plan of this generator's segment, from the coordinator's scenario text.
fn plan_of(assignment: &Assignment) -> Result<Plan> {
    let scenario = &assignment.scenario;
    let source = Source {
        origin: scenario.origin.clone(),
        text: scenario.text.clone(),
        dir: scenario.dir.clone(),
    };
    let segment = &assignment.segment;
    let load = &assignment.load;
    let overrides = LoadOverrides {
        duration: Some(Duration::from_millis(load.duration_ms)),
        increase_rate: Some(load.increase_rate / segment.of as f64),
        test_plan: segment.test_plan.clone(),
        rate: load.rate.clone(),
        arrivals: load.arrivals,
        workers: segment.workers,
        share: segment.share,
        kind_users: segment.kind_users.clone(),
        ..Default::default()
    };
    Plan::build(&source, &overrides, &[])
}

/// Sleeps until the coordinator's `t0`, read on this machine's clock.
async fn wait_for_start(t0_unix_ms: u64, offset_ms: f64) {
    let local_t0 = t0_unix_ms as f64 - offset_ms;
    let wait = (local_t0 - unix_ms()).max(0.0);
    tokio::time::sleep(Duration::from_secs_f64(wait / 1000.0)).await;
}

/// What the reporter needs: where it reports, as which generator, what it reads, and
/// the load it stops.
struct Reporting {
    client: Client,
    index: usize,
    collector: Arc<Collector>,
    stop: Stop,
}

/// Sends what was measured every second until the load ends; stops the load when the
/// coordinator says so, or when it has not answered for [`COORDINATOR_LOST_S`].
async fn report_every_second(
    reporting: Reporting,
    mut done: tokio::sync::oneshot::Receiver<()>,
) -> Result<DeltaCursor> {
    let Reporting {
        client,
        index,
        collector,
        stop,
    } = reporting;
    let mut cursor = DeltaCursor::default();
    let mut last_answer = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = &mut done => return Ok(cursor),
        }
        let delta = collector.take_delta(&mut cursor, None, false);
        let report = Report {
            closed_until: collector.elapsed().as_secs(),
            done: false,
            in_flight_peak: collector.take_in_flight_peak(),
            delta,
        };
        match client
            .post::<_, Ack>(&format!("report/{index}"), &report, Duration::from_secs(2))
            .await
        {
            Ok(ack) => {
                last_answer = Instant::now();
                if ack.stop {
                    stop.stop(StopReason::CoordinatorStopped);
                }
            }
            Err(e) if last_answer.elapsed() >= Duration::from_secs(COORDINATOR_LOST_S) => {
                stop.stop(StopReason::CoordinatorLost);
                return Err(Error::stack(format!(
                    "no answer from the coordinator for {COORDINATOR_LOST_S}s ({e}): the load stopped"
                )));
            }
            Err(_) => {}
        }
    }
}

/// Everything not reported yet, with the schedule's counters and the CPU used.
fn final_delta(collector: &Collector, cursor: &mut DeltaCursor, run: &LoadRun) -> Measurements {
    let mut last = collector.take_delta(cursor, run.measurements.schedule, true);
    last.generator_cpu_s = run.measurements.generator_cpu_s;
    last
}

/// `DIR/measurements.json`, `DIR/scenario.toml` and `DIR/assignment.json`: what
/// `karigar-perf merge` reads.
fn save(dir: &Path, assignment: &Assignment, measured: &Measurements) -> Result<()> {
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).config_context(|| format!("cannot write {}", path.display()))
    };
    std::fs::create_dir_all(dir).config_context(|| format!("cannot create {}", dir.display()))?;
    write("measurements.json", measured.to_json() + "\n")?;
    write("scenario.toml", assignment.scenario.text.clone())?;
    let assignment = serde_json::to_string_pretty(assignment).map_err(|e| Error::Internal(e.into()))?;
    write("assignment.json", assignment + "\n")
}

/// What a generator kept with `--output DIR` (or a run's report folder).
pub struct Saved {
    pub measurements: Measurements,
    pub scenario: Source,
    /// The generator's assignment; absent in a plain run's folder.
    pub segment: Option<super::split::Segment>,
    pub load: Option<super::protocol::WireLoad>,
    pub backend_url: Option<String>,
}

/// Reads what [`save`] wrote into `dir`.
pub fn load_saved(dir: &Path) -> Result<Saved> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).config_context(|| format!("{}: cannot read", path.display()))
    };
    let measurements = Measurements::from_json(&read("measurements.json")?).map_err(|e| {
        Error::config(format!(
            "{}: not karigar-perf measurements: {e}",
            dir.join("measurements.json").display()
        ))
    })?;
    let scenario = Source {
        origin: dir.join("scenario.toml").display().to_string(),
        text: read("scenario.toml")?,
        dir: Some(dir.to_path_buf()),
    };
    let assignment: Option<Assignment> = match read("assignment.json") {
        Ok(text) => Some(serde_json::from_str(&text).map_err(|e| {
            Error::config(format!(
                "{}: not a generator's assignment: {e}",
                dir.join("assignment.json").display()
            ))
        })?),
        Err(_) => None,
    };
    Ok(Saved {
        measurements,
        scenario,
        segment: assignment.as_ref().map(|a| a.segment.clone()),
        load: assignment.as_ref().map(|a| a.load.clone()),
        backend_url: assignment.map(|a| a.backend_url),
    })
}

/// Calls to the coordinator, each with the run's token.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(settings: &WorkerSettings) -> Result<Self> {
        let http = crate::client::base()
            .build()
            .map_err(|e| Error::Internal(e.into()))?;
        Ok(Self {
            http,
            base: settings.coordinator.trim_end_matches('/').to_owned(),
            token: settings.token.clone(),
        })
    }

    async fn post<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        timeout: Duration,
    ) -> Result<T> {
        let response = self
            .http
            .post(format!("{}/{path}", self.base))
            .bearer_auth(&self.token)
            .timeout(timeout)
            .json(body)
            .send()
            .await
            .stack_context(|| format!("coordinator {}", self.base))?;
        decode(response, &self.base).await
    }

    /// The last report matters most: tried for as long as the coordinator may wait.
    async fn post_retrying<B: serde::Serialize>(&self, path: &str, body: &B) -> Result<Ack> {
        let started = Instant::now();
        loop {
            match self.post(path, body, Duration::from_secs(5)).await {
                Ok(ack) => return Ok(ack),
                Err(e) if started.elapsed() > Duration::from_secs(COORDINATOR_LOST_S) => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Coordinator clock minus ours, from the quickest of five round trips, and that
    /// round trip's length (both in ms). The first may wait for the coordinator to be up.
    async fn clock_offset(&self) -> Result<(f64, f64)> {
        let started = Instant::now();
        let mut samples: Vec<(f64, f64)> = Vec::new();
        while samples.len() < 5 {
            match self.clock_once().await {
                Ok(sample) => samples.push(sample),
                // Not up yet: wait for it; refused (a wrong token) is final.
                Err(Error::Stack(_)) if samples.is_empty() && started.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Err(e) => return Err(e),
            }
        }
        Ok(samples
            .into_iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("five samples"))
    }

    async fn clock_once(&self) -> Result<(f64, f64)> {
        let sent = unix_ms();
        let response = self
            .http
            .get(format!("{}/clock", self.base))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .stack_context(|| format!("coordinator {} does not answer", self.base))?;
        let clock: Clock = decode(response, &self.base).await?;
        let received = unix_ms();
        Ok((clock.unix_ms - (sent + received) / 2.0, received - sent))
    }
}

async fn decode<T: serde::de::DeserializeOwned>(response: reqwest::Response, base: &str) -> Result<T> {
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(Error::config(format!(
            "coordinator {base} refused the run token (401): is {} the run's?",
            super::protocol::TOKEN_ENV
        )));
    }
    if !status.is_success() {
        return Err(Error::stack(format!("coordinator {base} answered {status}")));
    }
    response
        .json()
        .await
        .stack_context(|| format!("coordinator {base}"))
}
