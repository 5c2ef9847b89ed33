//! What every command that starts a stack shares, owned by none of them: naming the
//! run and its report folder, bringing the stack up, recording and seeding it, and
//! what the telemetry samplers watch.

use std::path::{Path, PathBuf};

use rand::distributions::{Alphanumeric, DistString};

use crate::config::{ReportConfig, StackConfig};
use crate::console::status;
use crate::distributed::{EngineKind, GeneratorsConfig, Placement};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::load::{Clients, LoadOptions};
use crate::seed::SeedReport;
use crate::stack::{self, Stack, StackKind, StackOptions, TargetInfo};
use crate::telemetry::{available_cores, Limits, Targets};

/// What a run needs before its stack starts.
pub struct Setup {
    pub run_id: String,
    pub report_dir: PathBuf,
    pub stack: StackOptions,
}

impl Setup {
    /// Names the run and creates its report folder, once the configuration is known to
    /// be good. `backend_exe` serves the reference backend and frontend of the local
    /// stack (normally this very executable).
    pub fn prepare(
        stack: &StackConfig,
        reports: &ReportConfig,
        name: &str,
        backend_exe: PathBuf,
    ) -> Result<Self> {
        let run_id = crate::config::run_id(name);
        let report_dir = crate::config::output_path(reports.dir.as_deref(), &run_id);
        let options = StackOptions {
            kind: stack.kind,
            target: stack.target.clone(),
            frontend: stack.frontend.clone(),
            logs_dir: report_dir.join("logs"),
            backend_exe,
            run_id: run_id.clone(),
            docker: stack.docker.clone(),
            backend_env: stack.backend_env.clone(),
            install_missing: stack.install_missing,
            http: stack.http.clone(),
        };
        create_report_dir(&report_dir, &options.logs_dir)?;
        Ok(Self {
            run_id,
            report_dir,
            stack: options,
        })
    }

    /// Says what starts, brings the stack up (unless a signal comes first: `None`) and
    /// records it in `stack.json`.
    pub async fn start_stack(&self, interrupt: &Interrupt, what: &str) -> Result<Option<Stack>> {
        status(&format!(
            "{what} {}: starting the {} stack",
            self.run_id,
            kind_name(self.stack.kind)
        ));
        for line in self.stack.http.describe() {
            status(&format!("http: {line}"));
        }
        let provisioning = std::time::Instant::now();
        let Some(stack) = provision(&self.stack, interrupt).await? else {
            return Ok(None);
        };
        record_stack(&stack, provisioning.elapsed().as_secs_f64(), &self.report_dir)?;
        Ok(Some(stack))
    }

    /// Where this run's generators go: this executable, the run's logs, and (for Swarm
    /// tasks without an image of their own) the runtime image to mount it into.
    pub async fn placement(&self, generators: &GeneratorsConfig) -> Result<Placement> {
        let runtime_image = match generators.engine {
            EngineKind::Swarm if generators.image.is_none() => {
                stack::runtime_image(self.stack.docker.images.runtime.as_deref()).await?
            }
            _ => String::new(),
        };
        Ok(Placement {
            exe: self.stack.backend_exe.clone(),
            run_id: self.run_id.clone(),
            logs_dir: self.stack.logs_dir.clone(),
            runtime_image,
        })
    }

    /// Who the load would have gone to, before a stack exists.
    pub fn planned_target(&self) -> TargetInfo {
        TargetInfo {
            stack: kind_name(self.stack.kind).into(),
            backend: self
                .stack
                .target
                .clone()
                .unwrap_or_else(|| "(not started)".into()),
            frontend: self.stack.frontend.clone(),
            http: self.stack.http.describe(),
        }
    }
}

/// Brings the stack up unless a signal arrives first (`Ok(None)`); a half-started
/// stack is torn down as its future is dropped.
pub async fn provision(options: &StackOptions, interrupt: &Interrupt) -> Result<Option<Stack>> {
    tokio::select! {
        stack = stack::provision(options) => stack.map(Some),
        _ = interrupt.wait() => Ok(None),
    }
}

/// Seeds the stack's database with the configured dataset, if any.
pub async fn seed_stack(stack: &Stack, config: &StackConfig) -> Result<Option<SeedReport>> {
    let Some(size) = config.seed else {
        return Ok(None);
    };
    let url = stack.endpoints.postgres.as_deref().ok_or_else(|| {
        Error::config(
            "--seed-providers needs a stack the harness started (for a deployment, use `karigar-perf seed`)",
        )
    })?;
    let report = crate::seed::seed_url(url, size).await?;
    status(&format!(
        "seeded {} providers, {} services, {} customers in {:.1}s",
        report.size.providers, report.services, report.size.customers, report.seconds
    ));
    Ok(Some(report))
}

/// What telemetry watches: the started stack's parts, or those the user named
/// (`--postgres-url`, `--redis-url`, `--backend-pid`, `--backend-container`,
/// `--prometheus`), which take their place.
pub async fn telemetry_targets(stack: &Stack, config: &StackConfig) -> Result<Targets> {
    let observe = &config.observe;
    let mut targets = Targets {
        backends: stack
            .pids()
            .into_iter()
            .filter(|(name, _)| name == "backend")
            .collect(),
        containers: Vec::new(),
        docker: None,
        addresses: Default::default(),
        backend_url: stack.endpoints.backend.clone(),
        http: config.http.clone(),
        postgres_url: observe.postgres_url.clone().or(stack.endpoints.postgres.clone()),
        redis_url: observe.redis_url.clone().or(stack.endpoints.redis.clone()),
        prometheus: observe.prometheus.clone(),
        limits: Limits {
            cpu_cores: config.cpu_limit_cores.unwrap_or_else(available_cores),
            memory_bytes: config.memory_limit_bytes,
        },
    };
    if let Some(parts) = &stack.docker {
        let instances = parts.backends();
        targets.containers = instances
            .iter()
            .map(|i| (i.name.clone(), i.container_id.clone()))
            .collect();
        targets.addresses = instances.iter().map(|i| (i.ip.clone(), i.name.clone())).collect();
        targets.docker = Some(parts.docker().clone());
        if let Some(first) = instances.first() {
            targets.limits = Limits {
                cpu_cores: first.limits.cpus,
                memory_bytes: first.limits.memory_bytes,
            };
        }
    }
    if !observe.backend_pids.is_empty() {
        targets.backends = numbered("backend", &observe.backend_pids);
    }
    if !observe.backend_containers.is_empty() {
        watch_containers(&mut targets, config).await?;
    }
    Ok(targets)
}

/// `backend` for one instance, `backend-1`, `backend-2`, ... for several.
fn numbered<T: Clone>(role: &str, items: &[T]) -> Vec<(String, T)> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match items.len() {
            1 => (role.to_owned(), item.clone()),
            _ => (format!("{role}-{}", i + 1), item.clone()),
        })
        .collect()
}

/// The user's backend containers, with the first one's limits as the base of its
/// percentages unless `--cpu-limit` says otherwise.
async fn watch_containers(targets: &mut Targets, config: &StackConfig) -> Result<()> {
    let docker = crate::stack::connect_docker().await?;
    let watched = crate::stack::inspect_running(&docker, &config.observe.backend_containers).await?;
    if let Some(first) = watched.first() {
        targets.limits = Limits {
            cpu_cores: config
                .cpu_limit_cores
                .or(first.cpus)
                .unwrap_or_else(available_cores),
            memory_bytes: first.memory_bytes.unwrap_or(config.memory_limit_bytes),
        };
    }
    targets.containers = watched.into_iter().map(|w| (w.name, w.id)).collect();
    targets.docker = Some(docker);
    Ok(())
}

/// `stack.json`: what ran where (no secrets) and how long it took to start, so a run
/// can be inspected afterwards.
pub fn record_stack(stack: &Stack, start_s: f64, report_dir: &Path) -> Result<()> {
    let processes: Vec<_> = stack
        .pids()
        .into_iter()
        .map(|(name, pid)| serde_json::json!({ "name": name, "pid": pid }))
        .collect();
    let containers: Vec<_> = stack
        .docker
        .as_ref()
        .map(|parts| parts.containers())
        .unwrap_or_default()
        .into_iter()
        .map(|(name, id, image)| serde_json::json!({ "name": name, "id": id, "image": image }))
        .collect();
    let record = serde_json::json!({
        "stack": kind_name(stack.kind),
        "start_s": (start_s * 100.0).round() / 100.0,
        "backend": stack.endpoints.backend,
        "frontend": stack.endpoints.frontend,
        "processes": processes,
        "containers": containers,
    });
    let path = report_dir.join("stack.json");
    std::fs::write(&path, format!("{record:#}\n"))
        .map_err(|e| Error::Internal(anyhow::anyhow!("cannot write {}: {e}", path.display())))
}

/// Where the load went and how, for reports.
pub fn target_info(stack: &Stack, config: &StackConfig) -> TargetInfo {
    TargetInfo {
        stack: kind_name(stack.kind).into(),
        backend: stack.endpoints.backend.clone(),
        frontend: stack.endpoints.frontend.clone(),
        http: config.http.describe(),
    }
}

pub fn kind_name(kind: StackKind) -> &'static str {
    match kind {
        StackKind::Auto => "auto",
        StackKind::Local => "local",
        StackKind::Docker => "docker",
        StackKind::External => "external",
    }
}

/// The report folder and its `logs/` inside.
pub fn create_report_dir(report_dir: &Path, logs_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(logs_dir).map_err(|e| {
        Error::config(format!(
            "cannot create report folder {}: {e}",
            report_dir.display()
        ))
    })
}

/// A short random tag made part of every unique value (emails) of one load.
pub fn run_tag() -> String {
    Alphanumeric
        .sample_string(&mut rand::thread_rng(), 8)
        .to_ascii_lowercase()
}

/// Where the load goes, with a fresh tag for this run's unique values.
pub fn load_options(stack: &Stack, config: &StackConfig, quiet: bool, clients: Clients) -> LoadOptions {
    LoadOptions {
        backend_url: stack.endpoints.backend.clone(),
        frontend_url: stack.endpoints.frontend.clone(),
        run_tag: run_tag(),
        quiet,
        clients,
        user_offset: 0,
        hook: None,
        http: config.http.clone(),
        generator: None,
    }
}
