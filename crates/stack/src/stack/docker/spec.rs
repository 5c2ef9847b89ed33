//! How one container of the stack is described ([`Spec`]) and turned into a
//! testcontainers request: network, name, labels, the seed's limits, a loopback-only
//! published port and its readiness check.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use testcontainers::bollard::models::PortBinding;
use testcontainers::core::{AccessMode, IntoContainerPort, Mount, WaitFor};
use testcontainers::{GenericImage, Healthcheck, ImageExt};

use super::profile::Limits;
use super::{engine, images, READY};

/// Where the harness executable is mounted in the runtime image.
pub(super) const EXE_IN_CONTAINER: &str = "/usr/local/bin/karigar-perf";

/// How a container proves it is ready.
#[derive(Clone, Debug)]
pub(super) enum Health {
    /// A shell command inside the container (the seed's `pg_isready`, `redis-cli ping`).
    Command(String),
    /// A 2xx answer to `GET path` on the published port, asked from the host, so that
    /// any image works, with or without wget inside.
    Http(String),
}

/// One container to start.
#[derive(Clone, Debug)]
pub struct Spec {
    pub(super) role: String,
    pub(super) image: String,
    pub(super) port: u16,
    pub(super) limits: Limits,
    env: Vec<(String, String)>,
    cmd: Option<Vec<String>>,
    pub(super) health: Option<Health>,
    copies: Vec<(String, Vec<u8>)>,
    exe: Option<PathBuf>,
}

impl Spec {
    pub fn new(role: &str, image: &str, port: u16, limits: Limits) -> Self {
        Self {
            role: role.to_owned(),
            image: image.to_owned(),
            port,
            limits,
            env: Vec::new(),
            cmd: None,
            health: None,
            copies: Vec::new(),
            exe: None,
        }
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn cmd(mut self, args: &[&str]) -> Self {
        self.cmd = Some(args.iter().map(|a| (*a).to_owned()).collect());
        self
    }

    pub fn health(mut self, command: &str) -> Self {
        self.health = Some(Health::Command(command.to_owned()));
        self
    }

    pub fn http_health(mut self, path: &str) -> Self {
        self.health = Some(Health::Http(path.to_owned()));
        self
    }

    pub fn copy(mut self, path: &str, content: Vec<u8>) -> Self {
        self.copies.push((path.to_owned(), content));
        self
    }

    pub fn mount_exe(mut self, exe: &Path) -> Self {
        self.exe = Some(exe.to_owned());
        self
    }

    /// The testcontainers request: network, name, labels, limits, loopback-only port.
    pub(super) fn request(
        &self,
        name: &str,
        network: &str,
        run_id: &str,
    ) -> testcontainers::ContainerRequest<GenericImage> {
        let (image_name, tag) = images::name_and_tag(&self.image);
        let mut image = GenericImage::new(image_name, tag).with_exposed_port(self.port.tcp());
        if let Some(Health::Command(_)) = &self.health {
            image = image.with_wait_for(WaitFor::healthcheck());
        }
        let mut request = image
            .with_container_name(name)
            .with_network(network)
            .with_labels(engine::labels(run_id))
            .with_startup_timeout(READY)
            .with_host_config_modifier(host_config(self.port, self.limits));
        for (key, value) in &self.env {
            request = request.with_env_var(key, value);
        }
        if let Some(cmd) = &self.cmd {
            request = request.with_cmd(cmd);
        }
        if let Some(Health::Command(command)) = &self.health {
            request = request.with_health_check(
                Healthcheck::cmd_shell(command)
                    .with_interval(Duration::from_millis(500))
                    .with_timeout(Duration::from_secs(5))
                    .with_retries(240),
            );
        }
        for (path, content) in &self.copies {
            request = request.with_copy_to(path.as_str(), content.clone());
        }
        if let Some(exe) = &self.exe {
            request = request.with_mount(
                Mount::bind_mount(exe.to_string_lossy(), EXE_IN_CONTAINER)
                    .with_access_mode(AccessMode::ReadOnly),
            );
        }
        request
    }
}

/// The seed's limits, and the port published on 127.0.0.1 only (a random host port).
fn host_config(
    port: u16,
    limits: Limits,
) -> impl Fn(&mut testcontainers::bollard::models::HostConfig) + Send + Sync {
    move |config| {
        config.nano_cpus = Some((limits.cpus * 1e9) as i64);
        config.memory = Some(limits.memory_bytes as i64);
        config.publish_all_ports = Some(false);
        config.port_bindings = Some(HashMap::from([(
            format!("{port}/tcp"),
            Some(vec![PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(String::new()),
            }]),
        )]));
    }
}
