//! The Docker stack as a user runs it: the full stack in containers, replicas behind
//! nginx with a fault injected, a team's own image built from a Dockerfile, and no
//! container or network left behind, even after Ctrl-C or a killed harness.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::docker::{self, assert_run_gone, containers_of};
use crate::common::harness::{assert_exit, roomy_scenario, signal_and_wait, stdout, Run, BIN};

fn run_id(run: &Run) -> String {
    run.summary()["run_id"].as_str().unwrap().to_owned()
}

#[test]
fn a_signup_run_in_containers_passes_and_leaves_nothing_behind() {
    if !docker::ready() {
        return;
    }
    let run = Run::new();
    let scenario = roomy_scenario(&run, "signup");
    let output = run.run(&[&scenario, "--stack", "docker", "--duration", "4s", "--users", "2"]);
    assert_exit(&output, 0);
    let summary = run.summary();
    crate::reports::assert_matches_schema(&summary);
    assert_eq!(summary["target"]["stack"], "docker");
    for step in summary["steps"].as_array().unwrap() {
        assert!(step["count"].as_u64().unwrap() > 0, "{step}");
        assert_eq!(step["errors"], 0, "{step}");
    }
    let infra = &summary["infrastructure"];
    // 2 CPUs and 2 GiB: the production profile, the default.
    assert_eq!(infra["cpu_limit_cores"], 2.0, "{infra}");
    assert!(
        infra["backend_cpu_max_percent"].as_f64().unwrap() > 0.0,
        "{infra}"
    );
    assert_eq!(infra["instances"][0]["name"], "backend-1", "{infra}");
    assert!(
        infra["instances"][0]["db_connections_max"].as_u64().unwrap() >= 1,
        "{infra}"
    );
    let logs = run.report_dir().join("logs");
    for part in ["postgres", "redis", "backend-1", "frontend"] {
        assert!(logs.join(format!("{part}.log")).is_file(), "{part}.log saved");
    }
    // Each step's slowest request, found by its id in the container's saved log.
    let server_logs = &summary["server_logs"];
    assert_eq!(server_logs["carries_ids"], true, "{server_logs}");
    for step in summary["steps"].as_array().unwrap() {
        let slowest = step["exemplars"]["slowest"][0]["request_id"].as_str().unwrap();
        let found = server_logs["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["request_id"] == slowest)
            .unwrap_or_else(|| panic!("{slowest} in {server_logs}"));
        assert_eq!(found["lines"][0]["file"], "backend-1.log", "{found}");
    }
    assert_run_gone(&run_id(&run));
}

#[test]
fn browse_loads_every_frontend_page_and_its_assets_in_containers() {
    if !docker::ready() {
        return;
    }
    let run = Run::new();
    // One iteration thinks for 8 s in all.
    let scenario = roomy_scenario(&run, "browse");
    let output = run.run(&[
        &scenario,
        "--stack",
        "docker",
        "--duration",
        "10s",
        "--users",
        "2",
    ]);
    assert_exit(&output, 0);
    let summary = run.summary();
    for step in summary["steps"].as_array().unwrap() {
        assert!(step["count"].as_u64().unwrap() > 0, "{step}");
        assert_eq!(step["outcomes"]["ok"], step["count"], "{step}");
    }
    assert_run_gone(&run_id(&run));
}

#[test]
fn a_killed_replica_behind_nginx_is_reported_with_its_burst_and_recovery() {
    if !docker::ready() {
        return;
    }
    let run = Run::alone();
    let scenario = run.dir.path().join("kill.toml");
    std::fs::write(
        &scenario,
        r#"name = "kill"
replicas = 2
slos = ["error_rate < 50%"]
[load]
users = 4
duration = "12s"
[[faults]]
at = "3s"
action = "kill"
target = "backend-2"
duration = "3s"
[[steps]]
name = "health"
path = "/health"
think_time = "50ms"
"#,
    )
    .unwrap();
    let output = run.run(&[scenario.to_str().unwrap(), "--stack", "docker"]);
    assert_exit(&output, 0);
    let summary = run.summary();
    crate::reports::assert_matches_schema(&summary);
    let fault = &summary["faults"][0];
    assert_eq!(fault["action"], "kill", "{fault}");
    assert_eq!(fault["target"], "backend-2", "{fault}");
    assert!(fault["error"].is_null(), "{fault}");
    let (at, back) = (
        fault["at_s"].as_f64().unwrap(),
        fault["restored_s"].as_f64().unwrap(),
    );
    // Injected at 3 s, never early; a loaded Docker engine may take a few seconds to kill.
    assert!((2.9..8.0).contains(&at) && back > at + 2.5, "{fault}");
    assert!(fault["recovery_s"].as_f64().is_some(), "{fault}");
    // A killed replica refuses connections: the next request nginx sends it fails at
    // once and the instance is left out.
    // Four users send a request every 50 ms or so: the first one nginx tries on the
    // dead replica comes within a second on an idle machine, 5 s allowed.
    let detected = fault["detection"]["detected_after_s"].as_f64().unwrap();
    assert!((0.0..5.0).contains(&detected), "{fault}");
    // Its telemetry says it went away and came back, rather than reading 0 % meanwhile.
    let events: Vec<(String, String)> = summary["infrastructure"]["departures"]
        .as_array()
        .expect("the killed replica's departure")
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["event"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = ["exited", "restarted"].map(|e| ("backend-2".to_owned(), e.to_owned()));
    assert_eq!(events, expected, "{}", summary["infrastructure"]["departures"]);
    let instances = summary["infrastructure"]["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 2);
    for instance in instances {
        assert!(
            instance["requests"].as_u64().unwrap() > 0,
            "both replicas served: {instance}"
        );
    }
    assert!(run.report_dir().join("logs/lb.log").is_file());
    assert!(
        stdout(&output).contains("kill backend-2 at"),
        "{}",
        stdout(&output)
    );
    assert_run_gone(&run_id(&run));
}

#[test]
fn a_teams_own_images_run_one_built_from_a_dockerfile_and_one_given_by_name() {
    if !docker::ready() {
        return;
    }
    let run = Run::new();
    let context = backend_context(&run);
    let scenario = roomy_scenario(&run, "signup");
    let output = run.run(&[
        &scenario,
        "--stack",
        "docker",
        "--backend-build",
        context.to_str().unwrap(),
        "--frontend-image",
        "karigar-perf/frontend:latest",
        "--duration",
        "3s",
        "--users",
        "2",
    ]);
    assert_exit(&output, 0);
    let stack = std::fs::read_to_string(run.report_dir().join("stack.json")).unwrap();
    // The run's own tag, so that runs beside each other each start what they built;
    // gone with the run (assert_run_gone).
    let built = format!("karigar-perf/backend-build:{}", run_id(&run));
    assert!(stack.contains(&built), "{stack}");
    assert!(stack.contains("karigar-perf/frontend:latest"), "{stack}");
    assert_eq!(run.summary()["totals"]["errors"], 0);
    assert_run_gone(&run_id(&run));
}

/// A Docker build context of the reference backend: its Dockerfile and binary.
fn backend_context(run: &Run) -> std::path::PathBuf {
    let context = run.dir.path().join("context");
    std::fs::create_dir(&context).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("reference/backend/Dockerfile"),
        context.join("Dockerfile"),
    )
    .unwrap();
    std::fs::copy(
        docker::reference_backend_binary(),
        context.join("karigar-backend"),
    )
    .unwrap();
    context
}

#[test]
fn sigint_mid_run_removes_every_container_and_writes_a_partial_report() {
    if !docker::ready() {
        return;
    }
    let run = Run::new();
    let mut child = start_long_run(&run, &[]);
    let status = signal_and_wait(&mut child, libc::SIGINT, Duration::from_secs(30));
    assert_eq!(status.code(), Some(130), "{}", run.read_log("err.log"));
    assert_eq!(run.summary()["interrupted"], true);
    assert_run_gone(&run_id(&run));
}

#[test]
fn stack_down_removes_what_a_killed_harness_left() {
    if !docker::ready() {
        return;
    }
    let run = Run::new();
    let context = backend_context(&run);
    let mut child = start_long_run(&run, &["--backend-build", context.to_str().unwrap()]);
    let stack = std::fs::read_to_string(run.report_dir().join("stack.json")).unwrap();
    let run_id = stack_run_id(&stack);
    signal_and_wait(&mut child, libc::SIGKILL, Duration::from_secs(5));
    assert!(
        !containers_of(&run_id).is_empty() && !docker::images_of(&run_id).is_empty(),
        "SIGKILL leaves the containers and the image built"
    );
    let output = Command::new(BIN)
        .args(["stack", "down", "--orphans"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("removed"), "{}", stdout(&output));
    assert_run_gone(&run_id);
}

/// A minute-long signup run on the Docker stack with `extra` flags, returned once its
/// load has begun.
fn start_long_run(run: &Run, extra: &[&str]) -> std::process::Child {
    let mut args = vec!["signup", "--stack", "docker", "--duration", "60s", "--users", "2"];
    args.extend_from_slice(extra);
    let child = run
        .command(&args)
        .stdout(run.log_file("out.log"))
        .stderr(run.log_file("err.log"))
        .spawn()
        .unwrap();
    wait_for_load(run);
    child
}

/// Waits until the run's stack is up (stack.json written) and the load has begun.
fn wait_for_load(run: &Run) {
    let started = Instant::now();
    while !run.report_dir().join("stack.json").is_file() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the stack did not come up: {}",
            run.read_log("err.log")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
}

/// The run id, from the container names in `stack.json` (karigar-RUN-ROLE).
fn stack_run_id(stack: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(stack).unwrap();
    let name = json["containers"][0]["name"].as_str().unwrap();
    name.trim_start_matches("karigar-")
        .trim_end_matches("-postgres")
        .to_owned()
}
