//! `scenario` and `capacity`: a load run's scenario, load, gate, live view and
//! generators, checked.

use std::sync::Arc;
use std::time::Duration;

use super::gate::{gate_policy, history_settings};
use super::{ReportConfig, StackConfig};
use crate::capacity::{SearchPlan, SearchSettings};
use crate::cli::{CapacityArgs, GeneratorArgs, ScenarioArgs};
use crate::compare::{Baseline, HistorySettings};
use crate::distributed::{EngineKind, GeneratorsConfig};
use crate::error::{Error, Result};
use crate::live::LiveConfig;
use crate::load::Clients;
use crate::report::GatePolicy;
use crate::scenario::{LoadOverrides, Plan, Source};

/// `scenario`: everything one run needs, checked.
pub struct ScenarioConfig {
    /// The scenario file, as generators of a distributed run get it.
    pub source: Source,
    /// Several generators, when asked for (`--generators N`).
    pub generators: Option<GeneratorsConfig>,
    /// Shared with the load engine's tasks.
    pub plan: Arc<Plan>,
    pub stack: StackConfig,
    pub reports: ReportConfig,
    /// How virtual users get their HTTP clients.
    pub clients: Clients,
    /// The baseline to compare with, and how.
    pub gate: Option<Gate>,
    /// The dashboard, `/metrics` and remote write.
    pub live: LiveConfig,
    /// The history this run joins when it completes without a regression.
    pub add_to_history: Option<std::path::PathBuf>,
}

/// `capacity`: the scenario, the search and the stack, checked.
pub struct CapacityConfig {
    /// The scenario file, rebuilt into a plan for every step's rate.
    pub source: Source,
    /// Each step's load on several generators, when asked for (`--generators N`).
    pub generators: Option<GeneratorsConfig>,
    pub plan: Plan,
    pub search: SearchPlan,
    pub stack: StackConfig,
    pub reports: ReportConfig,
}

/// A baseline and the policy that tells a regression from noise.
pub struct Gate {
    pub baseline: Baseline,
    pub policy: GatePolicy,
    pub history: HistorySettings,
}

impl ScenarioConfig {
    pub fn resolve(args: &ScenarioArgs) -> Result<Self> {
        Self::resolve_source(Source::locate(&args.scenario)?, args)
    }

    /// [`ScenarioConfig::resolve`] of a scenario already located (e.g. a built-in copy).
    pub fn resolve_source(source: Source, args: &ScenarioArgs) -> Result<Self> {
        let overrides = LoadOverrides {
            users: args.users,
            increase_rate: args.increase_rate,
            duration: args.duration,
            test_plan: args.test_plan.clone(),
            rate: args.rate.clone(),
            arrivals: args.arrivals.map(Into::into),
            max_workers: args.max_workers,
            workers: args.workers,
            ..Default::default()
        };
        let plan = Plan::build_with_abort(&source, &overrides, &args.slos, args.abort_after)?;
        let stack = StackConfig::resolve(&args.stack, &plan)?;
        let gate = match args.baseline.is_empty() {
            true => None,
            false => Some(Gate {
                baseline: Baseline::load(&args.baseline, Some(&plan.name))?,
                policy: gate_policy(&args.gate)?,
                history: history_settings(&args.gate)?,
            }),
        };
        let generators = generators_config(&args.generators, Some(&plan))?;
        Ok(Self {
            source,
            generators,
            plan: Arc::new(plan),
            stack,
            reports: ReportConfig {
                dir: args.reports.report_dir.clone(),
                quiet: args.progress.quiet,
            },
            clients: args.clients.into(),
            gate,
            live: live_config(&args.live)?,
            add_to_history: args.add_to_history.clone(),
        })
    }
}

impl CapacityConfig {
    pub fn resolve(args: &CapacityArgs) -> Result<Self> {
        let source = Source::locate(&args.scenario)?;
        let plan = Plan::build(&source, &LoadOverrides::default(), &[])?;
        let search = search_plan(args, &plan)?;
        let stack = StackConfig::resolve(&args.stack, &plan)?;
        let generators = generators_config(&args.generators, None)?;
        Ok(Self {
            generators,
            source,
            plan,
            search,
            stack,
            reports: ReportConfig {
                dir: args.reports.report_dir.clone(),
                quiet: args.progress.quiet,
            },
        })
    }
}

/// The live-view flags, checked: a remote-write URL that parses.
fn live_config(args: &crate::cli::LiveArgs) -> Result<LiveConfig> {
    let remote_write = match &args.remote_write {
        Some(url) => Some(crate::stack::normalise(url, "--remote-write")?),
        None => None,
    };
    Ok(LiveConfig {
        metrics: args.prometheus_listen,
        dashboard: args.dashboard,
        remote_write,
        linger: args.dashboard_linger,
    })
}

/// `--generators N` and its engine, checked against the plan's closed-model load when
/// there is one (capacity's steps are open-model: any count splits).
fn generators_config(args: &GeneratorArgs, closed: Option<&Plan>) -> Result<Option<GeneratorsConfig>> {
    let Some(count) = args.generators.map(usize::from) else {
        return Ok(None);
    };
    let closed = closed.filter(|plan| plan.load.open.is_none() && plan.load.test_plan.is_none());
    if let Some(plan) = closed.filter(|plan| plan.load.users < count) {
        return Err(Error::config(format!(
            "{} users cannot be spread over {count} generators: give at least one each (--users)",
            plan.load.users
        )));
    }
    let listen = args
        .coordinator_listen
        .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let engine = EngineKind::from(args.engine);
    if engine == EngineKind::External && listen.port() == 0 {
        return Err(Error::config(
            "--engine external needs --coordinator-listen ADDR:PORT: the generators must know where to register",
        ));
    }
    Ok(Some(GeneratorsConfig {
        count,
        engine,
        listen,
        image: args.image.clone(),
        register_timeout: args.register_timeout,
    }))
}

/// The search flags and the scenario, checked.
fn search_plan(args: &CapacityArgs, plan: &Plan) -> Result<SearchPlan> {
    let bad = |message: &str| Err(Error::config(message.to_owned()));
    let positive = |value: f64| value.is_finite() && value > 0.0;
    if !positive(args.start_rate) || args.start_rate > args.max_rate {
        return bad("--start-rate must be above 0 and at most --max-rate");
    }
    if !positive(args.growth - 1.0) || !positive(args.precision) {
        return bad("--growth must be above 1 and --precision above 0");
    }
    if args.step_duration < Duration::from_secs(5) || args.max_steps == 0 {
        return bad("--step-duration must be at least 5s and --max-steps at least 1");
    }
    if args.max_workers == 0 || args.max_workers > crate::scenario::MAX_USERS {
        return bad("--max-workers must be from 1 to 1000000");
    }
    let target_rate = args.target_rps.or(plan.target_rps);
    if target_rate.is_some_and(|t| !positive(t)) {
        return bad("--target-rps must be above 0");
    }
    Ok(SearchPlan {
        search: SearchSettings {
            start: args.start_rate,
            growth: args.growth,
            precision: args.precision,
            max_rate: args.max_rate,
        },
        warmup: args.warmup,
        measure: args.step_duration,
        max_steps: args.max_steps,
        error_budget: args.error_budget,
        checks: crate::capacity::checks(plan, args.error_budget),
        target_rate,
        max_workers: args.max_workers,
    })
}
