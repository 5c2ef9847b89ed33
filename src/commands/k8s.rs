//! `karigar-perf k8s generators`: the Kubernetes objects of a distributed run, written
//! to a file for `kubectl apply -f`, and the run's Secret (its token, TLS files and the
//! values of the HTTP settings' variables) to standard output for `| kubectl apply -f
//! -`: no secret is ever written into a file by the harness.

use std::io::IsTerminal as _;

use crate::cli::K8sGeneratorsArgs;
use crate::config::K8sGeneratorsConfig;
use crate::distributed::{self, generator_objects};
use crate::error::Context as _;
use crate::error::{Error, Result};

pub fn generators(args: &K8sGeneratorsArgs) -> Result<u8> {
    if std::io::stdout().is_terminal() {
        return Err(Error::config(
            "k8s generators writes the run's Secret (its token, TLS files, header values) to standard output, \
             for a pipe: karigar-perf k8s generators ... | kubectl apply -f -",
        ));
    }
    let K8sGeneratorsConfig { settings, out } = K8sGeneratorsConfig::resolve(args)?;
    let objects = generator_objects(&settings, &distributed::run_token());
    let yaml = objects.to_yaml().map_err(|e| Error::Internal(e.into()))?;
    let secret = objects.secret_yaml().map_err(|e| Error::Internal(e.into()))?;
    write_file(&out, &yaml)?;
    print!("{secret}");
    let name = objects.secret.metadata.name.clone().unwrap_or_default();
    let http = &settings.http;
    let held: Vec<String> = std::iter::once("the run's token".to_owned())
        .chain(http.files.keys().cloned())
        .chain(http.env.keys().map(|name| format!("${{{name}}}")))
        .collect();
    eprintln!(
        "wrote {}; Secret {name} ({}) to standard output",
        out.display(),
        held.join(", ")
    );
    let run = &settings.run;
    let ns = settings
        .namespace
        .as_ref()
        .map_or(String::new(), |ns| format!(" -n {ns}"));
    eprintln!(
        "run it:      kubectl apply -f {} (after the Secret)",
        out.display()
    );
    eprintln!("watch it:    kubectl{ns} logs -f pod/karigar-perf-{run}-coordinator");
    eprintln!("its reports: kubectl{ns} cp karigar-perf-{run}-coordinator:/reports ./reports/{run}");
    eprintln!(
        "clean up:    kubectl delete -f {}; kubectl{ns} delete secret {name}",
        out.display()
    );
    Ok(crate::exit::PASS)
}

fn write_file(path: &std::path::Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).config_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).config_context(|| format!("cannot write {}", path.display()))
}
