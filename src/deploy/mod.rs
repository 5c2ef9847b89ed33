//! Capacity results as the seed's deployment: from `capacity.json` a
//! [`DeploymentPlan`] (every number with the measurement it comes from), written as
//! Kubernetes manifests (`deploy k8s`), as a Compose override (`deploy compose`), or
//! run on the Docker stack (`--profile sized:capacity.json`) to check the sizing under
//! the target load before it is deployed.
//!
//! - `plan`: the numbers and their sources
//! - `k8s`: the seed's six files, the HPA and a PodDisruptionBudget, as typed objects
//! - `compose`: the override of `docker-compose.test.yml` and its command line

mod compose;
mod k8s;
mod plan;

use std::path::Path;

pub use compose::{
    command_line as compose_command_line, override_file as compose_override, FILE as COMPOSE_FILE,
};
pub use k8s::{manifests, K8sOptions, Manifest, SECRET};
pub use plan::{plan, Chosen, DeploymentPlan, Resources, CONNECTION_RESERVE};

use crate::capacity::CapacityReport;
use crate::error::Context as _;
use crate::error::{Error, Result};

/// The deployment a capacity report comes to, as its reports show it (none when the
/// search cannot be sized).
pub fn table(report: &CapacityReport) -> Option<crate::report::DeploymentTable> {
    let plan = plan(report).ok()?;
    Some(crate::report::DeploymentTable {
        rows: plan
            .chosen
            .iter()
            .map(|c| [c.setting.clone(), c.value.clone(), c.from.clone()])
            .collect(),
        db_budget: plan.db_decision.clone(),
        compose: compose_command_line(&plan),
    })
}

/// The plan of the capacity report at `path`; a report that cannot be sized says why.
pub fn plan_from_file(path: &Path) -> Result<DeploymentPlan> {
    let text = std::fs::read_to_string(path).config_context(|| format!("cannot read {}", path.display()))?;
    let report: CapacityReport = serde_json::from_str(&text)
        .config_context(|| format!("{} is not a capacity.json", path.display()))?;
    plan(&report).map_err(|why| Error::config(format!("{}: {why}", path.display())))
}

/// Writes every manifest into `dir`; returns the files written.
pub fn write_k8s(plan: &DeploymentPlan, options: &K8sOptions, dir: &Path) -> Result<Vec<String>> {
    let manifests = manifests(plan, options).map_err(|e| Error::Internal(e.into()))?;
    create(dir)?;
    manifests
        .iter()
        .map(|manifest| {
            write(&dir.join(manifest.file), &manifest.text())?;
            Ok(manifest.file.to_owned())
        })
        .collect()
}

/// Writes the manifests into `out`; returns what to tell the user (what was written,
/// how to apply it).
pub fn emit_k8s(plan: &DeploymentPlan, options: &K8sOptions, out: &Path) -> Result<String> {
    let files = write_k8s(plan, options, out)?;
    Ok(format!(
        "wrote {} manifests into {}: {}
apply them: kubectl create secret generic {SECRET} \
         --from-literal=postgres-password=... --from-literal=redis-password=... --from-literal=jwt-secret=...; \
         kubectl apply -f {}\n",
        files.len(),
        out.display(),
        files.join(", "),
        out.display()
    ))
}

/// Writes the Compose override into `dir`; returns its path.
pub fn write_compose(plan: &DeploymentPlan, dir: &Path) -> Result<std::path::PathBuf> {
    let text = compose_override(plan).map_err(|e| Error::Internal(e.into()))?;
    create(dir)?;
    let path = dir.join(COMPOSE_FILE);
    write(&path, &text)?;
    Ok(path)
}

/// `object` as YAML that YAML 1.1 readers (docker-compose's PyYAML, kubectl's
/// go-yaml) read back as written: serde_yaml writes YAML 1.2, where `yes`, `no`,
/// `on` and `off` are strings, and leaves them bare; 1.1 reads them as booleans.
pub(crate) fn yaml<T: serde::Serialize>(object: &T) -> std::result::Result<String, serde_yaml::Error> {
    let text = serde_yaml::to_string(object)?;
    Ok(text
        .lines()
        .map(quote_yaml11_boolean)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n")
}

fn quote_yaml11_boolean(line: &str) -> String {
    const WORDS: [&str; 8] = ["yes", "no", "on", "off", "Yes", "No", "On", "Off"];
    let start = match line.rfind(": ") {
        Some(colon) => colon + 2,
        None if line.trim_start().starts_with("- ") => line.len() - line.trim_start().len() + 2,
        None => return line.to_owned(),
    };
    match WORDS.contains(&&line[start..]) {
        true => format!("{}'{}'", &line[..start], &line[start..]),
        false => line.to_owned(),
    }
}

fn create(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).config_context(|| format!("cannot create {}", dir.display()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).config_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_yaml_11_reads_as_booleans_are_quoted() {
        let value = serde_json::json!({"args": ["--appendonly", "yes"], "flag": "on", "name": "yes-man", "env": [{"value": "no"}]});
        let text = yaml(&value).unwrap();
        assert!(
            text.contains("- 'yes'") && text.contains("flag: 'on'") && text.contains("name: yes-man"),
            "{text}"
        );
        let back: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
