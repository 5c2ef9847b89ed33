//! `karigar-perf k8s generators`: the Kubernetes objects of a distributed run, written
//! to a file for `kubectl apply -f`. The scenario and flags are checked here first, as
//! the coordinator will check them in the cluster.

use crate::cli::K8sGeneratorsArgs;
use crate::distributed::{self, generator_objects, K8sSettings};
use crate::error::Context as _;
use crate::error::{Error, Result};
use crate::scenario::{LoadOverrides, Plan, Source};

pub fn generators(args: &K8sGeneratorsArgs) -> Result<u8> {
    let source = Source::locate(&args.scenario)?;
    let overrides = LoadOverrides {
        users: args.users,
        duration: args.duration,
        rate: args.rate.clone(),
        ..Default::default()
    };
    let plan = Plan::build(&source, &overrides, &[])?;
    let run = object_name(&plan.name);
    let settings = K8sSettings {
        run: run.clone(),
        namespace: args.namespace.clone(),
        image: args.image.clone(),
        workers: usize::from(args.workers),
        target: args.target.clone(),
        frontend: args.frontend.clone(),
        scenario: distributed::scenario_text(&source),
        load_args: load_args(args),
    };
    let yaml = generator_objects(&settings, &distributed::run_token())
        .to_yaml()
        .map_err(|e| Error::Internal(e.into()))?;
    let out = crate::config::output_path(args.out.as_deref(), &format!("k8s-{run}.yaml"));
    write_private(&out, &yaml)?;
    println!(
        "wrote {} (it holds the run's token in a Secret: keep it private)",
        out.display()
    );
    let ns = args
        .namespace
        .as_ref()
        .map_or(String::new(), |ns| format!(" -n {ns}"));
    println!("run it:      kubectl apply -f {}", out.display());
    println!("watch it:    kubectl{ns} logs -f pod/karigar-perf-{run}-coordinator");
    println!("its reports: kubectl{ns} cp karigar-perf-{run}-coordinator:/reports ./reports/{run}");
    println!("clean up:    kubectl delete -f {}", out.display());
    Ok(crate::exit::PASS)
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

/// The file, readable by its owner only: it holds a secret.
fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).config_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::File::options()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .config_context(|| format!("cannot write {}", path.display()))
}
