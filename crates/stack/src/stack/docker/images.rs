//! Which images the Docker stack runs. Defaults for a machine with a registry are the
//! public images; where `docker/build.sh` made a local set (no registry needed), that
//! set is used instead, so nothing is pulled.

use testcontainers::bollard::Docker;

use super::engine;
use crate::error::{Error, Result};

/// The local set `docker/build.sh` builds.
pub(super) const LOCAL_BASE: &str = "karigar-perf/base:bookworm";
const LOCAL_POSTGRES: &str = "karigar-perf/postgres:15";
const LOCAL_REDIS: &str = "karigar-perf/redis:7";

/// The public defaults.
const PUBLIC_POSTGRES: &str = "postgres:15-alpine";
const PUBLIC_REDIS: &str = "redis:7-alpine";
const PUBLIC_RUNTIME: &str = "debian:bookworm-slim";
const PUBLIC_NGINX: &str = "nginx:1.27-alpine";

/// Images the user named (flags or environment); `None` takes the default.
#[derive(Clone, Debug, Default)]
pub struct ImageChoice {
    pub postgres: Option<String>,
    pub redis: Option<String>,
    /// The user's own backend, honouring the contract; default: the reference backend.
    pub backend: Option<String>,
    /// The user's own frontend; default: the reference frontend.
    pub frontend: Option<String>,
    /// A Debian 12 image the reference backend and frontend run in (this very binary
    /// is mounted into it), and the load balancer's when it has nginx.
    pub runtime: Option<String>,
    /// The load balancer in front of several backend replicas.
    pub nginx: Option<String>,
}

/// The images a run uses, resolved.
#[derive(Clone, Debug)]
pub struct Images {
    pub postgres: String,
    pub redis: String,
    pub backend: Option<String>,
    pub frontend: Option<String>,
    pub runtime: String,
    pub nginx: String,
}

impl ImageChoice {
    /// Fills in defaults: the local set where it exists, else the public images.
    pub async fn resolve(&self, docker: &Docker) -> Images {
        let local = engine::has_image(docker, LOCAL_BASE).await;
        let pick = |chosen: &Option<String>, local_image: &str, public: &str| {
            chosen
                .clone()
                .unwrap_or_else(|| if local { local_image } else { public }.to_owned())
        };
        Images {
            postgres: pick(&self.postgres, LOCAL_POSTGRES, PUBLIC_POSTGRES),
            redis: pick(&self.redis, LOCAL_REDIS, PUBLIC_REDIS),
            backend: self.backend.clone(),
            frontend: self.frontend.clone(),
            runtime: pick(&self.runtime, LOCAL_BASE, PUBLIC_RUNTIME),
            nginx: pick(&self.nginx, LOCAL_BASE, PUBLIC_NGINX),
        }
    }
}

/// `name[:tag]` split for testcontainers (which takes them apart); `latest` by default.
pub(super) fn name_and_tag(image: &str) -> (&str, &str) {
    // A colon after the last slash is a tag; one before it is a registry port.
    match image.rfind(':') {
        Some(colon) if colon > image.rfind('/').unwrap_or(0) => (&image[..colon], &image[colon + 1..]),
        _ => (image, "latest"),
    }
}

/// The tag `--backend-build` builds a run's image under: the run's own, from its id
/// (a tag takes letters, digits, `_`, `.` and `-`).
pub(super) fn built_tag(run_id: &str) -> String {
    let tag: String = run_id
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() || "_.-".contains(c) {
            true => c,
            false => '-',
        })
        .take(128)
        .collect();
    format!("karigar-perf/backend-build:{tag}")
}

/// Builds `context` (a folder with a Dockerfile) as `tag` with the docker CLI, passing
/// the runtime image as `BASE_IMAGE` for Dockerfiles that take one, and labelled with
/// `labels` (the run's, so that its teardown or a later sweep removes it).
pub(super) fn build(
    context: &std::path::Path,
    tag: &str,
    base: &str,
    labels: &std::collections::HashMap<String, String>,
) -> Result<()> {
    if !context.join("Dockerfile").is_file() {
        return Err(Error::config(format!(
            "--backend-build {}: no Dockerfile in that folder",
            context.display()
        )));
    }
    let mut command = std::process::Command::new("docker");
    command
        .args(["build", "-q", "--build-arg"])
        .arg(format!("BASE_IMAGE={base}"))
        .args(["-t", tag]);
    for (name, value) in labels {
        command.arg("--label").arg(format!("{name}={value}"));
    }
    let output = command.arg(context).output().map_err(|e| {
        Error::stack(format!(
            "cannot run `docker build` (is the docker CLI installed?): {e}"
        ))
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(Error::stack(format!(
        "docker build of {} failed:\n{}",
        context.display(),
        String::from_utf8_lossy(&output.stderr).trim_end()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_builds_under_a_tag_of_its_own() {
        assert_eq!(
            built_tag("signup-20261205-163133-yawe"),
            "karigar-perf/backend-build:signup-20261205-163133-yawe"
        );
        assert_eq!(built_tag("a b/c:d"), "karigar-perf/backend-build:a-b-c-d");
    }

    #[test]
    fn tags_are_told_from_registry_ports() {
        assert_eq!(name_and_tag("postgres:15-alpine"), ("postgres", "15-alpine"));
        assert_eq!(name_and_tag("karigar-perf/base"), ("karigar-perf/base", "latest"));
        assert_eq!(
            name_and_tag("registry.local:5000/team/api"),
            ("registry.local:5000/team/api", "latest")
        );
        assert_eq!(
            name_and_tag("registry.local:5000/team/api:v2"),
            ("registry.local:5000/team/api", "v2")
        );
    }
}
