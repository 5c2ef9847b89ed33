//! A Kubernetes run's pods reproduced in Docker as a kubelet runs them, from the objects
//! `karigar-perf k8s generators` writes: the harness image, the pod's user, group and
//! fsGroup, the Secret's and the ConfigMap's files with the owner and modes their
//! volumes give them, the environment from the Secret, the resources and the command.
//! What a cluster adds besides (the Service's name, scheduling) is a host entry and
//! `docker run`. The image's binary is replaced by the one under test.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, PodSpec, Secret, Service, Volume};
use serde_json::Value;

use crate::common::harness::{assert_exit, Run, BIN};
use crate::tls::{GATEWAY_KEY, GATE_PASSWORD, GATE_USER};

const IMAGE: &str = "karigar-perf/harness:latest";
const EXE_IN_IMAGE: &str = "/usr/local/bin/karigar-perf";
/// A secret or ConfigMap file's mode when its volume names none (Kubernetes' default).
const KUBERNETES_DEFAULT_MODE: i32 = 0o644;

/// The five objects of a run, parsed back from the YAML as a cluster would.
struct Objects {
    secret: Secret,
    config_map: ConfigMap,
    service: Service,
    coordinator: Pod,
    job: Job,
}

/// The objects of the file and the Secret of standard output.
fn objects(yaml: &str, secret: &str) -> Objects {
    let docs = documents(yaml);
    assert_eq!(docs.len(), 4, "{yaml}");
    let secret = documents(secret);
    assert_eq!(secret.len(), 1, "{secret:?}");
    Objects {
        secret: serde_yaml::from_str(&secret[0]).unwrap(),
        config_map: serde_yaml::from_str(&docs[0]).unwrap(),
        service: serde_yaml::from_str(&docs[1]).unwrap(),
        coordinator: serde_yaml::from_str(&docs[2]).unwrap(),
        job: serde_yaml::from_str(&docs[3]).unwrap(),
    }
}

/// A YAML stream's documents. They start at a line that is `---`; a PEM's dashes are
/// inside a line.
pub(crate) fn documents(yaml: &str) -> Vec<String> {
    format!("\n{yaml}")
        .split("\n---\n")
        .filter(|d| !d.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Containers started here, removed when the test ends, however it ends.
#[derive(Default)]
struct Containers(Vec<String>);

impl Drop for Containers {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            let _ = Command::new("docker").args(["rm", "-f"]).args(&self.0).output();
        }
    }
}

impl Containers {
    fn logs(&self) -> String {
        self.0
            .iter()
            .map(|name| {
                let output = Command::new("docker").args(["logs", name]).output().unwrap();
                format!(
                    "--- {name}\n{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                )
            })
            .collect()
    }
}

/// Runs pods of `objects` as a kubelet would, their volumes' files under `dir`.
struct Kubelet<'a> {
    objects: &'a Objects,
    dir: PathBuf,
}

impl Kubelet<'_> {
    /// `docker run -d` of the pod's one container, named `name`.
    fn start(&self, name: &str, spec: &PodSpec, containers: &mut Containers) {
        let container = &spec.containers[0];
        let security = spec.security_context.clone().unwrap_or_default();
        let mut command = Command::new("docker");
        command.args(["run", "-d", "--name", name, "--network", "host"]);
        let service = self.objects.service.metadata.name.clone().unwrap();
        command.args(["--add-host", &format!("{service}:127.0.0.1")]);
        command.args(["-v", &format!("{BIN}:{EXE_IN_IMAGE}:ro")]);
        if let Some(user) = security.run_as_user {
            let group = security.run_as_group.map_or(String::new(), |g| format!(":{g}"));
            command.args(["--user", &format!("{user}{group}")]);
        }
        for group in security
            .fs_group
            .into_iter()
            .chain(security.supplemental_groups.into_iter().flatten())
        {
            command.args(["--group-add", &group.to_string()]);
        }
        if let Some(limits) = container.resources.as_ref().and_then(|r| r.limits.as_ref()) {
            let memory = limits["memory"].0.trim_end_matches("Mi");
            command.args(["--memory", &format!("{memory}m")]);
            let millis: f64 = limits["cpu"].0.trim_end_matches('m').parse().unwrap();
            command.args(["--cpus", &(millis / 1000.0).to_string()]);
        }
        for env in container.env.iter().flatten() {
            match (&env.value, &env.value_from) {
                (Some(value), _) => {
                    command.args(["-e", &format!("{}={value}", env.name)]);
                }
                (None, Some(from)) => {
                    // The value reaches the container through docker's environment, as
                    // a kubelet passes it: never on a command line.
                    let key = &from.secret_key_ref.as_ref().unwrap().key;
                    let value = &self.objects.secret.string_data.as_ref().unwrap()[key];
                    command.args(["-e", &env.name]).env(&env.name, value);
                }
                (None, None) => panic!("{} has no value", env.name),
            }
        }
        let mut mounts = container.volume_mounts.clone().unwrap_or_default();
        mounts.sort_by_key(|m| m.mount_path.len());
        for mount in mounts {
            let volume = spec
                .volumes
                .iter()
                .flatten()
                .find(|v| v.name == mount.name)
                .unwrap();
            let host = self.volume(name, volume, security.fs_group);
            let read_only = if mount.read_only == Some(true) { ":ro" } else { "" };
            command.args([
                "-v",
                &format!("{}:{}{read_only}", host.display(), mount.mount_path),
            ]);
        }
        let words = container.command.clone().unwrap();
        command.args(["--entrypoint", &words[0], IMAGE]).args(&words[1..]);
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "docker run {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        containers.0.push(name.to_owned());
    }

    /// The volume's files as a kubelet lays them out: owned by root, in the fsGroup's
    /// group if the pod has one, with the volume's mode; an emptyDir open to all.
    fn volume(&self, pod: &str, volume: &Volume, fs_group: Option<i64>) -> PathBuf {
        let dir = self.dir.join(pod).join(&volume.name);
        std::fs::create_dir_all(&dir).unwrap();
        let (data, items, default_mode) = if let Some(secret) = &volume.secret {
            let data = self.objects.secret.string_data.clone().unwrap();
            (data, secret.items.clone(), secret.default_mode)
        } else if let Some(map) = &volume.config_map {
            let data = self.objects.config_map.data.clone().unwrap();
            (data, map.items.clone(), map.default_mode)
        } else {
            assert!(volume.empty_dir.is_some(), "{volume:?}");
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
            return dir;
        };
        let items: Vec<(String, String, Option<i32>)> = match items {
            Some(items) => items.into_iter().map(|i| (i.key, i.path, i.mode)).collect(),
            None => data.keys().map(|k| (k.clone(), k.clone(), None)).collect(),
        };
        for (key, path, mode) in items {
            let file = dir.join(path);
            std::fs::write(&file, &data[&key]).unwrap();
            let group = fs_group.map(|g| g as u32).unwrap_or(0);
            std::os::unix::fs::chown(&file, Some(0), Some(group)).unwrap();
            let mode = mode.or(default_mode).unwrap_or(KUBERNETES_DEFAULT_MODE);
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode as u32)).unwrap();
        }
        dir
    }
}

/// Waits until `file` exists, up to `limit`.
fn wait_for(file: &Path, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if file.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn a_tls_load_runs_through_generator_pods_as_a_kubelet_runs_them() {
    if !crate::common::docker::ready() {
        return;
    }
    let lab = crate::tls::lab();
    let run = Run::new();
    let scenario = crate::tls::scenario(&run, "/guarded");
    let yaml = run.dir.path().join("generators.yaml");
    let output = Command::new(BIN)
        .args(["k8s", "generators", &scenario, "--workers", "2", "--image", IMAGE])
        .args(["--target", &format!("https://localhost:{}", lab.nginx.mtls)])
        .args(lab.pki.client_flags())
        .args(["--header", "X-Gateway-Key: ${TEST_GATEWAY_KEY}"])
        .args(["--basic-auth", &format!("{GATE_USER}:${{TEST_GATE_PASSWORD}}")])
        .arg("--out")
        .arg(&yaml)
        .env("TEST_GATEWAY_KEY", GATEWAY_KEY)
        .env("TEST_GATE_PASSWORD", GATE_PASSWORD)
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let written = std::fs::read_to_string(&yaml).unwrap();
    for secret in [GATEWAY_KEY, GATE_PASSWORD, "PRIVATE KEY"] {
        assert!(
            !written.contains(secret),
            "{secret} written in {}",
            yaml.display()
        );
    }
    let objects = objects(&written, &String::from_utf8(output.stdout).unwrap());
    let kubelet = Kubelet {
        objects: &objects,
        dir: run.dir.path().join("kubelet"),
    };
    let run_name = objects.coordinator.metadata.name.clone().unwrap();
    let mut containers = Containers::default();
    let coordinator = objects.coordinator.spec.clone().unwrap();
    kubelet.start(&run_name, &coordinator, &mut containers);
    let generator = objects.job.spec.clone().unwrap().template.spec.unwrap();
    for index in 0..2 {
        kubelet.start(
            &format!("{run_name}-generator-{index}"),
            &generator,
            &mut containers,
        );
    }
    let reports = kubelet.dir.join(&run_name).join("reports");
    assert!(
        wait_for(&reports.join("exit-code"), Duration::from_secs(60)),
        "the coordinator pod did not finish:\n{}",
        containers.logs()
    );
    let code = std::fs::read_to_string(reports.join("exit-code")).unwrap();
    assert_eq!(code.trim(), "0", "{}", containers.logs());
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("summary.json")).unwrap()).unwrap();
    let totals = &summary["totals"];
    assert!(
        totals["count"].as_u64().unwrap() > 0 && totals["errors"].as_u64() == Some(0),
        "{totals}"
    );
    let generators = summary["generators"].as_array().unwrap();
    assert_eq!(generators.len(), 2, "{generators:?}");
}
