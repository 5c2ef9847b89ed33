//! CI gates against a history of runs: a fixture server of set latency (its own
//! process), a history of five runs, same-latency runs that must pass, a run 10 %
//! slower that must fail; and `gate calibrate`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::common::harness::{assert_exit, stdout, Run, BIN};

/// `latency_server MS` (tests/fixtures), killed when dropped.
struct LatencyServer {
    child: Child,
    url: String,
}

impl LatencyServer {
    fn start(ms: u32) -> Self {
        // Examples sit beside the test binary's folder: target/debug/examples.
        let exe = std::env::current_exe().unwrap();
        let examples = exe.parent().unwrap().parent().unwrap().join("examples");
        let mut child = Command::new(examples.join("latency_server"))
            .arg(ms.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cargo test builds the latency_server example");
        let mut port = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        Self {
            child,
            url: format!("http://127.0.0.1:{}", port.trim()),
        }
    }
}

impl Drop for LatencyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scenario(dir: &Path) -> PathBuf {
    let path = dir.join("get.toml");
    std::fs::write(&path, "name = \"get\"\n[[steps]]\nname = \"get\"\npath = \"/\"\n").unwrap();
    path
}

/// One closed-model run of 10 users for 5 s against `url` into `dir`.
fn run_into(scenario: &Path, url: &str, dir: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("scenario")
        .arg(scenario)
        .args([
            "--target",
            url,
            "--users",
            "10",
            "--duration",
            "5s",
            "--quiet",
            "--report-dir",
        ])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

fn history_rows(dir: &Path) -> Vec<Value> {
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    summary["comparison"]["history"]["rows"]
        .as_array()
        .expect("compared with a history")
        .clone()
}

#[test]
fn a_history_lets_same_latency_runs_pass_and_catches_ten_percent() {
    let run = Run::alone();
    let scenario = scenario(run.dir.path());
    let history = run.dir.path().join("history");
    let server = LatencyServer::start(10);
    for k in 0..5 {
        assert_exit(
            &run_into(&scenario, &server.url, &history.join(format!("run-{k}")), &[]),
            0,
        );
    }
    let baseline = history.to_str().unwrap();
    for k in 0..10 {
        let dir = run.dir.path().join(format!("same-{k}"));
        let output = run_into(&scenario, &server.url, &dir, &["--baseline", baseline]);
        let rows = history_rows(&dir);
        // The gated figures; a shown one (p99) may move without failing the gate.
        let flagged: Vec<&Value> = rows
            .iter()
            .filter(|r| r["gated"] == true && r["verdict"] != "unchanged")
            .collect();
        assert!(flagged.is_empty(), "same-latency run {k} flagged: {flagged:?}");
        assert_exit(&output, 0);
    }
    drop(server);
    let slower = LatencyServer::start(11);
    let dir = run.dir.path().join("slower");
    let output = run_into(&scenario, &slower.url, &dir, &["--baseline", baseline]);
    assert_exit(&output, 4);
    let rows = history_rows(&dir);
    let p50 = rows.iter().find(|r| r["metric"] == "p50").unwrap();
    assert_eq!(p50["verdict"], "regression", "{p50}");
    let detectable = p50["detectable_change"].as_f64().unwrap();
    eprintln!(
        "p50 over 5 runs: mean {} ms, sd {} ms, detects above {:.1}%",
        p50["mean"],
        p50["sd"],
        detectable * 100.0
    );
    assert!(detectable < 0.10, "the history can see 10%: {p50}");
    assert!(
        stdout(&output).contains("detects"),
        "the console states what the history can detect"
    );
    crate::reports::assert_matches_schema(
        &serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap(),
    );
}

#[test]
fn calibration_writes_a_baseline_and_states_the_noise() {
    let run = Run::new();
    let scenario = scenario(run.dir.path());
    let server = LatencyServer::start(10);
    let out = run.dir.path().join("baseline");
    let output = Command::new(BIN)
        .args(["gate", "calibrate"])
        .arg(&scenario)
        .args(["--runs", "3", "--out"])
        .arg(&out)
        .args(["--", "--target", &server.url, "--users", "5", "--duration", "2s"])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let said = stdout(&output);
    assert!(
        said.contains("Noise over 3 runs") && said.contains("| get | p50 |"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        3,
        "three runs in the folder"
    );
    let gated = run_into(
        &scenario,
        &server.url,
        &run.dir.path().join("gated"),
        &["--baseline", out.to_str().unwrap()],
    );
    assert_exit(&gated, 0);
    let compare = Command::new(BIN)
        .args(["compare", "--history"])
        .arg(&out)
        .output()
        .unwrap();
    assert_exit(&compare, 0);
    assert!(
        stdout(&compare).contains("Change points over 3 runs"),
        "{}",
        stdout(&compare)
    );
}
