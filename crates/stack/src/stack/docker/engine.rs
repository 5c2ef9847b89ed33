//! The Docker engine, through the bollard client testcontainers re-exports: what
//! testcontainers' own API lacks (networks with labels, logs, kill, stats, sweeping
//! leftovers of crashed runs).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use testcontainers::bollard::models::NetworkCreateRequest;
use testcontainers::bollard::query_parameters::{
    ListContainersOptionsBuilder, ListImagesOptionsBuilder, ListNetworksOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
};
use testcontainers::bollard::Docker;

use crate::error::Context as _;
use crate::error::{Error, Result};

/// Every container, network and built image of a run carries its run id under this
/// label ...
pub(super) const RUN_LABEL: &str = "dev.karigar-perf.run";
/// ... and the pid of the harness that owns it, so that a sweep knows which are orphans.
pub(super) const PID_LABEL: &str = "dev.karigar-perf.pid";

/// How long the daemon may take to answer a ping.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// A client of a daemon that answered.
pub async fn connect() -> Result<Docker> {
    let docker = testcontainers::core::client::docker_client_instance()
        .await
        .map_err(|e| no_daemon(&e.to_string()))?;
    match tokio::time::timeout(PING_TIMEOUT, docker.ping()).await {
        Ok(Ok(_)) => Ok(docker),
        Ok(Err(e)) => Err(no_daemon(&e.to_string())),
        Err(_) => Err(no_daemon("no answer within 3s")),
    }
}

fn no_daemon(why: &str) -> Error {
    Error::stack(format!(
        "no Docker daemon answers ({why}); start dockerd (Debian: apt-get install docker.io), \
         or use --stack local"
    ))
}

/// Whether a daemon answers: how `--stack auto` chooses.
pub(crate) async fn answers() -> bool {
    connect().await.is_ok()
}

/// The labels of everything a run creates.
pub(super) fn labels(run_id: &str) -> HashMap<String, String> {
    HashMap::from([
        (RUN_LABEL.to_owned(), run_id.to_owned()),
        (PID_LABEL.to_owned(), std::process::id().to_string()),
    ])
}

/// Creates the run's own bridge network; its containers find each other by name.
pub(super) async fn create_network(docker: &Docker, name: &str, run_id: &str) -> Result<()> {
    let request = NetworkCreateRequest {
        name: name.to_owned(),
        driver: Some("bridge".into()),
        labels: Some(labels(run_id)),
        ..Default::default()
    };
    docker
        .create_network(request)
        .await
        .map(|_| ())
        .stack_context(|| format!("cannot create Docker network {name}"))
}

/// Whether an image is in the local store (nothing is pulled to find out).
pub(super) async fn has_image(docker: &Docker, image: &str) -> bool {
    docker.inspect_image(image).await.is_ok()
}

/// The images labelled `label` (`NAME` or `NAME=VALUE`): their ids and labels.
async fn images_labelled(docker: &Docker, label: &str) -> Result<Vec<(String, HashMap<String, String>)>> {
    let filters = HashMap::from([("label", vec![label])]);
    let images = docker
        .list_images(Some(
            ListImagesOptionsBuilder::default().filters(&filters).build(),
        ))
        .await
        .stack_context(|| "cannot list images")?;
    Ok(images.into_iter().map(|image| (image.id, image.labels)).collect())
}

/// Removes the images a run built (`--backend-build`), once its containers are gone;
/// best effort.
pub(super) async fn remove_images_of(docker: &Docker, run_id: &str) {
    for (id, _) in images_labelled(docker, &format!("{RUN_LABEL}={run_id}"))
        .await
        .unwrap_or_default()
    {
        remove_image(docker, &id).await;
    }
}

/// Removes an image and its tags; whether it went.
async fn remove_image(docker: &Docker, id: &str) -> bool {
    let force = RemoveImageOptionsBuilder::default().force(true).build();
    docker.remove_image(id, Some(force), None).await.is_ok()
}

/// Writes a container's stdout and stderr to `path`; best effort.
pub(super) async fn save_logs(docker: &Docker, id: &str, path: &Path) {
    let options = LogsOptionsBuilder::default().stdout(true).stderr(true).build();
    let mut stream = docker.logs(id, Some(options));
    let mut text = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        text.extend_from_slice(&chunk.into_bytes());
    }
    let _ = std::fs::write(path, text);
}

/// The last `lines` lines a container wrote, for start-up errors.
pub(super) async fn log_tail(docker: &Docker, id: &str, lines: usize) -> String {
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .tail(&lines.to_string())
        .build();
    let mut stream = docker.logs(id, Some(options));
    let mut text = String::new();
    while let Some(Ok(chunk)) = stream.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
    }
    text
}

/// Removes a container and its anonymous volumes, running or not.
pub(super) async fn remove_container(docker: &Docker, id: &str) {
    let options = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    let _ = docker.remove_container(id, Some(options)).await;
}

/// What a sweep removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub containers: usize,
    pub networks: usize,
    pub images: usize,
}

impl std::fmt::Display for Swept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} container(s), {} network(s) and {} image(s)",
            self.containers, self.networks, self.images
        )
    }
}

/// Removes the containers, networks and built images of karigar-perf runs: all of them, or (with
/// `orphans_only`) those whose harness process is gone, i.e. leftovers of a run that
/// was killed before it could tear down.
pub(super) async fn sweep(docker: &Docker, orphans_only: bool) -> Result<Swept> {
    let filters = HashMap::from([("label", vec![RUN_LABEL])]);
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .stack_context(|| "cannot list containers")?;
    let mut swept = Swept::default();
    for container in containers {
        if orphans_only && owner_alive(container.labels.as_ref()) {
            continue;
        }
        if let Some(id) = container.id {
            remove_container(docker, &id).await;
            swept.containers += 1;
        }
    }
    let networks = docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::default().filters(&filters).build(),
        ))
        .await
        .stack_context(|| "cannot list networks")?;
    for network in networks {
        if orphans_only && owner_alive(network.labels.as_ref()) {
            continue;
        }
        if let Some(name) = network.name {
            if docker.remove_network(&name).await.is_ok() {
                swept.networks += 1;
            }
        }
    }
    for (id, labels) in images_labelled(docker, RUN_LABEL).await? {
        if orphans_only && owner_alive(Some(&labels)) {
            continue;
        }
        if remove_image(docker, &id).await {
            swept.images += 1;
        }
    }
    Ok(swept)
}

/// Whether the harness named by a resource's pid label still runs on this machine.
fn owner_alive(labels: Option<&HashMap<String, String>>) -> bool {
    let Some(pid) = labels
        .and_then(|l| l.get(PID_LABEL))
        .and_then(|p| p.parse::<i32>().ok())
    else {
        return false;
    };
    // Signal 0 checks existence without touching the process.
    pid > 0 && unsafe { libc::kill(pid, 0) } == 0
}

/// A running container the harness did not start, to watch: its id and the limits it
/// runs under (`None` where it has none).
pub struct Watched {
    pub name: String,
    pub id: String,
    pub cpus: Option<f64>,
    pub memory_bytes: Option<u64>,
}

/// Looks up containers by name or id (`--backend-container`); a missing or stopped one
/// is an error that names it.
pub async fn inspect_running(docker: &Docker, names: &[String]) -> Result<Vec<Watched>> {
    let mut watched = Vec::new();
    for name in names {
        let inspected = docker
            .inspect_container(name, None)
            .await
            .stack_context(|| format!("--backend-container {name}"))?;
        let running = inspected.state.as_ref().and_then(|s| s.running).unwrap_or(false);
        if !running {
            return Err(Error::stack(format!("--backend-container {name} is not running")));
        }
        let host = inspected.host_config.as_ref();
        watched.push(Watched {
            name: name.clone(),
            id: inspected.id.clone().unwrap_or_else(|| name.clone()),
            cpus: host
                .and_then(|h| h.nano_cpus)
                .filter(|n| *n > 0)
                .map(|n| n as f64 / 1e9),
            memory_bytes: host.and_then(|h| h.memory).filter(|m| *m > 0).map(|m| m as u64),
        });
    }
    Ok(watched)
}

/// Polls `GET url` until it answers 2xx, `exited()` says the container stopped, or
/// [`super::READY`] passes.
pub(super) async fn wait_2xx<F, Fut>(url: &str, exited: F) -> std::result::Result<(), String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let client = crate::client::base()
        .timeout(std::time::Duration::from_secs(2))
        .build()
        .map_err(|e| e.to_string())?;
    let begun = std::time::Instant::now();
    loop {
        if let Ok(response) = client.get(url).send().await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        if exited().await {
            return Err("the container exited".into());
        }
        if begun.elapsed() > super::READY {
            return Err(format!(
                "GET {url} did not answer 2xx within {}s",
                super::READY.as_secs()
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Container `id`'s address on `network` (empty when it has none).
pub(super) async fn address_on(docker: &Docker, id: &str, network: &str) -> String {
    let inspected = docker.inspect_container(id, None).await.ok();
    inspected
        .and_then(|c| c.network_settings)
        .and_then(|n| n.networks)
        .and_then(|n| n.get(network).and_then(|e| e.ip_address.clone()))
        .unwrap_or_default()
}
