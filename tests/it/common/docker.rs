//! The Docker engine for the tests that need one: it must answer, and the local image
//! set (`docker/build.sh`) is built once per test binary. Where no daemon answers the
//! tests say so and skip, except under CI (`CI=true`), where `.ci/run` starts one and
//! a missing daemon is a failure.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// Whether Docker tests can run here; builds the images on first use.
pub fn ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        if !daemon_answers() {
            assert!(
                std::env::var("CI").is_err(),
                "no Docker daemon answers, and CI needs one (.ci/run starts dockerd)"
            );
            eprintln!("skipped: no Docker daemon answers (start dockerd to run the Docker tests)");
            return false;
        }
        build_images();
        true
    })
}

fn daemon_answers() -> bool {
    Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn build_images() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("bash")
        .arg(root.join("docker/build.sh"))
        .current_dir(root)
        .output()
        .expect("bash runs docker/build.sh");
    assert!(
        output.status.success(),
        "docker/build.sh failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Ids of the containers (any state) labelled with `run_id`.
pub fn containers_of(run_id: &str) -> Vec<String> {
    listed(
        "ps",
        &["-aq", "--filter", &format!("label=dev.karigar-perf.run={run_id}")],
    )
}

/// Ids of the networks labelled with `run_id`.
pub fn networks_of(run_id: &str) -> Vec<String> {
    listed(
        "network",
        &[
            "ls",
            "-q",
            "--filter",
            &format!("label=dev.karigar-perf.run={run_id}"),
        ],
    )
}

/// Ids of the images labelled with `run_id` (built by `--backend-build`).
pub fn images_of(run_id: &str) -> Vec<String> {
    listed(
        "images",
        &["-q", "--filter", &format!("label=dev.karigar-perf.run={run_id}")],
    )
}

fn listed(command: &str, args: &[&str]) -> Vec<String> {
    let output = Command::new("docker")
        .arg(command)
        .args(args)
        .output()
        .expect("docker runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Asserts that nothing of the run is left in the daemon.
pub fn assert_run_gone(run_id: &str) {
    assert_eq!(
        containers_of(run_id),
        Vec::<String>::new(),
        "containers of {run_id} remain"
    );
    assert_eq!(
        networks_of(run_id),
        Vec::<String>::new(),
        "networks of {run_id} remain"
    );
    assert_eq!(
        images_of(run_id),
        Vec::<String>::new(),
        "images of {run_id} remain"
    );
}

/// The `karigar-backend` binary beside this test binary (`target/<profile>/`), built
/// there first when the test run did not build it.
pub fn reference_backend_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let binary = dir.join("karigar-backend");
    if !binary.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        // The workspace's binaries, as .ci/test builds them: with the same packages
        // selected as the test build, the dependency tree is not built again.
        build.args(["build", "--workspace", "--bins"]);
        if dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build --workspace --bins failed");
    }
    assert!(
        binary.is_file(),
        "{} is missing after the build",
        binary.display()
    );
    binary
}
