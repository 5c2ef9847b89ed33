//! The load engine: each scenario step becomes a Goose transaction run by virtual
//! users, in a closed loop or (with a rate) as workers taking iterations from the
//! [`pacer`]'s schedule; our own [`Collector`] measures every request.

mod hook;
mod pacer;
mod progress;
mod request_id;
mod session;
mod step;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use goose::config::GooseConfiguration;
use goose::prelude::*;

use crate::error::Context as _;
use crate::error::{Error, Result};
use crate::metrics::{Collector, Measurements, Schedule};
use crate::scenario::{Kind, Plan, Rate};
use crate::stop::{Ending, Stop};
use crate::transport::{Client, Connections, Direct, Fallback, UserClient};

pub use hook::RequestHook;
pub use pacer::{intended_start, Pacer, Slot};
use request_id::RequestIds;
use session::{RunContext, Session};
use step::static_urls;
pub use step::{capture, render_json, StepRunner};

/// Where the load goes and how it is shown.
pub struct LoadOptions {
    pub backend_url: String,
    pub frontend_url: Option<String>,
    /// Short id made part of every unique value (emails) of this run.
    pub run_tag: String,
    /// No progress line.
    pub quiet: bool,
    /// How virtual users get their HTTP clients.
    pub clients: Clients,
    /// Added to every virtual user's number (`{{user}}`, `per_user` rows, unique
    /// emails): generators of one run number their users apart.
    pub user_offset: usize,
    /// Told of each request of the steps it watches (a drill's log of writes).
    pub hook: Option<Arc<dyn RequestHook>>,
    /// TLS, routing and default headers; when any is set the load's clients are built
    /// from these instead of Goose's defaults. Also where request ids go.
    pub http: crate::http::HttpSettings,
    /// This generator's number in a run on several (part of every request id).
    pub generator: Option<usize>,
}

/// Whether virtual users keep cookies, each its own, or none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Clients {
    /// No cookies kept: HTTP/1.1 goes on each user's own kept-alive connection, HTTP/2
    /// through one pool shared by every user (about 60 KB a user).
    #[default]
    Shared,
    /// Each user keeps the cookies its answers set and sends them back, as a browser
    /// keeps its session: HTTP/1.1 on its own connections, HTTP/2 through a client of
    /// its own.
    PerUser,
}

/// Where each user's client comes from: HTTP/1.1 on the user's own connections
/// when the run allows it (see [`Direct::new`]), with the user's cookies when each user
/// keeps them; otherwise one client of ours for everybody, or one each with its own
/// cookie jar.
enum HttpClients {
    Direct(Direct),
    Shared(reqwest::Client),
    /// One per user with its cookie jar, built on its first request.
    PerUser(UserClient),
}

impl HttpClients {
    fn new(settings: &crate::http::HttpSettings, clients: Clients, origins: Vec<String>) -> Result<Self> {
        // Built first, so that settings that make no client fail before the load.
        let first = build_client(settings, &origins, None)?;
        // The fallback also carries what the direct connections do not reach.
        let fallback = match clients {
            Clients::Shared => Fallback::Shared(first.clone()),
            Clients::PerUser => {
                let (settings, origins) = (settings.clone(), origins.clone());
                Fallback::PerUser(Arc::new(move |jar| {
                    build_client(&settings, &origins, Some(jar)).unwrap_or_else(|_| first.clone())
                }))
            }
        };
        Ok(
            match Direct::new(settings, &origins, USER_AGENT, fallback.clone()).map_err(Error::config)? {
                Some(direct) => Self::Direct(direct),
                None => match fallback {
                    Fallback::Shared(client) => Self::Shared(client),
                    Fallback::PerUser(build) => Self::PerUser(build),
                },
            },
        )
    }

    /// The client of a user whose own connections are `connections`.
    fn for_user<'a>(&'a self, session: &mut Session, connections: &'a mut Connections) -> Client<'a> {
        Client::Reqwest(match self {
            Self::Direct(direct) => return Client::Direct(direct, connections),
            Self::Shared(client) => client.clone(),
            Self::PerUser(build) => session
                .client
                .get_or_insert_with(|| build(Default::default()))
                .clone(),
        })
    }
}

/// What the load's own clients call themselves.
const USER_AGENT: &str = concat!("karigar-perf/", env!("CARGO_PKG_VERSION"));

/// A client as Goose builds its own (its user agent, gzip) with `settings`; keeping
/// cookies in `jar` when it has one.
fn build_client(
    settings: &crate::http::HttpSettings,
    origins: &[String],
    jar: Option<std::sync::Arc<reqwest::cookie::Jar>>,
) -> Result<reqwest::Client> {
    let origins: Vec<&str> = origins.iter().map(String::as_str).collect();
    let mut builder = crate::client::builder(settings, &origins)
        .map_err(Error::config)?
        .user_agent(USER_AGENT)
        .gzip(true);
    if let Some(jar) = jar {
        builder = builder.cookie_provider(jar);
    }
    builder
        .build()
        .map_err(|e| Error::config(format!("HTTP settings: {}", crate::error::error_chain(&e))))
}

/// What the load phase hands on: what it measured, and how it ended.
pub struct LoadRun {
    pub measurements: Measurements,
    /// Stopped early (a signal, an SLO's abort, the coordinator, a drill): the
    /// measurements are partial.
    pub ending: Ending,
}

/// The open model's schedule against what the workers managed.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct OpenReport {
    /// `"50/s"` or `"10/s..200/s over 5m"`, and `constant` or `poisson`.
    pub rate: String,
    pub arrivals: String,
    pub workers: usize,
    /// Iterations the schedule called for, and those that started.
    pub scheduled: u64,
    pub started: u64,
    /// Called for but never started (every worker was busy until the end).
    pub unserved: u64,
    /// Started more than 10 ms after their intended time, and the worst delay.
    pub late_starts: u64,
    pub max_lateness_ms: f64,
    /// Cores the harness itself used on average while the load ran.
    pub generator_cpu_cores: f64,
    /// The schedule slipped (over 1% late starts) while the harness used 90% of a core
    /// or more: the generator, not only the server, may be the bottleneck.
    pub generator_bound: bool,
}

/// Late starts above this share of iterations mean the schedule slipped.
const SLIPPED: f64 = 0.01;
/// A harness using this much of a core is busy enough to delay its own schedule.
const BUSY_CORES: f64 = 0.9;

impl OpenReport {
    /// How the plan's schedule was kept, under the open model.
    pub fn of(plan: &Plan, measured: &Measurements) -> Option<Self> {
        let open = plan.load.open?;
        let schedule = measured.schedule.unwrap_or_default();
        let seconds = measured.elapsed.as_secs_f64();
        let generator_cores = if seconds > 0.0 {
            measured.generator_cpu_s / seconds
        } else {
            0.0
        };
        Some(Self {
            rate: rate_text(&open.rate),
            arrivals: format!("{:?}", open.arrivals).to_lowercase(),
            workers: plan.load.users,
            scheduled: schedule.scheduled,
            started: schedule.started,
            unserved: schedule.unserved(),
            late_starts: schedule.late_starts,
            max_lateness_ms: schedule.max_lateness_us as f64 / 1000.0,
            generator_cpu_cores: generator_cores,
            generator_bound: schedule.late_starts as f64 > SLIPPED * schedule.started.max(1) as f64
                && generator_cores >= BUSY_CORES,
        })
    }
}

/// `"50/s"` or `"10/s..200/s over 5m"`.
pub fn rate_text(rate: &Rate) -> String {
    match rate.start == rate.end {
        true => format!("{}/s", rate.end),
        false => format!(
            "{}/s..{}/s over {}",
            rate.start,
            rate.end,
            humantime::format_duration(rate.ramp)
        ),
    }
}

/// Runs `plan` until it ends or `stop` fires, and returns what it measured and how it
/// ended.
pub async fn run(
    plan: Arc<Plan>,
    collector: Arc<Collector>,
    options: LoadOptions,
    stop: Stop,
) -> Result<LoadRun> {
    let origins = std::iter::once(&options.backend_url)
        .chain(&options.frontend_url)
        .cloned()
        .collect();
    let clients = Arc::new(HttpClients::new(&options.http, options.clients, origins)?);
    let quiet = options.quiet;
    let runner = step_runner(plan, collector, options, &stop);
    let attack = attack(&runner, &clients)?;
    let progress = progress::spawn(runner.collector.clone(), planned_duration(&runner.plan), quiet);
    let cpu_before = crate::cpu::cpu_reading(std::process::id());
    let outcome = attack_until_stopped(attack, &runner.collector, &stop).await;
    progress::finish(progress);
    outcome?;
    let measurements = Measurements {
        schedule: runner
            .pacer
            .as_ref()
            .map(|pacer| schedule(pacer, &runner.collector)),
        generator_cpu_s: generator_cpu_s(cpu_before),
        ..runner.collector.measurements()
    };
    Ok(LoadRun {
        measurements,
        ending: stop.ending(),
    })
}

/// What every step of every user shares: the plan, where requests go, the open model's
/// pacer, request ids.
fn step_runner(
    plan: Arc<Plan>,
    collector: Arc<Collector>,
    options: LoadOptions,
    stop: &Stop,
) -> Arc<StepRunner> {
    let static_urls = static_urls(&plan, &options.backend_url, options.frontend_url.as_deref());
    let request_ids = options
        .http
        .request_id
        .clone()
        .map(|header| RequestIds::new(&plan, header, &options.run_tag, options.generator));
    Arc::new(StepRunner {
        static_urls,
        collector,
        run: RunContext {
            run_tag: options.run_tag,
            sequence: AtomicU64::new(0),
        },
        backend_url: options.backend_url,
        frontend_url: options.frontend_url,
        user_offset: options.user_offset,
        hook: options.hook,
        stop: stop.clone(),
        request_ids,
        pacer: plan.load.open.map(|open| {
            Arc::new(Pacer::shared(
                open.rate,
                open.arrivals,
                plan.load.duration,
                open.share,
            ))
        }),
        plan,
    })
}

/// Goose's attack: one scenario per kind of user, its transactions the steps.
fn attack(runner: &Arc<StepRunner>, clients: &Arc<HttpClients>) -> Result<GooseAttack> {
    let mut attack = goose_attack(&runner.plan, &runner.backend_url).config_context(|| "load settings")?;
    // Goose's clients go unused (the run makes its own): one shared costs least.
    let shared = goose::client::GooseClientBuilder::new().without_cookies();
    attack = attack
        .set_client_builder_without_cookies(shared)
        .config_context(|| "load settings")?;
    for kind in runner.plan.kinds.iter().filter(|k| k.weight > 0) {
        attack = attack.register_scenario(scenario(runner, clients, kind)?);
    }
    Ok(attack)
}

/// The attack, unless `stop` fired already, with the seconds closed as they end and
/// the stop turned into Goose's killswitch.
async fn attack_until_stopped(attack: GooseAttack, collector: &Arc<Collector>, stop: &Stop) -> Result<()> {
    let _closer = Owned(spawn_second_closer(collector.clone()));
    let killswitch = Owned(spawn_killswitch(stop.clone()));
    let outcome = match stop.is_stopped() {
        true => Ok(()),
        false => run_attack(attack).await,
    };
    drop(killswitch);
    if goose::is_killswitch_triggered() {
        // Goose's own Ctrl-C handler, installed when nobody else holds SIGINT.
        stop.stop(crate::stop::StopReason::Signal("SIGINT"));
    }
    outcome
}

/// Runs Goose's attack as a task of the runtime's workers: Goose's own loop (it wakes
/// twice a second) then runs where the users do, instead of on the caller's thread,
/// which every one of its wake-ups had to hand work to and back through the kernel.
async fn run_attack(attack: GooseAttack) -> Result<()> {
    let mut attack = Owned(tokio::spawn(attack.execute()));
    match (&mut attack.0).await {
        Ok(outcome) => outcome
            .map(|_| ())
            .map_err(|e| Error::Internal(anyhow::anyhow!("load engine: {e}"))),
        Err(e) => Err(Error::Internal(anyhow::anyhow!("load engine: {e}"))),
    }
}

/// A task of the load's that ends with it, even when the load's future is dropped.
struct Owned<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Ends Goose's attack once `stop` fires, through Goose's killswitch: the one place it
/// is pulled. It is pulled again every 200 ms until the attack is over, because Goose
/// clears it when an attack starts: a stop just before that would otherwise be lost.
fn spawn_killswitch(stop: Stop) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        stop.stopped().await;
        let reason = stop.reason().map(|r| r.to_string()).unwrap_or_default();
        loop {
            goose::trigger_killswitch(&reason);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

/// Closes and encodes every step's second just after it ends, so that no request pays
/// for it (nor waits on the lock while it is done).
fn spawn_second_closer(collector: Arc<Collector>) -> tokio::task::JoinHandle<()> {
    const PAST_THE_SECOND: Duration = Duration::from_millis(5);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(collector.until_next_second(PAST_THE_SECOND)).await;
            collector.close_seconds();
        }
    })
}

/// The open model's counters: what the pacer handed out against what was due.
fn schedule(pacer: &Pacer, collector: &Collector) -> Schedule {
    let (late_starts, max_lateness) = collector.lateness();
    Schedule {
        scheduled: pacer.due_by(collector.elapsed()),
        started: pacer.taken(),
        late_starts,
        max_lateness_us: max_lateness.as_micros() as u64,
    }
}

/// CPU seconds this process used since `before`.
fn generator_cpu_s(before: Option<crate::cpu::CpuReading>) -> f64 {
    match (before, crate::cpu::cpu_reading(std::process::id())) {
        (Some(before), Some(after)) => crate::cpu::cpu_seconds(before, after),
        _ => 0.0,
    }
}

/// The progress line over `collector` until the handle is aborted (none when quiet).
pub fn show_progress(
    collector: Arc<Collector>,
    planned: Duration,
    quiet: bool,
) -> Option<tokio::task::JoinHandle<()>> {
    progress::spawn(collector, planned, quiet)
}

/// One Goose scenario per kind of user, weighted, whose transactions are its steps.
fn scenario(runner: &Arc<StepRunner>, clients: &Arc<HttpClients>, kind: &Kind) -> Result<Scenario> {
    let mut scenario = Scenario::new(&kind.name)
        .set_weight(kind.weight)
        .config_context(|| format!("kind {}", kind.name))?;
    let steps = runner
        .plan
        .steps
        .iter()
        .enumerate()
        .skip(kind.first)
        .take(kind.len);
    for (index, step) in steps {
        let runner = runner.clone();
        let clients = clients.clone();
        let function: TransactionFunction = Arc::new(move |user| {
            let runner = runner.clone();
            let clients = clients.clone();
            Box::pin(async move {
                let id = runner.user_offset + user.weighted_users_index;
                if user.get_session_data::<Session>().is_none() {
                    user.set_session_data(Session::default());
                }
                let session = user.get_session_data_unchecked_mut::<Session>();
                // Out of the session while the step runs, which takes the session too.
                let mut connections = std::mem::take(&mut session.connections);
                let mut client = clients.for_user(session, &mut connections);
                runner.run(index, id, &mut client, session).await;
                drop(client);
                session.connections = connections;
                Ok(())
            })
        });
        scenario = scenario.register_transaction(Transaction::new(function).set_name(&step.name));
    }
    Ok(scenario)
}

/// Goose's attack with our load settings given as values through its API (the users,
/// their start rate, the run time, a test plan), and everything of Goose's we do not use
/// off (its metrics, report, telnet controller). No command line is read: the
/// configuration starts from an empty one.
fn goose_attack(plan: &Plan, host: &str) -> std::result::Result<GooseAttack, GooseError> {
    let load = &plan.load;
    let config = GooseConfiguration::parse_args_default::<&str>(&[])?;
    let mut attack = GooseAttack::initialize_with_config(config)?.set_default(GooseDefault::Host, host)?;
    attack = match &load.test_plan {
        // A test plan's only form in Goose's API is its text.
        Some(test_plan) => attack.set_default(GooseDefault::TestPlan, test_plan.as_str())?,
        None => {
            let rate = if load.increase_rate > 0.0 {
                load.increase_rate
            } else {
                load.users as f64
            };
            attack
                .set_default(GooseDefault::Users, load.users)?
                // Goose takes a start rate as text only (a decimal it parses itself).
                .set_default(GooseDefault::IncreaseRate, rate.to_string().as_str())?
                .set_default(GooseDefault::RunTime, load.duration.as_secs().max(1) as usize)?
        }
    };
    for off in [
        GooseDefault::NoTelnet,
        GooseDefault::NoMetrics,
        GooseDefault::NoPrintMetrics,
    ] {
        attack = attack.set_default(off, true)?;
    }
    Ok(*attack.set_default(GooseDefault::Quiet, 1)?)
}

/// How long the run is planned to last, for the progress line.
pub fn planned_duration(plan: &Plan) -> Duration {
    let load = &plan.load;
    if load.test_plan.is_some() {
        return load.duration;
    }
    let ramp = if load.increase_rate > 0.0 {
        load.users as f64 / load.increase_rate
    } else {
        0.0
    };
    load.duration + Duration::from_secs_f64(ramp)
}
