//! Where the generators run. `local`: worker processes of this very executable, which
//! die with the coordinator. `swarm`: a Docker Swarm service of N replicas on the host
//! network, the harness's binary bind-mounted into the local runtime image (or an image
//! of the harness itself), the token in a Swarm secret; swarm mode is initialised only
//! when the engine had none, and left again. `external`: something else starts them
//! (e.g. the Kubernetes Job of `karigar-perf k8s generators`); the coordinator waits.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::Command;

use super::protocol::TOKEN_ENV;
use crate::error::Context as _;
use crate::error::{Error, Result};
use crate::stack::ManagedProcess;

/// Which engine places the generators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// Worker processes of this executable on this machine.
    Local,
    /// A Docker Swarm service with one replica per generator.
    Swarm,
    /// Started by someone else (a Kubernetes Job, say): only wait for them.
    External,
}

/// What an engine needs to start the generators.
pub struct Launch<'a> {
    pub count: usize,
    pub coordinator_url: &'a str,
    pub token: &'a str,
    /// An image with the harness in it (`swarm`); else the runtime image with the
    /// binary mounted.
    pub image: Option<&'a str>,
    pub placement: &'a super::Placement,
    /// The scenario's folder, for the data files it names: mounted at the same path
    /// into Swarm tasks.
    pub scenario_dir: Option<&'a std::path::Path>,
    /// The values of the variables the HTTP settings name ([`crate::http::Travelling`]):
    /// a local generator's environment, a Swarm task's secret.
    pub env: &'a BTreeMap<String, String>,
    /// The TLS files Swarm tasks get as secrets: the name they see and the file here.
    pub files: &'a [(String, PathBuf)],
}

/// Generators started by an engine; [`stop`](Self::stop) (or drop, for local ones)
/// removes whatever they left.
pub enum Running {
    Local(Vec<ManagedProcess>),
    Swarm(SwarmService),
    External,
}

impl Running {
    pub async fn start(kind: EngineKind, launch: &Launch<'_>) -> Result<Self> {
        match kind {
            EngineKind::Local => start_local(launch).map(Running::Local),
            EngineKind::Swarm => SwarmService::start(launch).await.map(Running::Swarm),
            EngineKind::External => {
                eprintln!(
                    "karigar-perf: waiting for {} generators to register at {}",
                    launch.count, launch.coordinator_url
                );
                if !launch.env.is_empty() {
                    let names: Vec<&str> = launch.env.keys().map(String::as_str).collect();
                    eprintln!(
                        "karigar-perf: the HTTP settings read {} from each generator's environment (or its --env-file)",
                        names.join(", ")
                    );
                }
                Ok(Running::External)
            }
        }
    }

    /// Stops what is still running and removes what the engine made.
    pub async fn stop(self) {
        match self {
            Running::Local(mut processes) => processes.iter_mut().for_each(ManagedProcess::stop),
            Running::Swarm(service) => service.remove().await,
            Running::External => {}
        }
    }

    /// Pids of the generators on this machine (local engine), by name.
    pub fn pids(&self) -> Vec<(String, u32)> {
        match self {
            Running::Local(processes) => processes.iter().map(|p| (p.name().to_owned(), p.pid())).collect(),
            _ => Vec::new(),
        }
    }
}

fn start_local(launch: &Launch<'_>) -> Result<Vec<ManagedProcess>> {
    (0..launch.count)
        .map(|index| {
            let name = format!("generator-{index}");
            let mut command = std::process::Command::new(&launch.placement.exe);
            command
                .args([
                    "worker",
                    "--coordinator",
                    launch.coordinator_url,
                    "--quiet",
                    "--name",
                ])
                .arg(format!("local-{index}"))
                .env(TOKEN_ENV, launch.token)
                .envs(launch.env);
            let log = launch.placement.logs_dir.join(format!("{name}.log"));
            ManagedProcess::spawn(&name, command, &log, libc::SIGTERM, libc::SIGKILL)
        })
        .collect()
}

/// The run's Swarm service and what was made for it.
pub struct SwarmService {
    name: String,
    /// The token's, the environment's and the TLS files' Swarm secrets.
    secrets: Vec<String>,
    logs: PathBuf,
    /// We turned swarm mode on, so we turn it off again.
    initialised_swarm: bool,
}

/// Where a worker inside a task finds the token (a Swarm secret).
const SECRET_TARGET: &str = "karigar-perf-token";
/// Where it finds the values of the HTTP settings' variables, `NAME=VALUE` lines.
const ENV_TARGET: &str = "karigar-perf-env";
/// Where Swarm mounts a service's secrets.
const SECRETS_DIR: &str = "/run/secrets";
const EXE_IN_TASK: &str = "/usr/local/bin/karigar-perf";

/// `options` as Swarm tasks see them: each TLS file a secret of the service, its path
/// the secret's in the task; and the files to make the secrets of.
pub fn swarm_files(
    mut options: crate::http::HttpOptions,
) -> (crate::http::HttpOptions, Vec<(String, PathBuf)>) {
    let mut files = Vec::new();
    for (name, slot) in [
        ("karigar-perf-ca.pem", &mut options.ca_cert),
        ("karigar-perf-client.pem", &mut options.client_cert),
        ("karigar-perf-client.key", &mut options.client_key),
    ] {
        if let Some(path) = slot.take() {
            files.push((name.to_owned(), path));
            *slot = Some(PathBuf::from(SECRETS_DIR).join(name));
        }
    }
    (options, files)
}

impl SwarmService {
    async fn start(launch: &Launch<'_>) -> Result<Self> {
        let initialised_swarm = ensure_swarm().await?;
        let label = format!("karigar-perf.run={}", launch.placement.run_id);
        let mut service = Self {
            name: format!("karigar-gen-{}", launch.placement.run_id),
            secrets: Vec::new(),
            logs: launch.placement.logs_dir.join("generators.log"),
            initialised_swarm,
        };
        let mut mounts = Vec::new();
        let created = service.create_secrets(launch, &label, &mut mounts).await;
        if let Err(e) = created {
            service.remove().await;
            return Err(e);
        }
        if let Err(e) = docker(&service.create_args(launch, &label, &mounts)).await {
            service.remove().await;
            return Err(e);
        }
        eprintln!(
            "karigar-perf: started Swarm service {} with {} replicas",
            service.name, launch.count
        );
        Ok(service)
    }

    /// The run's secrets, each given on standard input or read by docker from its
    /// file (never on a command line), and the `--secret` mounts of each.
    async fn create_secrets(
        &mut self,
        launch: &Launch<'_>,
        label: &str,
        mounts: &mut Vec<String>,
    ) -> Result<()> {
        let run = &launch.placement.run_id;
        let env: String = launch
            .env
            .iter()
            .map(|(name, value)| format!("{name}={value}\n"))
            .collect();
        let mut given = vec![(SECRET_TARGET.to_owned(), Some(launch.token.to_owned()), None)];
        if !env.is_empty() {
            given.push((ENV_TARGET.to_owned(), Some(env), None));
        }
        for (target, path) in launch.files {
            given.push((target.clone(), None, Some(path)));
        }
        for (target, text, path) in given {
            let name = format!("{target}-{run}");
            let mut args = vec!["secret", "create", "--label", label, &name];
            let path_text = path.map(|p| p.display().to_string());
            match (&text, &path_text) {
                (Some(text), _) => {
                    args.push("-");
                    docker_with_input(&args, text).await?;
                }
                (None, Some(path)) => {
                    args.push(path);
                    docker(&args).await?;
                }
                (None, None) => unreachable!("a secret is given a text or a file"),
            }
            self.secrets.push(name.clone());
            mounts.push(format!("source={name},target={target}"));
        }
        Ok(())
    }

    fn create_args(&self, launch: &Launch<'_>, label: &str, mounts: &[String]) -> Vec<String> {
        let mut args: Vec<String> = [
            "service",
            "create",
            "--detach",
            "--name",
            &self.name,
            "--replicas",
            &launch.count.to_string(),
            "--no-resolve-image",
            "--network",
            "host",
            "--restart-condition",
            "none",
            "--label",
            label,
            "--container-label",
            label,
            "--env",
            "KARIGAR_PERF_WORKER_NAME=swarm-{{.Task.Slot}}",
            "--env",
            &format!("KARIGAR_PERF_TOKEN_FILE={SECRETS_DIR}/{SECRET_TARGET}"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for mount in mounts {
            args.extend(["--secret".to_owned(), mount.clone()]);
        }
        if !launch.env.is_empty() {
            args.extend([
                "--env".to_owned(),
                format!("KARIGAR_PERF_ENV_FILE={SECRETS_DIR}/{ENV_TARGET}"),
            ]);
        }
        if let Some(dir) = launch.scenario_dir {
            args.push("--mount".into());
            args.push(format!("type=bind,source={0},target={0},readonly", dir.display()));
        }
        let image = match launch.image {
            Some(image) => image.to_owned(),
            None => {
                args.push("--mount".into());
                args.push(format!(
                    "type=bind,source={},target={EXE_IN_TASK},readonly",
                    launch.placement.exe.display()
                ));
                launch.placement.runtime_image.clone()
            }
        };
        args.extend([image, EXE_IN_TASK.into(), "worker".into(), "--quiet".into()]);
        args.extend(["--coordinator".into(), launch.coordinator_url.to_owned()]);
        args
    }

    /// Keeps the tasks' output, removes the service, its containers and the secret, and
    /// leaves swarm mode if the run turned it on.
    async fn remove(self) {
        if let Ok(output) = Command::new("docker")
            .args(["service", "logs", "--raw", &self.name])
            .output()
            .await
        {
            let _ = std::fs::write(&self.logs, [output.stdout, output.stderr].concat());
        }
        let _ = docker(&["service", "rm", &self.name]).await;
        let filter = format!("label=com.docker.swarm.service.name={}", self.name);
        for _ in 0..100 {
            match docker_output(&["ps", "-aq", "--filter", &filter]).await {
                Ok(ids) if ids.trim().is_empty() => break,
                _ => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
            }
        }
        for secret in &self.secrets {
            let _ = docker(&["secret", "rm", secret]).await;
        }
        if self.initialised_swarm {
            let _ = docker(&["swarm", "leave", "--force"]).await;
            crate::console::status("left swarm mode again (the run had turned it on)");
        }
    }
}

/// Turns swarm mode on when the engine has none; `true` when it did.
async fn ensure_swarm() -> Result<bool> {
    let state = docker_output(&["info", "--format", "{{.Swarm.LocalNodeState}}"]).await?;
    match state.trim() {
        "active" => Ok(false),
        "inactive" => {
            eprintln!(
                "karigar-perf: --engine swarm: this Docker engine is not in swarm mode; turning it on for the run \
                 (docker swarm init --advertise-addr 127.0.0.1), and off again afterwards"
            );
            docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]).await?;
            Ok(true)
        }
        other => Err(Error::stack(format!(
            "--engine swarm: the Docker engine's swarm state is {other:?}; it must be active or inactive"
        ))),
    }
}

async fn docker<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Result<()> {
    docker_output(args).await.map(|_| ())
}

async fn docker_output<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Result<String> {
    let output = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .stack_context(|| "cannot run docker")?;
    checked(args, output)
}

async fn docker_with_input(args: &[&str], input: &str) -> Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut child = Command::new("docker")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .stack_context(|| "cannot run docker")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .await
            .stack_context(|| format!("docker {}", args.join(" ")))?;
    }
    let output = child
        .wait_with_output()
        .await
        .stack_context(|| format!("docker {}", args.join(" ")))?;
    checked(args, output).map(|_| ())
}

fn checked<S: AsRef<std::ffi::OsStr>>(args: &[S], output: std::process::Output) -> Result<String> {
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let words: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    Err(Error::stack(format!(
        "docker {} failed: {}",
        words.first().map_or("", String::as_str),
        String::from_utf8_lossy(&output.stderr).trim()
    )))
}
