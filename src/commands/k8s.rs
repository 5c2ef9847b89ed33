//! `karigar-perf k8s generators`: the Kubernetes objects of a distributed run, written
//! to a file for `kubectl apply -f`, readable by its owner only (it holds the run's token).

use crate::cli::K8sGeneratorsArgs;
use crate::config::K8sGeneratorsConfig;
use crate::distributed::{self, generator_objects};
use crate::error::Context as _;
use crate::error::{Error, Result};

pub fn generators(args: &K8sGeneratorsArgs) -> Result<u8> {
    let K8sGeneratorsConfig { settings, out } = K8sGeneratorsConfig::resolve(args)?;
    let yaml = generator_objects(&settings, &distributed::run_token())
        .to_yaml()
        .map_err(|e| Error::Internal(e.into()))?;
    write_private(&out, &yaml)?;
    println!(
        "wrote {} (it holds the run's token in a Secret: keep it private)",
        out.display()
    );
    let http = &settings.http;
    if !http.files.is_empty() || !http.env.is_empty() {
        let held: Vec<String> = http
            .files
            .keys()
            .cloned()
            .chain(http.env.keys().map(|name| format!("${{{name}}}")))
            .collect();
        println!(
            "the Secret also holds {}, mounted or set in every pod",
            held.join(", ")
        );
    }
    let run = &settings.run;
    let ns = settings
        .namespace
        .as_ref()
        .map_or(String::new(), |ns| format!(" -n {ns}"));
    println!("run it:      kubectl apply -f {}", out.display());
    println!("watch it:    kubectl{ns} logs -f pod/karigar-perf-{run}-coordinator");
    println!("its reports: kubectl{ns} cp karigar-perf-{run}-coordinator:/reports ./reports/{run}");
    println!("clean up:    kubectl delete -f {}", out.display());
    Ok(crate::exit::PASS)
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
