//! The containers of one Docker stack: started from their [`Spec`]s (testcontainers),
//! and the guard that owns them all ([`DockerParts`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use testcontainers::bollard::query_parameters::RemoveContainerOptionsBuilder;
use testcontainers::bollard::Docker;
use testcontainers::core::IntoContainerPort;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage};

use super::fleet::{Fleet, Member, Successors};
use super::profile::Limits;
use super::spec::{Health, Spec};
use super::{engine, lb};
use crate::error::Context as _;
use crate::error::{Error, Result};

/// A started container.
struct Started {
    role: String,
    name: String,
    image: String,
    id: String,
    /// Its port, as published on 127.0.0.1.
    host_port: u16,
    /// Its address on the run's network.
    ip: String,
    limits: Limits,
    handle: ContainerAsync<GenericImage>,
}

impl Started {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.host_port)
    }
}

/// Where a started container can be reached from the harness.
#[derive(Clone, Debug)]
pub struct Placed {
    pub id: String,
    /// Its port, as published on 127.0.0.1.
    pub host_port: u16,
    /// Its own `address:port` on the run's network, when this machine reaches it (a
    /// Linux host does; Docker Desktop does not).
    pub direct: Option<String>,
}

impl Placed {
    /// The URL for load traffic: the container's own address where it is reachable,
    /// so that no port-forwarding proxy sits in the measured path (on this 2-core
    /// machine docker-proxy cost a third of a core at 40 requests/s), else the
    /// published port.
    pub fn url(&self) -> String {
        match &self.direct {
            Some(address) => format!("http://{address}"),
            None => format!("http://127.0.0.1:{}", self.host_port),
        }
    }
}

/// `ip:port` if a TCP connection to it opens within half a second.
async fn reachable(ip: &str, port: u16) -> Option<String> {
    let address = format!("{ip}:{port}");
    let connect = tokio::net::TcpStream::connect(address.as_str());
    match tokio::time::timeout(Duration::from_millis(500), connect).await {
        Ok(Ok(_)) => Some(address),
        _ => None,
    }
}

/// A backend replica, for telemetry and fault injection.
#[derive(Clone, Debug)]
pub struct Instance {
    /// `backend-1`, `backend-2`, ...
    pub name: String,
    pub container_id: String,
    pub ip: String,
    pub limits: Limits,
}

/// Owns a run's containers and network; [`teardown`](Self::teardown) saves their logs
/// and removes them.
pub struct DockerParts {
    docker: Docker,
    run_id: String,
    network: String,
    logs_dir: PathBuf,
    started: Vec<Started>,
    backends: Vec<Instance>,
    balancer: Option<String>,
    /// What every backend replica is started from, for deploys.
    backend_template: Option<Spec>,
    /// Replicas a deploy started, as `(backend-N, address)`: they serve under the name
    /// of the replica they replaced.
    successors: Successors,
    /// Requests each backend served, counted from the balancer's log at teardown.
    pub served: Vec<(String, u64)>,
    torn_down: bool,
}

impl DockerParts {
    pub fn new(docker: Docker, run_id: String, network: String, logs_dir: PathBuf) -> Self {
        Self {
            docker,
            run_id,
            network,
            logs_dir,
            started: Vec::new(),
            backends: Vec::new(),
            balancer: None,
            backend_template: None,
            successors: Successors::default(),
            served: Vec::new(),
            torn_down: false,
        }
    }

    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Container names are daemon-wide, so they carry the run id.
    pub fn container_name(&self, role: &str) -> String {
        format!("karigar-{}-{role}", self.run_id)
    }

    /// Starts `spec` and waits for its health check.
    pub async fn start(&mut self, spec: Spec) -> Result<Placed> {
        let name = self.container_name(&spec.role);
        let request = spec.request(&name, &self.network, &self.run_id);
        let handle = match request.start().await {
            Ok(handle) => handle,
            Err(e) => return Err(self.failed(&spec, &name, &e.to_string()).await),
        };
        let host_port = handle
            .get_host_port_ipv4(spec.port.tcp())
            .await
            .stack_context(|| format!("{name}: no published port"))?;
        let started = Started {
            role: spec.role.clone(),
            id: handle.id().to_owned(),
            ip: self.address(handle.id()).await,
            name: name.clone(),
            image: spec.image.clone(),
            host_port,
            limits: spec.limits,
            handle,
        };
        if let Some(Health::Http(path)) = &spec.health {
            if let Err(why) = wait_http(&started, path).await {
                return Err(self.failed(&spec, &name, &why).await);
            }
        }
        let placed = Placed {
            id: started.id.clone(),
            host_port,
            direct: match started.ip.as_str() {
                "" => None,
                ip => reachable(ip, spec.port).await,
            },
        };
        self.started.push(started);
        Ok(placed)
    }

    /// A start-up failure, with the container's last log lines, or how to get the
    /// image when it could not be pulled.
    async fn failed(&self, spec: &Spec, name: &str, why: &str) -> Error {
        let mut message = format!("{} ({}) did not become ready: {why}", spec.role, spec.image);
        if why.contains("pull") {
            message.push_str(
                "\nwithout a registry, build the local images once: bash docker/build.sh \
                 (or name images this machine has with --postgres-image, --redis-image, ...)",
            );
        }
        let tail = engine::log_tail(&self.docker, name, 15).await;
        if !tail.trim().is_empty() {
            message.push_str(&format!("\nlast lines of its log:\n{}", tail.trim_end()));
        }
        Error::stack(message)
    }

    async fn address(&self, id: &str) -> String {
        super::engine::address_on(&self.docker, id, &self.network).await
    }

    pub fn mark_backend(&mut self, started_id: &str) {
        if let Some(s) = self.started.iter().find(|s| s.id == started_id) {
            self.backends.push(Instance {
                name: s.role.clone(),
                container_id: s.id.clone(),
                ip: s.ip.clone(),
                limits: s.limits,
            });
        }
    }

    pub fn mark_balancer(&mut self, started_id: &str) {
        self.balancer = Some(started_id.to_owned());
    }

    /// Keeps `spec` as what successors of the backend replicas are started from.
    pub(super) fn keep_backend_template(&mut self, spec: &Spec) {
        self.backend_template = Some(spec.clone());
    }

    /// The backend replicas, as faults and deploys name them.
    pub fn members(&self) -> Vec<Member> {
        self.backends
            .iter()
            .map(|b| Member {
                name: b.name.clone(),
                container: self.container_name(&b.name),
                id: b.container_id.clone(),
                ip: b.ip.clone(),
            })
            .collect()
    }

    /// What a deploy works with: the balancer and the replicas' spec (`None` without
    /// a balancer, i.e. one replica).
    pub fn fleet(&self) -> Option<Fleet> {
        Some(Fleet::new(
            self.docker.clone(),
            self.network.clone(),
            self.run_id.clone(),
            self.backend_template.clone()?,
            self.balancer.clone()?,
            self.successors.clone(),
        ))
    }

    /// Container names of the backends, as nginx reaches them.
    pub fn backend_names(&self) -> Vec<String> {
        self.backends
            .iter()
            .map(|b| self.container_name(&b.name))
            .collect()
    }

    pub fn backends(&self) -> &[Instance] {
        &self.backends
    }

    /// Name, container id and image of every container, for `stack.json`.
    pub fn containers(&self) -> Vec<(String, String, String)> {
        self.started
            .iter()
            .map(|s| (s.name.clone(), s.id.clone(), s.image.clone()))
            .collect()
    }

    /// Saves every container's log, counts requests per replica, removes everything
    /// labelled with the run id (also what failed half-way through starting), the
    /// network and the images the run built.
    pub fn teardown(&mut self) {
        if std::mem::replace(&mut self.torn_down, true) {
            return;
        }
        let handles: Vec<_> = self.started.drain(..).collect();
        block_on(async {
            for started in &handles {
                let path = self.logs_dir.join(format!("{}.log", started.role));
                engine::save_logs(&self.docker, &started.id, &path).await;
            }
            self.served = self.count_served().await;
            self.remove_all().await;
        });
        // Their handles' own drop would remove them again, and needs a runtime to do
        // so; they are gone already.
        for started in handles {
            std::mem::forget(started.handle);
        }
    }

    async fn count_served(&self) -> Vec<(String, u64)> {
        let Some(_) = &self.balancer else {
            return Vec::new();
        };
        let log = std::fs::read_to_string(self.logs_dir.join("lb.log")).unwrap_or_default();
        let counts = lb::requests_per_upstream(&log);
        let successors = self.successors.lock().unwrap_or_else(|e| e.into_inner()).clone();
        self.backends
            .iter()
            .map(|b| {
                let addresses: Vec<&str> = std::iter::once(b.ip.as_str())
                    .chain(
                        successors
                            .iter()
                            .filter(|(name, _)| *name == b.name)
                            .map(|(_, ip)| ip.as_str()),
                    )
                    .collect();
                let served = counts
                    .iter()
                    .filter(|(addr, _)| addr.split(':').next().is_some_and(|ip| addresses.contains(&ip)))
                    .map(|(_, n)| n)
                    .sum();
                (b.name.clone(), served)
            })
            .collect()
    }

    async fn remove_all(&self) {
        let filters = HashMap::from([("label", vec![format!("{}={}", engine::RUN_LABEL, self.run_id)])]);
        let options = testcontainers::bollard::query_parameters::ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        if let Ok(containers) = self.docker.list_containers(Some(options)).await {
            for id in containers.into_iter().filter_map(|c| c.id) {
                let remove = RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .v(true)
                    .build();
                let _ = self.docker.remove_container(&id, Some(remove)).await;
            }
        }
        let _ = self.docker.remove_network(&self.network).await;
        engine::remove_images_of(&self.docker, &self.run_id).await;
    }
}

impl Drop for DockerParts {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// Polls `GET path` until it answers 2xx, the container stops, or [`READY`] passes.
async fn wait_http(started: &Started, path: &str) -> std::result::Result<(), String> {
    let url = format!("{}{path}", started.url());
    engine::wait_2xx(&url, || async {
        !started.handle.is_running().await.unwrap_or(false)
    })
    .await
}

/// Runs async teardown from a synchronous `Drop`, inside or outside a runtime.
fn block_on<F: std::future::Future<Output = ()> + Send>(future: F) {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(future));
        }
        _ => {
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        runtime.block_on(future);
                    }
                });
            });
        }
    }
}
