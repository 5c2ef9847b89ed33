//! The Docker stack: Postgres, Redis, the backend (one or more replicas, behind nginx
//! when more than one) and the frontend as containers on a network of the run's own,
//! started with testcontainers, each checked by the seed's health check before the
//! next starts, each with the seed's CPU and memory limits for the chosen profile.
//!
//! The reference backend and frontend run from this very executable, mounted
//! read-only into a Debian 12 runtime image, so the containers always run the code of
//! the harness that started them; `--backend-image`/`--frontend-image` run a team's
//! own images instead, and `--backend-build DIR` builds one first.
//!
//! Everything is labelled with the run id and the harness's pid: teardown removes what
//! the run created (on success, error, panic and Ctrl-C), and each new run sweeps what
//! a killed harness left behind.

mod engine;
mod fleet;
mod images;
mod lb;
mod parts;
mod profile;
mod spec;

use std::path::PathBuf;
use std::time::Duration;

use rand::distributions::{Alphanumeric, DistString};

use super::{backend_env, Endpoints, Stack, StackKind, StackOptions, Store, DATABASE};
use crate::error::Result;
pub(super) use engine::answers;
pub use engine::{connect, inspect_running, Swept, Watched};
pub use fleet::{Fleet, Member};
pub use images::ImageChoice;
pub use lb::{access_log, Attempts};
pub use parts::{DockerParts, Instance};
pub use profile::{Limits, Profile, StackLimits};
use spec::Spec;

/// How the Docker stack is shaped: the resolved `--profile`, `--replicas` and image flags.
#[derive(Clone, Debug)]
pub struct DockerOptions {
    pub profile: Profile,
    pub replicas: usize,
    /// A second, never reloaded balancer in front of the first, for deploys: see
    /// [`lb::edge_config`].
    pub edge: bool,
    pub images: ImageChoice,
    /// A Dockerfile context to build the backend image from.
    pub backend_build: Option<PathBuf>,
}

impl Default for DockerOptions {
    fn default() -> Self {
        Self {
            profile: Profile::Prod,
            replicas: 1,
            edge: false,
            images: ImageChoice::default(),
            backend_build: None,
        }
    }
}

/// Ports inside the containers (the seed's).
const POSTGRES_PORT: u16 = 5432;
const REDIS_PORT: u16 = 6379;
const BACKEND_PORT: u16 = 8080;
const FRONTEND_PORT: u16 = 3000;

/// How long one container may take to pass its health check.
const READY: Duration = Duration::from_secs(120);

/// Settings a user may export for the backend (as with the local stack, where the
/// child inherits them): they pass into every backend container.
const PASSTHROUGH: &[&str] = &[
    "BCRYPT_COST",
    "RATE_LIMIT_ENABLED",
    "RATE_LIMIT_AUTH_PER_MINUTE",
    "RATE_LIMIT_SEARCH_PER_MINUTE",
    "RATE_LIMIT_API_PER_MINUTE",
    "SEARCH_CACHE_TTL",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "DB_MAX_OPEN_CONNS",
    "DB_MAX_IDLE_CONNS",
    "DB_CONN_MAX_LIFETIME",
    "JWT_ACCESS_EXPIRY",
    "JWT_REFRESH_EXPIRY",
];

/// The Debian 12 image this binary runs in inside a container: `chosen`, else the local
/// set's base where `docker/build.sh` made it, else the public one.
pub async fn runtime_image(chosen: Option<&str>) -> Result<String> {
    let docker = engine::connect().await?;
    let choice = ImageChoice {
        runtime: chosen.map(str::to_owned),
        ..Default::default()
    };
    Ok(choice.resolve(&docker).await.runtime)
}

/// Starts the stack; whatever started is removed again if a later part fails (the
/// returned error drops the half-built [`Stack`]).
pub(super) async fn start(options: &StackOptions) -> Result<Stack> {
    let docker = engine::connect().await?;
    let swept = engine::sweep(&docker, true).await?;
    if swept != engine::Swept::default() {
        eprintln!("karigar-perf: removed {swept} left by killed runs");
    }
    let mut images = options.docker.images.resolve(&docker).await;
    let network = format!("karigar-{}", options.run_id);
    engine::create_network(&docker, &network, &options.run_id).await?;
    let mut stack = Stack {
        endpoints: Endpoints::default(),
        kind: StackKind::Docker,
        parts: Vec::new(),
        scratch: None,
        docker: Some(DockerParts::new(
            docker.clone(),
            options.run_id.clone(),
            network,
            options.logs_dir.clone(),
        )),
    };
    let parts = stack.docker.as_mut().expect("just set");
    if let Some(context) = &options.docker.backend_build {
        // The run's own tag, removed with the run: runs beside each other each start
        // what they built.
        let tag = images::built_tag(&options.run_id);
        crate::console::status(&format!("building {tag} from {}", context.display()));
        images::build(context, &tag, &images.runtime, &engine::labels(&options.run_id))?;
        images.backend = Some(tag);
    }
    let secrets = Secrets::new();
    let (postgres_url, redis_url) = start_stores(parts, &images, options, &secrets).await?;
    stack.endpoints.postgres = Some(postgres_url);
    stack.endpoints.redis = Some(redis_url);
    stack.endpoints.backend = start_backends(parts, &images, options, &secrets).await?;
    stack.endpoints.frontend = match &options.frontend {
        Some(url) => Some(url.clone()),
        None => Some(start_frontend(parts, &images, options, &stack.endpoints.backend).await?),
    };
    Ok(stack)
}

/// Passwords of one run's stores.
struct Secrets {
    postgres: String,
    redis: String,
}

impl Secrets {
    fn new() -> Self {
        let mut rng = rand::thread_rng();
        Self {
            postgres: Alphanumeric.sample_string(&mut rng, 24),
            redis: Alphanumeric.sample_string(&mut rng, 24),
        }
    }
}

/// Postgres and Redis with the seed's configuration; their URLs as the harness
/// reaches them (published on 127.0.0.1).
async fn start_stores(
    parts: &mut DockerParts,
    images: &images::Images,
    options: &StackOptions,
    secrets: &Secrets,
) -> Result<(String, String)> {
    let limits = options.docker.profile.limits();
    let postgres = parts
        .start(
            Spec::new("postgres", &images.postgres, POSTGRES_PORT, limits.postgres)
                .env("POSTGRES_USER", "postgres")
                .env("POSTGRES_PASSWORD", &secrets.postgres)
                .env("POSTGRES_DB", DATABASE)
                .health("pg_isready -U postgres -h 127.0.0.1"),
        )
        .await?;
    let redis = parts
        .start(
            Spec::new("redis", &images.redis, REDIS_PORT, limits.redis)
                .cmd(&[
                    "redis-server",
                    "--appendonly",
                    "yes",
                    "--requirepass",
                    &secrets.redis,
                    "--maxmemory",
                    &crate::policy::redis_maxmemory(),
                    "--maxmemory-policy",
                    crate::policy::REDIS_MAXMEMORY_POLICY,
                ])
                .health(&format!(
                    "redis-cli --no-auth-warning -a {} ping | grep -q PONG",
                    secrets.redis
                )),
        )
        .await?;
    Ok((
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{DATABASE}",
            secrets.postgres, postgres.host_port
        ),
        format!("redis://:{}@127.0.0.1:{}/0", secrets.redis, redis.host_port),
    ))
}

/// The backend replicas (and nginx in front of them when there are several); the
/// URL the load goes to.
async fn start_backends(
    parts: &mut DockerParts,
    images: &images::Images,
    options: &StackOptions,
    secrets: &Secrets,
) -> Result<String> {
    let postgres = parts.container_name("postgres");
    let redis = parts.container_name("redis");
    let mut env = backend_env(
        Store::new(&postgres, POSTGRES_PORT, &secrets.postgres),
        Store::new(&redis, REDIS_PORT, &secrets.redis),
    );
    env.push(("SERVER_HOST", "0.0.0.0".into()));
    env.push(("SERVER_PORT", BACKEND_PORT.to_string()));
    for name in PASSTHROUGH {
        if let Ok(value) = std::env::var(name) {
            env.push((name, value));
        }
    }
    let limits = options.docker.profile.limits().backend;
    let mut first_url = String::new();
    for replica in 1..=options.docker.replicas.max(1) {
        let mut spec = app_spec(
            &format!("backend-{replica}"),
            images.backend.as_deref(),
            "backend",
            images,
            options,
            BACKEND_PORT,
            limits,
        )
        .http_health("/health");
        for (name, value) in &env {
            spec = spec.env(name, value);
        }
        for (name, value) in &options.backend_env {
            spec = spec.env(name, value);
        }
        if replica == 1 {
            parts.keep_backend_template(&spec);
        }
        let started = parts.start(spec).await?;
        parts.mark_backend(&started.id);
        if replica == 1 {
            first_url = started.url();
        }
    }
    if options.docker.replicas <= 1 {
        return Ok(first_url);
    }
    let config = lb::nginx_config(&parts.backend_names(), BACKEND_PORT);
    let balancer = parts
        .start(nginx_spec("lb", &images.nginx, config, limits))
        .await?;
    parts.mark_balancer(&balancer.id);
    if !options.docker.edge {
        return Ok(balancer.url());
    }
    let config = lb::edge_config(&parts.container_name("lb"), BACKEND_PORT);
    let edge = parts
        .start(nginx_spec("edge", &images.nginx, config, limits))
        .await?;
    Ok(edge.url())
}

/// nginx as `role`, running `config`, ready once `/health` passes through it.
fn nginx_spec(role: &str, image: &str, config: String, limits: Limits) -> Spec {
    Spec::new(role, image, BACKEND_PORT, limits)
        .copy(fleet::LB_CONFIG, config.into_bytes())
        .cmd(&["nginx", "-c", fleet::LB_CONFIG, "-g", "daemon off;"])
        .http_health("/health")
}

async fn start_frontend(
    parts: &mut DockerParts,
    images: &images::Images,
    options: &StackOptions,
    backend_url: &str,
) -> Result<String> {
    let limits = options.docker.profile.limits().frontend;
    let spec = app_spec(
        "frontend",
        images.frontend.as_deref(),
        "frontend",
        images,
        options,
        FRONTEND_PORT,
        limits,
    )
    .env("HOSTNAME", "0.0.0.0")
    .env("PORT", &FRONTEND_PORT.to_string())
    .env("NEXT_PUBLIC_API_URL", &format!("{backend_url}/api/v1"))
    .http_health("/");
    Ok(parts.start(spec).await?.url())
}

/// A user's image as it is, or the reference app: this executable mounted into the
/// runtime image, run with its hidden subcommand.
fn app_spec(
    role: &str,
    image: Option<&str>,
    subcommand: &str,
    images: &images::Images,
    options: &StackOptions,
    port: u16,
    limits: Limits,
) -> Spec {
    match image {
        Some(image) => Spec::new(role, image, port, limits),
        None => Spec::new(role, &images.runtime, port, limits)
            .mount_exe(&options.backend_exe)
            .cmd(&[spec::EXE_IN_CONTAINER, subcommand]),
    }
}

/// `karigar-perf stack down`: removes every container and network of karigar-perf
/// runs (or only orphans), and says how many; `None` when no Docker daemon answers,
/// so that stopping a local stack on a machine without Docker is no failure.
pub async fn down(orphans_only: bool) -> Result<Option<engine::Swept>> {
    let Ok(docker) = engine::connect().await else {
        return Ok(None);
    };
    engine::sweep(&docker, orphans_only).await.map(Some)
}
