//! A distributed run on Kubernetes, as typed objects (`k8s-openapi`) rendered to YAML:
//! the scenario in a ConfigMap, the run's token in a Secret, the coordinator as a Pod
//! behind a Service (it owns the SLOs and the reports), and the generators as an
//! Indexed Job of N pods, all running the harness's own image. No cluster is needed to
//! write them; `kubectl apply -f` runs them.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    Pod, PodSpec, PodTemplateSpec, Secret, SecretKeySelector, Service, ServicePort, ServiceSpec, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::protocol::{ScenarioText, TOKEN_ENV};

/// The coordinator's port inside the cluster.
pub const COORDINATOR_PORT: u16 = 7878;
const SCENARIO_KEY: &str = "scenario.toml";
const TOKEN_KEY: &str = "token";
const SCENARIO_MOUNT: &str = "/etc/karigar-perf";
const REPORTS_MOUNT: &str = "/reports";
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
}

/// The run's objects, in the order `kubectl apply` creates them.
pub struct GeneratorObjects {
    pub secret: Secret,
    pub config_map: ConfigMap,
    pub service: Service,
    pub coordinator: Pod,
    pub job: Job,
}

impl GeneratorObjects {
    /// One YAML stream, a document per object.
    pub fn to_yaml(&self) -> Result<String, serde_yaml::Error> {
        let documents = [
            serde_yaml::to_string(&self.secret)?,
            serde_yaml::to_string(&self.config_map)?,
            serde_yaml::to_string(&self.service)?,
            serde_yaml::to_string(&self.coordinator)?,
            serde_yaml::to_string(&self.job)?,
        ];
        Ok(documents.iter().map(|d| format!("---\n{d}")).collect())
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
            string_data: Some(BTreeMap::from([(TOKEN_KEY.to_owned(), token.to_owned())])),
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
                name: name(settings, "token"),
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
    Pod {
        metadata: meta(settings, "coordinator", "coordinator"),
        spec: Some(PodSpec {
            restart_policy: Some("Never".into()),
            containers: vec![Container {
                name: "coordinator".into(),
                image: Some(settings.image.clone()),
                command: Some(coordinator_command(settings)),
                env: Some(vec![token_env(settings)]),
                ports: Some(vec![ContainerPort {
                    container_port: i32::from(COORDINATOR_PORT),
                    name: Some("coordinator".into()),
                    ..Default::default()
                }]),
                volume_mounts: Some(vec![
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
                ]),
                ..Default::default()
            }],
            volumes: Some(vec![
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
            ]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn job(settings: &K8sSettings) -> Job {
    let workers = settings.workers as i32;
    Job {
        metadata: meta(settings, "generators", "generator"),
        spec: Some(JobSpec {
            completion_mode: Some("Indexed".into()),
            completions: Some(workers),
            parallelism: Some(workers),
            backoff_limit: Some(0),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(settings, "generator")),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    containers: vec![Container {
                        name: "generator".into(),
                        image: Some(settings.image.clone()),
                        command: Some(vec![
                            "karigar-perf".into(),
                            "worker".into(),
                            "--quiet".into(),
                            "--coordinator".into(),
                            GeneratorObjects::coordinator_url(settings),
                        ]),
                        env: Some(vec![token_env(settings)]),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
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
        }
    }

    /// Rendered to YAML and parsed back as the typed objects, as a cluster would.
    fn parsed() -> (Secret, ConfigMap, Service, Pod, Job) {
        let yaml = generator_objects(&settings(), "s3cret").to_yaml().unwrap();
        let docs: Vec<&str> = yaml.split("---\n").filter(|d| !d.trim().is_empty()).collect();
        assert_eq!(docs.len(), 5);
        (
            serde_yaml::from_str(docs[0]).unwrap(),
            serde_yaml::from_str(docs[1]).unwrap(),
            serde_yaml::from_str(docs[2]).unwrap(),
            serde_yaml::from_str(docs[3]).unwrap(),
            serde_yaml::from_str(docs[4]).unwrap(),
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
        let generator = &spec.template.spec.unwrap().containers[0];
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
            "scenario /etc/karigar-perf/scenario.toml",
            "--generators 4 --engine external --coordinator-listen 0.0.0.0:7878",
            "--target http://backend.staging:8080",
            "--duration 5m --users 40",
            "--report-dir /reports",
        ] {
            assert!(script.contains(words), "{words}: {script}");
        }
    }

    #[test]
    fn words_with_spaces_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("--rate"), "--rate");
        assert_eq!(shell_quote("10/s..200/s over 5m"), "'10/s..200/s over 5m'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
