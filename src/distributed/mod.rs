//! Load from many generators, merged exactly and judged once. The coordinator (inside
//! `scenario --generators N`) owns the plan, the stack, telemetry, SLOs and reports;
//! each generator (`karigar-perf worker`) runs its segment of the load and streams what
//! it measured every second. HDR histograms merge without loss, so N generators give
//! the percentiles of one process that recorded every request.
//!
//! - `split`: the plan's load cut into segments (rates, users, kinds, user numbers)
//! - `protocol`: what coordinator and generators say to each other
//! - `coordinator`: registration, the start instant, merging, stopping, lost generators
//! - `worker`: a generator's side
//! - `engine`: where generators run: local processes, Docker Swarm, or elsewhere
//! - `k8s`: the Kubernetes objects of a run whose generators are an Indexed Job

mod coordinator;
mod engine;
mod k8s;
mod pod;
mod protocol;
mod split;
mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::distributions::{Alphanumeric, DistString};

pub use coordinator::{Finished, GeneratorReport};
pub use engine::EngineKind;
pub use k8s::{generator_objects, GeneratorObjects, K8sHttp, K8sSettings, COORDINATOR_PORT, TLS_MOUNT};
pub use pod::GeneratorPod;
pub use protocol::{ScenarioText, WireLoad, TOKEN_ENV};
use split::segment;
pub use split::Segment;
pub use worker::{load_saved, run as run_worker, Saved, WorkerSettings};

use crate::error::{Error, Result};
use crate::load::{LoadOptions, LoadRun};
use crate::metrics::{Collector, Measurements};
use crate::scenario::Plan;
use crate::stop::Stop;
use coordinator::{Coordinator, Template};
use engine::{Launch, Running};
use protocol::Assignment;

/// How a run's load is spread over generators.
#[derive(Clone, Debug)]
pub struct GeneratorsConfig {
    pub count: usize,
    pub engine: EngineKind,
    /// Where the coordinator listens (127.0.0.1, any free port, unless told otherwise).
    pub listen: SocketAddr,
    /// An image with the harness in it, for Swarm tasks (else the binary is mounted).
    pub image: Option<String>,
    /// How long every generator has to register.
    pub register_timeout: Duration,
}

/// Generators at work: the merged collector records the whole load live.
pub struct Generation {
    coordinator: Coordinator,
    running: Running,
    planned: Duration,
    pub collector: Arc<Collector>,
}

/// Where a run's generators are placed: the executable they run, the run they belong
/// to, where their logs go, and the image Swarm tasks mount the executable into.
#[derive(Clone, Debug)]
pub struct Placement {
    pub exe: PathBuf,
    pub run_id: String,
    pub logs_dir: PathBuf,
    pub runtime_image: String,
}

/// What generators run besides the plan: the scenario, where the load goes, and where
/// they are placed.
pub struct GenerationContext<'a> {
    pub scenario: ScenarioText,
    pub options: &'a LoadOptions,
    pub placement: &'a Placement,
}

impl Generation {
    /// Starts the coordinator and the generators and waits until all have registered;
    /// `None` when `cancel` fired first.
    pub async fn start(
        config: &GeneratorsConfig,
        plan: &Plan,
        context: GenerationContext<'_>,
        cancel: impl std::future::Future<Output = ()>,
    ) -> Result<Option<Self>> {
        let token = run_token();
        let travelling = context
            .options
            .http
            .written
            .travelling(&crate::http::Env::Process)
            .map_err(Error::config)?;
        let (http, files) = match config.engine {
            EngineKind::Swarm => engine::swarm_files(travelling.options),
            _ => (travelling.options, Vec::new()),
        };
        let template = template(plan, config.count, &context, http)?;
        let coordinator = Coordinator::bind(config.listen, token.clone(), template).await?;
        let launch = Launch {
            count: config.count,
            coordinator_url: &coordinator.url,
            token: &token,
            image: config.image.as_deref(),
            placement: context.placement,
            scenario_dir: context.scenario.dir.as_deref(),
            env: &travelling.env,
            files: &files,
        };
        let running = Running::start(config.engine, &launch).await?;
        let started = coordinator.wait_registered(config.register_timeout, cancel).await;
        let started = match started {
            Ok(Some(started)) => started,
            Ok(None) => {
                running.stop().await;
                return Ok(None);
            }
            Err(e) => {
                running.stop().await;
                return Err(e);
            }
        };
        eprintln!(
            "karigar-perf: {} generators registered; the load starts",
            config.count
        );
        Ok(Some(Self {
            coordinator,
            running,
            planned: crate::load::planned_duration(plan),
            collector: started.collector,
        }))
    }

    /// Pids of generators on this machine.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.running.pids()
    }

    /// Waits for every generator's last report (or its loss), then removes them; stops
    /// them all when `stop` fires.
    pub async fn finish(self, quiet: bool, stop: &Stop) -> (LoadRun, Finished) {
        let progress = crate::load::show_progress(self.collector.clone(), self.planned, quiet);
        let deadline = Instant::now() + self.planned + Duration::from_secs(30);
        let finished = self.coordinator.finish(deadline, stop).await;
        if let Some(progress) = progress {
            progress.abort();
        }
        self.running.stop().await;
        let measurements = Measurements {
            elapsed: finished.elapsed,
            schedule: finished.schedule,
            generator_cpu_s: finished.generators.iter().map(|g| g.cpu_s).sum(),
            ..self.collector.measurements()
        };
        let run = LoadRun {
            measurements,
            ending: stop.ending(),
        };
        (run, finished)
    }
}

/// The run's token: the one the environment gives (a Kubernetes Secret shared with the
/// generators' Job), else a fresh random one handed to the generators this run starts.
pub fn run_token() -> String {
    match std::env::var(TOKEN_ENV) {
        Ok(token) if !token.trim().is_empty() => token.trim().to_owned(),
        _ => Alphanumeric.sample_string(&mut rand::thread_rng(), 40),
    }
}

/// What every generator is told: the scenario, the run's load, where it goes and how
/// (`http`: as it travels, no secret in it).
fn template(
    plan: &Plan,
    count: usize,
    context: &GenerationContext<'_>,
    http: crate::http::HttpOptions,
) -> Result<Template> {
    let segments = (0..count)
        .map(|index| segment(plan, index, count))
        .collect::<Result<Vec<_>, String>>()
        .map_err(Error::config)?;
    let load = &plan.load;
    let assignment = Assignment {
        segment: segments[0].clone(),
        scenario: context.scenario.clone(),
        load: WireLoad {
            duration_ms: load.duration.as_millis() as u64,
            increase_rate: load.increase_rate,
            rate: load.open.map(|open| crate::load::rate_text(&open.rate)),
            arrivals: load.open.map(|open| open.arrivals),
        },
        backend_url: context.options.backend_url.clone(),
        frontend_url: context.options.frontend_url.clone(),
        run_tag: context.options.run_tag.clone(),
        clients: context.options.clients,
        http,
        t0_unix_ms: 0,
    };
    Ok(Template {
        assignment,
        segments,
        steps: plan.step_keys(),
        window_s: plan.max_window(),
    })
}

/// The scenario as generators need it.
pub fn scenario_text(source: &crate::scenario::Source) -> ScenarioText {
    ScenarioText {
        origin: source.origin.clone(),
        text: source.text.clone(),
        dir: source.dir.clone().map(absolute),
    }
}

fn absolute(dir: PathBuf) -> PathBuf {
    std::fs::canonicalize(&dir).unwrap_or(dir)
}
