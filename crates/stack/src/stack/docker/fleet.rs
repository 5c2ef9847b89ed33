//! The backend replicas behind the balancer, as a deploy changes them while the load
//! runs: a successor started from the same spec as the first replicas, the balancer
//! pointed at another set (nginx reloads its configuration: new workers route to the
//! new set, old workers finish their in-flight requests and exit), and an old replica
//! stopped by SIGTERM or SIGKILL.
//!
//! Containers started here carry the run's labels, so the run's teardown removes them
//! with the rest.

use std::time::{Duration, Instant};

use futures::StreamExt;
use testcontainers::bollard::container::LogOutput;
use testcontainers::bollard::exec::StartExecResults;
use testcontainers::bollard::models::ExecConfig;
use testcontainers::bollard::query_parameters::{KillContainerOptionsBuilder, StopContainerOptionsBuilder};
use testcontainers::bollard::Docker;
use testcontainers::core::IntoContainerPort;
use testcontainers::runners::AsyncRunner;

use super::spec::Spec;
use super::{lb, BACKEND_PORT};

/// Replicas started by deploys, shared by the [`Fleet`] that starts them and the parts that tear them down.
pub(super) type Successors = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// Where nginx's configuration lives in the balancer container.
pub(super) const LB_CONFIG: &str = "/etc/karigar-lb/nginx.conf";

/// The balancer's worker processes of a configuration being replaced, by pid.
#[derive(Clone, Debug, Default)]
pub struct Workers(Vec<String>);

/// One backend replica: `backend-N` to the scenario, a container to Docker.
#[derive(Clone, Debug)]
pub struct Member {
    /// `backend-N`: a successor keeps the name of the replica it replaces.
    pub name: String,
    /// The container's name, as nginx reaches it on the run's network.
    pub container: String,
    pub id: String,
    pub ip: String,
}

/// What a deploy needs of a running Docker stack with a balancer.
#[derive(Clone)]
pub struct Fleet {
    docker: Docker,
    network: String,
    run_id: String,
    template: Spec,
    balancer: String,
    /// Replicas started so far, for unique container names.
    started: usize,
    /// Where successors are recorded for the per-instance counts.
    successors: Successors,
}

impl Fleet {
    pub(super) fn new(
        docker: Docker,
        network: String,
        run_id: String,
        template: Spec,
        balancer: String,
        successors: Successors,
    ) -> Self {
        Self {
            docker,
            network,
            run_id,
            template,
            balancer,
            started: 0,
            successors,
        }
    }

    /// Starts a replica to stand in for `name` and waits for its `/health`.
    pub async fn start_successor(&mut self, name: &str) -> Result<Member, String> {
        self.started += 1;
        let container = format!("karigar-{}-{name}-r{}", self.run_id, self.started);
        let request = self.template.request(&container, &self.network, &self.run_id);
        let handle = request.start().await.map_err(|e| format!("{container}: {e}"))?;
        let id = handle.id().to_owned();
        let port = handle
            .get_host_port_ipv4(BACKEND_PORT.tcp())
            .await
            .map_err(|e| format!("{container}: no published port: {e}"))?;
        // The run's teardown removes it by label; its handle must not do so on drop.
        std::mem::forget(handle);
        wait_healthy(port)
            .await
            .map_err(|why| format!("{container}: {why}"))?;
        let ip = self.address(&id).await;
        let mut successors = self.successors.lock().unwrap_or_else(|e| e.into_inner());
        successors.push((name.to_owned(), ip.clone()));
        drop(successors);
        Ok(Member {
            name: name.to_owned(),
            container,
            id,
            ip,
        })
    }

    /// Starts a stopped replica again and waits for its `/health`.
    pub async fn restart(&self, member: &Member) -> Result<Member, String> {
        self.docker
            .start_container(&member.id, None)
            .await
            .map_err(|e| format!("{}: {e}", member.container))?;
        let inspected = self
            .docker
            .inspect_container(&member.id, None)
            .await
            .map_err(|e| e.to_string())?;
        let port = inspected
            .network_settings
            .and_then(|n| n.ports)
            .and_then(|p| p.get(&format!("{BACKEND_PORT}/tcp")).cloned().flatten())
            .and_then(|bindings| bindings.first().and_then(|b| b.host_port.clone()))
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("{}: no published port", member.container))?;
        wait_healthy(port)
            .await
            .map_err(|why| format!("{}: {why}", member.container))?;
        Ok(Member {
            ip: self.address(&member.id).await,
            ..member.clone()
        })
    }

    /// Points the balancer at `members` only: nginx reloads; requests in flight on the
    /// old configuration finish on its old workers, whose pids are returned for
    /// [`drained`](Self::drained).
    pub async fn route_to(&self, members: &[Member]) -> Result<Workers, String> {
        let names: Vec<String> = members.iter().map(|m| m.container.clone()).collect();
        let config = lb::nginx_config(&names, BACKEND_PORT);
        let list = "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null \
                    | grep -q '^nginx: worker' && echo ${p#/proc/}; done; true";
        let old = self.exec(list, Vec::new()).await?;
        let script = format!("printf '%s' \"$CONFIG\" > {LB_CONFIG} && nginx -c {LB_CONFIG} -s reload");
        self.exec(&script, vec![format!("CONFIG={config}")]).await?;
        Ok(Workers(old.split_whitespace().map(str::to_owned).collect()))
    }

    /// Waits until the balancer's `old` workers have finished their requests and
    /// exited (at most `limit`); returns how long that took.
    pub async fn drained(&self, old: &Workers, limit: Duration) -> Result<Duration, String> {
        let begun = Instant::now();
        let check = format!(
            "for p in {}; do [ -e /proc/$p ] && echo $p; done; true",
            old.0.join(" ")
        );
        loop {
            let left = self.exec(&check, Vec::new()).await?;
            if left.trim().is_empty() || begun.elapsed() >= limit {
                return Ok(begun.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM (the replica finishes what it serves, within 10 s) or SIGKILL.
    pub async fn stop(&self, member: &Member, graceful: bool) -> Result<(), String> {
        let result = if graceful {
            let options = StopContainerOptionsBuilder::default().t(10).build();
            self.docker.stop_container(&member.id, Some(options)).await
        } else {
            let options = KillContainerOptionsBuilder::default().signal("SIGKILL").build();
            self.docker.kill_container(&member.id, Some(options)).await
        };
        result.map_err(|e| format!("{}: {e}", member.container))
    }

    /// Runs `script` with `sh -c` in the balancer; its output, or why it failed.
    async fn exec(&self, script: &str, env: Vec<String>) -> Result<String, String> {
        let config = ExecConfig {
            cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
            env: Some(env),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let created = self
            .docker
            .create_exec(&self.balancer, config)
            .await
            .map_err(|e| format!("balancer: {e}"))?;
        let mut text = String::new();
        if let StartExecResults::Attached { mut output, .. } = self
            .docker
            .start_exec(&created.id, None)
            .await
            .map_err(|e| format!("balancer: {e}"))?
        {
            while let Some(Ok(chunk)) = output.next().await {
                if let LogOutput::StdOut { message } | LogOutput::StdErr { message } = chunk {
                    text.push_str(&String::from_utf8_lossy(&message));
                }
            }
        }
        let inspected = self
            .docker
            .inspect_exec(&created.id)
            .await
            .map_err(|e| format!("balancer: {e}"))?;
        match inspected.exit_code {
            Some(0) | None => Ok(text),
            Some(code) => Err(format!(
                "balancer: `{script}` exited with {code}: {}",
                text.trim()
            )),
        }
    }

    async fn address(&self, id: &str) -> String {
        super::engine::address_on(&self.docker, id, &self.network).await
    }
}

/// Polls `GET /health` on the published `port` until it answers 2xx.
async fn wait_healthy(port: u16) -> Result<(), String> {
    let url = format!("http://127.0.0.1:{port}/health");
    super::engine::wait_2xx(&url, || async { false }).await
}
