//! A distributed run on Kubernetes, as typed objects (`k8s-openapi`) rendered to YAML:
//! the scenario in a ConfigMap, the run's token in a Secret, the coordinator as a Pod
//! behind a Service (it owns the SLOs and the reports), and the generators as an
//! Indexed Job of N pods, all running the harness's own image. No cluster is needed to
//! write them; `kubectl apply -f` runs them.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    KeyToPath, Pod, PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements, Secret,
    SecretKeySelector, SecretVolumeSource, Service, ServicePort, ServiceSpec, TopologySpreadConstraint,
    Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::pod::GeneratorPod;
use super::protocol::{ScenarioText, TOKEN_ENV};

/// The coordinator's port inside the cluster.
pub const COORDINATOR_PORT: u16 = 7878;
const SCENARIO_KEY: &str = "scenario.toml";
const TOKEN_KEY: &str = "token";
/// Beside the TLS mount, not above it: a volume cannot be mounted inside a ConfigMap's,
/// which Kubernetes mounts read-only.
const SCENARIO_MOUNT: &str = "/etc/karigar-perf/scenario";
const REPORTS_MOUNT: &str = "/reports";
/// The user and group every pod runs as: `nobody`, as the harness image does. The
/// Secret's files are the group's (`fsGroup`), so that this user reads them.
const POD_USER: i64 = 65534;
/// The Secret's files: read by their owner (root) and the pod's group, nobody else.
const TLS_FILE_MODE: i32 = 0o440;
/// How long the coordinator's pod stays up after the run, for `kubectl cp`.
const KEEP_REPORTS_S: u32 = 3600;

/// What the objects are made from.
pub struct K8sSettings {
    /// Names every object (`karigar-perf-RUN-...`) and labels it.
    pub run: String,
    pub namespace: Option<String>,
    /// An image with `karigar-perf` on its PATH (`docker/build.sh` makes one).
    pub image: String,
    pub workers: usize,
    pub target: String,
    pub frontend: Option<String>,
    pub scenario: ScenarioText,
    /// Load flags for the coordinator (`--duration 5m`, `--rate 200/s`, ...).
    pub load_args: Vec<String>,
    pub generator: GeneratorPod,
    pub http: K8sHttp,
}

/// What the pods need to reach a deployment behind TLS or a gateway: the options as
/// the pods see them (files under the Secret's mount), the files, and the values of
/// the `${VAR}`s, all in the run's Secret.
#[derive(Clone, Debug, Default)]
pub struct K8sHttp {
    pub options: crate::http::HttpOptions,
    /// Secret key (`ca.pem`, `client.pem`, `client.key`) -> PEM text.
    pub files: BTreeMap<String, String>,
    /// Environment variable -> value.
    pub env: BTreeMap<String, String>,
}

/// Where the pods find the TLS files of the run's Secret.
pub const TLS_MOUNT: &str = "/etc/karigar-perf/tls";

/// The run's objects, in the order `kubectl apply` creates them.
pub struct GeneratorObjects {
    pub secret: Secret,
    pub config_map: ConfigMap,
    pub service: Service,
    pub coordinator: Pod,
    pub job: Job,
}

impl GeneratorObjects {
    /// One YAML stream, a document per object, the Secret left out: it is written only
    /// by [`secret_yaml`](Self::secret_yaml), to a pipe, never into a file.
    pub fn to_yaml(&self) -> Result<String, serde_yaml::Error> {
        let documents = [
            serde_yaml::to_string(&self.config_map)?,
            serde_yaml::to_string(&self.service)?,
            serde_yaml::to_string(&self.coordinator)?,
            serde_yaml::to_string(&self.job)?,
        ];
        Ok(documents.iter().map(|d| format!("---\n{d}")).collect())
    }

    /// The run's Secret (its token, the TLS files, the values of the settings'
    /// variables), as YAML for `kubectl apply -f -`.
    pub fn secret_yaml(&self) -> Result<String, serde_yaml::Error> {
        Ok(format!("---\n{}", serde_yaml::to_string(&self.secret)?))
    }

    /// Where the generators reach the coordinator.
    pub fn coordinator_url(settings: &K8sSettings) -> String {
        format!("http://{}:{COORDINATOR_PORT}", name(settings, "coordinator"))
    }
}

/// Every object of a run whose generators are an Indexed Job, with `token` in its Secret.
pub fn generator_objects(settings: &K8sSettings, token: &str) -> GeneratorObjects {
    GeneratorObjects {
        secret: Secret {
            metadata: meta(settings, "token", "token"),
            string_data: Some(secret_data(settings, token)),
            type_: Some("Opaque".into()),
            ..Default::default()
        },
        config_map: ConfigMap {
            metadata: meta(settings, "scenario", "scenario"),
            data: Some(BTreeMap::from([(
                SCENARIO_KEY.to_owned(),
                settings.scenario.text.clone(),
            )])),
            ..Default::default()
        },
        service: service(settings),
        coordinator: coordinator(settings),
        job: job(settings),
    }
}

/// The token, the TLS files and each `${VAR}`'s value (under `env.VAR`).
fn secret_data(settings: &K8sSettings, token: &str) -> BTreeMap<String, String> {
    let mut data = BTreeMap::from([(TOKEN_KEY.to_owned(), token.to_owned())]);
    data.extend(settings.http.files.clone());
    for (name, value) in &settings.http.env {
        data.insert(format!("env.{name}"), value.clone());
    }
    data
}

/// Every pod's environment: the token and each `${VAR}` the HTTP options name, from
/// the Secret.
fn pod_env(settings: &K8sSettings) -> Vec<EnvVar> {
    let mut env = vec![token_env(settings)];
    env.extend(settings.http.env.keys().map(|name| EnvVar {
        name: name.clone(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: name_of_secret(settings),
                key: format!("env.{name}"),
                optional: Some(false),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }));
    env
}

fn name_of_secret(settings: &K8sSettings) -> String {
    name(settings, "token")
}

/// The TLS files of the Secret, mounted read-only at [`TLS_MOUNT`] (none: no volume).
fn tls_volume(settings: &K8sSettings) -> Option<(Volume, VolumeMount)> {
    if settings.http.files.is_empty() {
        return None;
    }
    let items = settings
        .http
        .files
        .keys()
        .map(|key| KeyToPath {
            key: key.clone(),
            path: key.clone(),
            ..Default::default()
        })
        .collect();
    let volume = Volume {
        name: "tls".into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(name_of_secret(settings)),
            items: Some(items),
            default_mode: Some(TLS_FILE_MODE),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mount = VolumeMount {
        name: "tls".into(),
        mount_path: TLS_MOUNT.into(),
        read_only: Some(true),
        ..Default::default()
    };
    Some((volume, mount))
}

/// Every pod's user: not root, and in the group that owns the Secret's files.
fn security_context() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(POD_USER),
        run_as_group: Some(POD_USER),
        fs_group: Some(POD_USER),
        ..Default::default()
    }
}

fn name(settings: &K8sSettings, part: &str) -> String {
    format!("karigar-perf-{}-{part}", settings.run)
}

fn labels(settings: &K8sSettings, role: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), "karigar-perf".to_owned()),
        ("karigar-perf/run".to_owned(), settings.run.clone()),
        ("karigar-perf/role".to_owned(), role.to_owned()),
    ])
}

fn meta(settings: &K8sSettings, part: &str, role: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name(settings, part)),
        namespace: settings.namespace.clone(),
        labels: Some(labels(settings, role)),
        ..Default::default()
    }
}

fn service(settings: &K8sSettings) -> Service {
    Service {
        metadata: meta(settings, "coordinator", "coordinator"),
        spec: Some(ServiceSpec {
            selector: Some(labels(settings, "coordinator")),
            ports: Some(vec![ServicePort {
                name: Some("coordinator".into()),
                port: i32::from(COORDINATOR_PORT),
                target_port: Some(IntOrString::Int(i32::from(COORDINATOR_PORT))),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The run's token from its Secret, as the environment variable both sides read.
fn token_env(settings: &K8sSettings) -> EnvVar {
    EnvVar {
        name: TOKEN_ENV.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: name_of_secret(settings),
                key: TOKEN_KEY.into(),
                optional: Some(false),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The coordinator's command: the scenario against the target with `--engine
/// external`, reports kept in the pod for an hour (`kubectl cp`), its exit code beside.
fn coordinator_command(settings: &K8sSettings) -> Vec<String> {
    let mut run = vec![
        "karigar-perf".to_owned(),
        "scenario".into(),
        format!("{SCENARIO_MOUNT}/{SCENARIO_KEY}"),
        "--target".into(),
        settings.target.clone(),
        "--generators".into(),
        settings.workers.to_string(),
        "--engine".into(),
        "external".into(),
        "--coordinator-listen".into(),
        format!("0.0.0.0:{COORDINATOR_PORT}"),
        "--report-dir".into(),
        REPORTS_MOUNT.into(),
    ];
    if let Some(frontend) = &settings.frontend {
        run.extend(["--frontend".into(), frontend.clone()]);
    }
    run.extend(settings.load_args.iter().cloned());
    run.extend(settings.http.options.to_args());
    let quoted: Vec<String> = run.iter().map(|word| shell_quote(word)).collect();
    vec![
        "sh".into(),
        "-c".into(),
        format!(
            "{}; code=$?; echo $code > {REPORTS_MOUNT}/exit-code; sleep {KEEP_REPORTS_S}; exit $code",
            quoted.join(" ")
        ),
    ]
}

fn shell_quote(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:=,".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn coordinator(settings: &K8sSettings) -> Pod {
    let tls = tls_volume(settings);
    let mut mounts = vec![
        VolumeMount {
            name: "scenario".into(),
            mount_path: SCENARIO_MOUNT.into(),
            read_only: Some(true),
            ..Default::default()
        },
        VolumeMount {
            name: "reports".into(),
            mount_path: REPORTS_MOUNT.into(),
            ..Default::default()
        },
    ];
    let mut volumes = vec![
        Volume {
            name: "scenario".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: name(settings, "scenario"),
                ..Default::default()
            }),
            ..Default::default()
        },
        Volume {
            name: "reports".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        },
    ];
    if let Some((volume, mount)) = tls.clone() {
        volumes.push(volume);
        mounts.push(mount);
    }
    Pod {
        metadata: meta(settings, "coordinator", "coordinator"),
        spec: Some(PodSpec {
            restart_policy: Some("Never".into()),
            security_context: Some(security_context()),
            containers: vec![Container {
                name: "coordinator".into(),
                image: Some(settings.image.clone()),
                command: Some(coordinator_command(settings)),
                env: Some(pod_env(settings)),
                ports: Some(vec![ContainerPort {
                    container_port: i32::from(COORDINATOR_PORT),
                    name: Some("coordinator".into()),
                    ..Default::default()
                }]),
                volume_mounts: Some(mounts),
                ..Default::default()
            }],
            volumes: Some(volumes),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn job(settings: &K8sSettings) -> Job {
    let workers = settings.workers as i32;
    let tls = tls_volume(settings);
    Job {
        metadata: meta(settings, "generators", "generator"),
        spec: Some(JobSpec {
            completion_mode: Some("Indexed".into()),
            completions: Some(workers),
            parallelism: Some(workers),
            backoff_limit: Some(0),
            active_deadline_seconds: Some(settings.generator.deadline.as_secs().max(1) as i64),
            ttl_seconds_after_finished: Some(KEEP_REPORTS_S as i32),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(settings, "generator")),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    security_context: Some(security_context()),
                    topology_spread_constraints: Some(vec![spread(settings)]),
                    containers: vec![Container {
                        name: "generator".into(),
                        resources: Some(generator_resources(&settings.generator)),
                        image: Some(settings.image.clone()),
                        command: Some(vec![
                            "karigar-perf".into(),
                            "worker".into(),
                            "--quiet".into(),
                            "--coordinator".into(),
                            GeneratorObjects::coordinator_url(settings),
                        ]),
                        env: Some(pod_env(settings)),
                        volume_mounts: tls.clone().map(|(_, mount)| vec![mount]),
                        ..Default::default()
                    }],
                    volumes: tls.map(|(volume, _)| vec![volume]),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// One generator per node before two on any: generators on one node share its CPU and
/// its network, and measure each other. `ScheduleAnyway`: fewer nodes than generators
/// still run, as evenly as they can.
fn spread(settings: &K8sSettings) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew: 1,
        topology_key: "kubernetes.io/hostname".into(),
        when_unsatisfiable: "ScheduleAnyway".into(),
        label_selector: Some(LabelSelector {
            match_labels: Some(labels(settings, "generator")),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn generator_resources(pod: &GeneratorPod) -> ResourceRequirements {
    const MIB: u64 = 1024 * 1024;
    let both = BTreeMap::from([
        ("cpu".to_owned(), Quantity(format!("{}m", pod.cpu_millis))),
        (
            "memory".to_owned(),
            Quantity(format!("{}Mi", pod.memory_bytes.div_ceil(MIB))),
        ),
    ]);
    ResourceRequirements {
        requests: Some(both.clone()),
        limits: Some(both),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn settings() -> K8sSettings {
        K8sSettings {
            run: "signup-1".into(),
            namespace: Some("load".into()),
            image: "registry.example/karigar-perf:1".into(),
            workers: 4,
            target: "http://backend.staging:8080".into(),
            frontend: None,
            scenario: ScenarioText {
                origin: "signup.toml".into(),
                text: "name = \"signup\"\n".into(),
                dir: None,
            },
            load_args: vec!["--duration".into(), "5m".into(), "--users".into(), "40".into()],
            generator: GeneratorPod {
                cpu_millis: 1500,
                memory_bytes: 512 * 1024 * 1024,
                deadline: Duration::from_secs(900),
            },
            http: K8sHttp {
                options: crate::http::HttpOptions {
                    ca_cert: Some("/etc/karigar-perf/tls/ca.pem".into()),
                    headers: vec![("X-Gateway-Key".into(), "${GATEWAY_KEY}".into())],
                    ..Default::default()
                },
                files: BTreeMap::from([("ca.pem".into(), "-----BEGIN CERTIFICATE-----\n".into())]),
                env: BTreeMap::from([("GATEWAY_KEY".into(), "gw".into())]),
            },
        }
    }

    /// Rendered to YAML and parsed back as the typed objects, as a cluster would.
    fn parsed() -> (Secret, ConfigMap, Service, Pod, Job) {
        let objects = generator_objects(&settings(), "s3cret");
        let yaml = objects.to_yaml().unwrap();
        assert!(!yaml.contains("s3cret") && !yaml.contains("BEGIN"), "{yaml}");
        // Documents start at a line that is `---`; a PEM's dashes are inside a line.
        let yaml = format!("\n{yaml}");
        let docs: Vec<&str> = yaml.split("\n---\n").filter(|d| !d.trim().is_empty()).collect();
        assert_eq!(docs.len(), 4);
        let secret = objects.secret_yaml().unwrap();
        (
            serde_yaml::from_str(secret.trim_start_matches("---\n")).unwrap(),
            serde_yaml::from_str(docs[0]).unwrap(),
            serde_yaml::from_str(docs[1]).unwrap(),
            serde_yaml::from_str(docs[2]).unwrap(),
            serde_yaml::from_str(docs[3]).unwrap(),
        )
    }

    #[test]
    fn the_generators_are_an_indexed_job_of_n_pods_reaching_the_coordinator_service() {
        let (secret, config_map, service, pod, job) = parsed();
        let spec = job.spec.unwrap();
        assert_eq!(spec.completion_mode.as_deref(), Some("Indexed"));
        assert_eq!(
            (spec.parallelism, spec.completions, spec.backoff_limit),
            (Some(4), Some(4), Some(0))
        );
        assert_eq!(
            (spec.active_deadline_seconds, spec.ttl_seconds_after_finished),
            (Some(900), Some(3600))
        );
        let pod_spec = spec.template.spec.unwrap();
        let spread = &pod_spec.topology_spread_constraints.as_ref().unwrap()[0];
        assert_eq!(
            (spread.max_skew, spread.topology_key.as_str()),
            (1, "kubernetes.io/hostname")
        );
        assert_eq!(
            spread.label_selector.as_ref().unwrap().match_labels,
            spec.template.metadata.as_ref().unwrap().labels,
            "the spread counts this run's generators"
        );
        let generator = &pod_spec.containers[0];
        let resources = generator.resources.clone().unwrap();
        assert_eq!(resources.requests, resources.limits);
        let requests = resources.requests.unwrap();
        assert_eq!(
            (requests["cpu"].0.as_str(), requests["memory"].0.as_str()),
            ("1500m", "512Mi")
        );
        assert_eq!(
            generator.image.as_deref(),
            Some("registry.example/karigar-perf:1")
        );
        let command = generator.command.clone().unwrap();
        assert_eq!(command[..2], ["karigar-perf", "worker"]);
        let service_name = service.metadata.name.clone().unwrap();
        assert_eq!(command.last().unwrap(), &format!("http://{service_name}:7878"));
        assert_eq!(
            service.spec.unwrap().selector,
            pod.metadata.labels,
            "the Service selects the coordinator"
        );
        assert_eq!(pod.metadata.namespace.as_deref(), Some("load"));
        let token = |env: &Option<Vec<EnvVar>>| {
            env.clone().unwrap()[0]
                .value_from
                .clone()
                .unwrap()
                .secret_key_ref
                .unwrap()
        };
        assert_eq!(token(&generator.env).name, secret.metadata.name.clone().unwrap());
        assert_eq!(secret.string_data.unwrap()["token"], "s3cret");
        assert_eq!(config_map.data.unwrap()["scenario.toml"], "name = \"signup\"\n");
        let coordinator = &pod.spec.unwrap().containers[0];
        assert_eq!(token(&coordinator.env).key, "token");
        let script = coordinator.command.clone().unwrap().join(" ");
        for words in [
            "scenario /etc/karigar-perf/scenario/scenario.toml",
            "--generators 4 --engine external --coordinator-listen 0.0.0.0:7878",
            "--target http://backend.staging:8080",
            "--duration 5m --users 40",
            "--report-dir /reports",
        ] {
            assert!(script.contains(words), "{words}: {script}");
        }
    }

    #[test]
    fn tls_files_and_header_values_reach_every_pod_from_the_runs_secret() {
        let (secret, _, _, pod, job) = parsed();
        let data = secret.string_data.unwrap();
        assert_eq!(data["env.GATEWAY_KEY"], "gw");
        assert!(data["ca.pem"].starts_with("-----BEGIN CERTIFICATE-----"));
        let secret_name = secret.metadata.name.unwrap();
        let pod_spec = pod.spec.unwrap();
        let job_spec = job.spec.unwrap().template.spec.unwrap();
        for (spec, container) in [
            (&pod_spec, &pod_spec.containers[0]),
            (&job_spec, &job_spec.containers[0]),
        ] {
            let env = container.env.clone().unwrap();
            let key = env.iter().find(|e| e.name == "GATEWAY_KEY").unwrap();
            let from = key.value_from.clone().unwrap().secret_key_ref.unwrap();
            assert_eq!(
                (from.name.as_str(), from.key.as_str()),
                (secret_name.as_str(), "env.GATEWAY_KEY")
            );
            let mounts = container.volume_mounts.clone().unwrap();
            let tls = mounts.iter().find(|m| m.name == "tls").unwrap();
            assert_eq!(tls.mount_path, TLS_MOUNT);
            let volume = spec
                .volumes
                .as_ref()
                .unwrap()
                .iter()
                .find(|v| v.name == "tls")
                .unwrap();
            let source = volume.secret.clone().unwrap();
            assert_eq!(source.secret_name.as_deref(), Some(secret_name.as_str()));
            let user = spec.security_context.clone().unwrap();
            assert_eq!(
                (user.run_as_user, user.fs_group, source.default_mode),
                (Some(65534), Some(65534), Some(0o440)),
                "the pod's user reads the files through its group"
            );
            assert_eq!(
                source.items.unwrap()[0].key,
                "ca.pem",
                "only the files, not the token"
            );
        }
        let script = pod_spec.containers[0].command.clone().unwrap().join(" ");
        assert!(
            script
                .contains("--ca-cert /etc/karigar-perf/tls/ca.pem --header 'X-Gateway-Key: ${GATEWAY_KEY}'"),
            "the coordinator is given the flags, the value left to its environment: {script}"
        );
    }

    #[test]
    fn words_with_spaces_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("--rate"), "--rate");
        assert_eq!(shell_quote("10/s..200/s over 5m"), "'10/s..200/s over 5m'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
