//! Every Kubernetes object the harness writes (`deploy k8s`, `k8s generators`) passes
//! Kubernetes' own OpenAPI schemas, strictly (no unknown field), for the oldest and the
//! newest version that `kubernetes-validate` (PyPI, installed by `.ci/install`) ships.
//! No cluster runs here: this is the check `kubectl apply` would make first.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::harness::{assert_exit, Run, BIN};

/// The oldest and the newest Kubernetes version the schemas are checked against.
pub const KUBERNETES_VERSIONS: [&str; 2] = ["1.25.0", "1.37.0"];

/// Asserts that every file passes `kubernetes-validate --strict` for each version.
pub fn assert_valid_for_kubernetes(files: &[PathBuf]) {
    assert!(!files.is_empty(), "nothing to validate");
    for version in KUBERNETES_VERSIONS {
        let output = validate(files, version);
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(
            !said.contains("No module named kubernetes_validate"),
            "kubernetes-validate is missing: bash .ci/install installs it"
        );
        assert!(
            output.status.success(),
            "Kubernetes {version} rejects them:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn validate(files: &[PathBuf], version: &str) -> std::process::Output {
    Command::new("python3")
        .args([
            "-m",
            "kubernetes_validate",
            "--strict",
            "--quiet",
            "--kubernetes-version",
            version,
        ])
        .args(files)
        .output()
        .expect("python3 runs (.ci/install installs kubernetes-validate into it)")
}

/// The YAML files in `dir`.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

const CAPACITY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/capacity.json");

/// `deploy k8s --from` the fixture capacity report into the run's folder.
fn deploy_k8s(run: &Run) -> PathBuf {
    let out = run.dir.path().join("k8s");
    let output = Command::new(BIN)
        .args(["deploy", "k8s", "--from", CAPACITY, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_exit(&output, 0);
    out
}

#[test]
fn the_deployment_manifests_pass_kubernetes_schemas() {
    let run = Run::new();
    let out = deploy_k8s(&run);
    let files = yaml_files(&out);
    assert_eq!(files.len(), 8, "{files:?}");
    assert_valid_for_kubernetes(&files);
}

#[test]
fn the_generator_objects_pass_kubernetes_schemas() {
    let run = Run::new();
    let pki = crate::tls::Pki::make(run.dir.path());
    let mut tls = pki.client_flags();
    tls.extend(["--header".into(), "X-Gateway-Key: ${TEST_GATEWAY_KEY}".into()]);
    let mut files = Vec::new();
    // A closed-model scenario, one with kinds of users and data pools, and one behind
    // TLS with a client certificate and a gateway header (its Secret and mounts).
    for (name, scenario, load, http) in [
        ("signup", "signup", ["--users", "400"], &[][..]),
        ("day", "day", ["--users", "120"], &[][..]),
        ("tls", "signup", ["--rate", "200/s"], &tls[..]),
    ] {
        let file = run.dir.path().join(format!("{name}.yaml"));
        let output = Command::new(BIN)
            .args(["k8s", "generators", scenario, "--workers", "8"])
            .args([
                "--target",
                "http://backend:8080",
                "--image",
                "registry.example/karigar-perf:1",
            ])
            .args(["--duration", "10m"])
            .args(load)
            .args(http)
            .arg("--out")
            .arg(&file)
            .env("TEST_GATEWAY_KEY", "gw")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_exit(&output, 0);
        files.push(file);
        // The Secret, which the harness writes only to standard output, checked too.
        let secret = run.dir.path().join(format!("{name}-secret.yaml"));
        std::fs::write(&secret, &output.stdout).unwrap();
        files.push(secret);
    }
    assert_valid_for_kubernetes(&files);
}

#[test]
fn an_object_with_a_field_kubernetes_does_not_know_is_rejected() {
    let run = Run::new();
    let out = deploy_k8s(&run);
    // The check can fail: a misspelt field, as a hand edit or a bad struct would make it.
    let hpa = out.join("backend-hpa.yaml");
    let text = std::fs::read_to_string(&hpa).unwrap();
    assert!(text.contains("minReplicas:"), "{text}");
    std::fs::write(&hpa, text.replace("minReplicas:", "minReplica:")).unwrap();
    for version in KUBERNETES_VERSIONS {
        let output = validate(std::slice::from_ref(&hpa), version);
        assert!(!output.status.success(), "{version} took minReplica");
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(said.contains("minReplica"), "{said}");
    }
}

/// The Secret goes to standard output only when it is not a terminal (`script` gives
/// the command one): printed on a screen, it would be in the scrollback.
#[test]
fn the_secret_is_never_printed_on_a_terminal() {
    let run = Run::new();
    let out = run.dir.path().join("k8s.yaml");
    let command = format!(
        "{BIN} k8s generators signup --workers 2 --target http://backend:8080 --image i:1 --out {}",
        out.display()
    );
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("script runs (util-linux)");
    let said = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("| kubectl apply -f -"), "{said}");
    assert!(!said.contains("kind: Secret") && !out.exists(), "{said}");
}
