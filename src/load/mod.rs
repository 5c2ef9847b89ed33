//! The load engine: each scenario step becomes a Goose transaction run by virtual
//! users, in a closed loop or (with a rate) as workers taking iterations from the
//! [`pacer`]'s schedule; our own [`Collector`] measures every request.

pub mod pacer;
mod progress;
mod session;
mod step;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use goose::config::GooseConfiguration;
use goose::prelude::*;

use crate::error::{Error, Result};
use crate::metrics::{Collector, Snapshot};
use crate::scenario::{Kind, Plan};
use crate::slo::WindowResult;
use crate::telemetry::Telemetry;
use pacer::Pacer;
use session::{RunContext, Session};
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
}

/// One HTTP client (connection pool) for every virtual user, or one each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Clients {
    /// One client without cookies, shared: about 60 KB per user instead of 160 KB,
    /// and 10,000 users start in well under a second.
    #[default]
    Shared,
    /// Goose's default: each user its own client, connection pool and cookie jar.
    PerUser,
}

/// What the load phase hands on.
pub struct LoadResult {
    pub snapshot: Snapshot,
    /// The run was stopped early (Ctrl-C, SIGTERM): the snapshot is partial.
    pub interrupted: bool,
    /// What the samplers saw while the load ran.
    pub telemetry: Option<Telemetry>,
    /// Live results of windowed SLOs, per SLO of the plan.
    pub windows: Vec<Option<WindowResult>>,
    /// The dataset seeded before the load, if any.
    pub dataset: Option<crate::seed::SeedReport>,
    /// Faults injected while the load ran.
    pub faults: Vec<crate::faults::FaultEvent>,
    /// How the open model's schedule was kept.
    pub open: Option<OpenReport>,
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

fn open_report(pacer: &Pacer, runner: &StepRunner, generator_cores: f64) -> OpenReport {
    let rate = pacer.rate();
    let elapsed = runner.collector.elapsed();
    let scheduled = pacer.due_by(elapsed);
    let started = pacer.taken();
    let (late_starts, max_lateness) = runner.collector.lateness();
    OpenReport {
        rate: match rate.start == rate.end {
            true => format!("{}/s", rate.end),
            false => format!(
                "{}/s..{}/s over {}",
                rate.start,
                rate.end,
                humantime::format_duration(rate.ramp)
            ),
        },
        arrivals: format!(
            "{:?}",
            runner
                .plan
                .load
                .open
                .map(|o| o.arrivals)
                .unwrap_or(pacer::Arrivals::Constant)
        )
        .to_lowercase(),
        workers: runner.plan.load.users,
        scheduled,
        started,
        unserved: scheduled.saturating_sub(started),
        late_starts,
        max_lateness_ms: max_lateness.as_secs_f64() * 1000.0,
        generator_cpu_cores: generator_cores,
        generator_bound: late_starts as f64 > SLIPPED * started.max(1) as f64
            && generator_cores >= BUSY_CORES,
    }
}

/// Runs `plan` to completion or interruption and returns the measurements.
pub async fn run(plan: Arc<Plan>, collector: Arc<Collector>, options: LoadOptions) -> Result<LoadResult> {
    let config = goose_configuration(&plan, &options.backend_url)?;
    let runner = Arc::new(StepRunner {
        collector,
        run: RunContext {
            run_tag: options.run_tag,
            sequence: AtomicU64::new(0),
        },
        backend_url: options.backend_url,
        frontend_url: options.frontend_url,
        pacer: plan
            .load
            .open
            .map(|open| Arc::new(Pacer::new(open.rate, open.arrivals, plan.load.duration))),
        plan,
    });
    let mut attack = GooseAttack::initialize_with_config(config)
        .map_err(|e| Error::config(format!("load settings: {e}")))?;
    if options.clients == Clients::Shared {
        let shared = goose::client::GooseClientBuilder::new().without_cookies();
        attack = attack
            .set_client_builder_without_cookies(shared)
            .map_err(|e| Error::config(format!("load settings: {e}")))?;
    }
    for kind in &runner.plan.kinds {
        attack = attack.register_scenario(scenario(&runner, kind)?);
    }
    let progress = progress::spawn(
        runner.collector.clone(),
        planned_duration(&runner.plan),
        options.quiet,
    );
    let generator_cpu = crate::telemetry::cpu_reading(std::process::id());
    let outcome = attack.execute().await;
    progress::finish(progress);
    let interrupted = goose::is_killswitch_triggered();
    outcome.map_err(|e| Error::Internal(anyhow::anyhow!("load engine: {e}")))?;
    let snapshot = runner.collector.snapshot();
    let generator_cores = match (generator_cpu, crate::telemetry::cpu_reading(std::process::id())) {
        (Some(before), Some(after)) => crate::telemetry::cpu_percent(before, after, 1.0) / 100.0,
        _ => 0.0,
    };
    let open = runner
        .pacer
        .as_ref()
        .map(|pacer| open_report(pacer, &runner, generator_cores));
    Ok(LoadResult {
        open,
        snapshot,
        interrupted,
        telemetry: None,
        windows: Vec::new(),
        dataset: None,
        faults: Vec::new(),
    })
}

/// One Goose scenario per kind of user, weighted, whose transactions are its steps.
fn scenario(runner: &Arc<StepRunner>, kind: &Kind) -> Result<Scenario> {
    let mut scenario = Scenario::new(&kind.name)
        .set_weight(kind.weight)
        .map_err(|e| Error::config(format!("kind {}: {e}", kind.name)))?;
    let steps = runner
        .plan
        .steps
        .iter()
        .enumerate()
        .skip(kind.first)
        .take(kind.len);
    for (index, step) in steps {
        let runner = runner.clone();
        let function: TransactionFunction = Arc::new(move |user| {
            let runner = runner.clone();
            Box::pin(async move {
                let client = user.client.clone();
                let id = user.weighted_users_index;
                if user.get_session_data::<Session>().is_none() {
                    user.set_session_data(Session::default());
                }
                let session = user.get_session_data_unchecked_mut::<Session>();
                runner.run(index, id, &client, session).await;
                Ok(())
            })
        });
        scenario = scenario.register_transaction(Transaction::new(function).set_name(&step.name));
    }
    Ok(scenario)
}

/// Goose's own configuration: our load settings, and everything we do not use off
/// (its metrics, report, telnet and websocket controllers).
fn goose_configuration(plan: &Plan, host: &str) -> Result<GooseConfiguration> {
    let load = &plan.load;
    let mut args: Vec<String> = vec!["--host".into(), host.into()];
    match &load.test_plan {
        Some(test_plan) => args.extend(["--test-plan".into(), test_plan.clone()]),
        None => {
            let rate = if load.increase_rate > 0.0 {
                load.increase_rate
            } else {
                load.users as f64
            };
            args.extend([
                "--users".into(),
                load.users.to_string(),
                "--increase-rate".into(),
                rate.to_string(),
                "--run-time".into(),
                format!("{}s", load.duration.as_secs().max(1)),
            ]);
        }
    }
    args.extend(["--no-telnet", "--no-metrics", "--no-print-metrics", "--quiet"].map(String::from));
    GooseConfiguration::parse_args_default(&args).map_err(|e| Error::config(format!("load settings: {e}")))
}

/// How long the run is planned to last, for the progress line.
fn planned_duration(plan: &Plan) -> Duration {
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
