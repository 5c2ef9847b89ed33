//! `deploy k8s` and `k8s generators`: what the Kubernetes objects name that a capacity
//! report or a scenario does not know.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cli::{HttpArgs, K8sGeneratorsArgs, K8sManifestArgs};
use crate::deploy::K8sOptions;
use crate::distributed::{scenario_text, GeneratorPod, K8sHttp, K8sSettings, TLS_MOUNT};
use crate::error::{Error, Result};
use crate::scenario::{LoadOverrides, Plan, Source};

/// `deploy k8s`: the namespace, images and host of the manifests.
pub fn k8s_options(args: &K8sManifestArgs) -> K8sOptions {
    K8sOptions {
        namespace: args.k8s_namespace.clone(),
        backend_image: args.k8s_backend_image.clone(),
        frontend_image: args.k8s_frontend_image.clone(),
        host: args.k8s_host.clone(),
    }
}

/// `k8s generators`: the run's objects and the file they go to.
pub struct K8sGeneratorsConfig {
    pub settings: K8sSettings,
    pub out: PathBuf,
}

impl K8sGeneratorsConfig {
    /// The scenario and load flags, checked here as the coordinator will check them in the
    /// cluster, and the run's name.
    pub fn resolve(args: &K8sGeneratorsArgs) -> Result<Self> {
        let source = Source::locate(&args.scenario)?;
        let overrides = LoadOverrides {
            users: args.users,
            duration: args.duration,
            rate: args.rate.clone(),
            ..Default::default()
        };
        let plan = Plan::build(&source, &overrides, &[])?;
        let run = object_name(&plan.name);
        let out = super::output_path(args.out.as_deref(), &format!("k8s-{run}.yaml"));
        let settings = K8sSettings {
            run,
            namespace: args.namespace.clone(),
            image: args.image.clone(),
            workers: usize::from(args.workers),
            target: args.target.clone(),
            frontend: args.frontend.clone(),
            scenario: scenario_text(&source),
            load_args: load_args(args),
            http: k8s_http(&args.http, &plan)?,
            generator: GeneratorPod::sized(
                &plan,
                usize::from(args.workers),
                args.generator_cpu,
                args.generator_memory,
            ),
        };
        Ok(Self { settings, out })
    }
}

/// The HTTP flags over the scenario's `[http]`, checked here, as the pods will see
/// them: each TLS file in the run's Secret and its path under the Secret's mount, each
/// `${VAR}`'s value (from this environment) and each literal value (in a variable of its
/// own) in the Secret too: none on the coordinator's command line.
fn k8s_http(args: &HttpArgs, plan: &Plan) -> Result<K8sHttp> {
    let written = super::stack::http_flags(args).over(plan.http.clone());
    let settings = crate::client::settings(&written).map_err(Error::config)?;
    let travelling = written
        .travelling(&crate::http::Env::Process)
        .map_err(Error::config)?;
    let mut options = travelling.options;
    let mut files = BTreeMap::new();
    let identity = settings.identity.as_ref();
    for (key, pem, slot) in [
        ("ca.pem", settings.ca_cert.as_ref(), &mut options.ca_cert),
        ("client.pem", identity.map(|i| &i.cert), &mut options.client_cert),
        ("client.key", identity.map(|i| &i.key), &mut options.client_key),
    ] {
        if let Some(pem) = pem {
            files.insert(key.to_owned(), String::from_utf8_lossy(&pem.bytes).into_owned());
            *slot = Some(Path::new(TLS_MOUNT).join(key));
        }
    }
    Ok(K8sHttp {
        options,
        files,
        env: travelling.env,
    })
}

/// `NAME-xxxx`: the scenario's name as Kubernetes allows in object names (lower case,
/// digits, `-`; short enough that every object's name stays under 63 characters), and a
/// random suffix so that runs do not collide.
fn object_name(scenario: &str) -> String {
    let cleaned: String = scenario
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(20)
        .collect();
    let suffix = rand::distributions::DistString::sample_string(
        &rand::distributions::Alphanumeric,
        &mut rand::thread_rng(),
        4,
    )
    .to_ascii_lowercase();
    format!("{}-{suffix}", cleaned.trim_matches('-'))
}

/// The load flags the coordinator in the cluster is given.
fn load_args(args: &K8sGeneratorsArgs) -> Vec<String> {
    let mut words = Vec::new();
    if let Some(users) = args.users {
        words.extend(["--users".to_owned(), users.to_string()]);
    }
    if let Some(duration) = args.duration {
        words.extend([
            "--duration".to_owned(),
            humantime::format_duration(duration).to_string(),
        ]);
    }
    if let Some(rate) = &args.rate {
        words.extend(["--rate".to_owned(), rate.clone()]);
    }
    words
}
