//! CI gates against a history of runs: a fixture server of set latency (its own
//! process), a history of four runs, a same-latency run that must pass and a run
//! four times as slow that must fail; and `gate calibrate`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::common::harness::{assert_exit, stdout, Run, BIN};

/// `latency_server MS` (benches/gate), killed when dropped.
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
            .expect("cargo test --workspace builds the latency_server example");
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

/// One closed-model run of 10 users for 3 s against `url` into `dir`.
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
            "3s",
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

/// A gate that only a change far beyond any machine's noise trips: p50 alone, and at
/// least 40 % worse. Its arithmetic is tested on constructed histories
/// (`compare::history`); the smallest change a real history detects is a measurement,
/// made by `gate calibrate` and stated in the README.
const COARSE_GATE: [&str; 4] = ["--min-effect", "0.4", "--gate-metrics", "p50"];

#[test]
fn a_history_passes_a_same_latency_run_and_fails_one_four_times_as_slow() {
    let run = Run::new();
    let scenario = scenario(run.dir.path());
    let history = run.dir.path().join("history");
    // The fixture holds every request 50 ms, then 200 ms: a p50 four times as long,
    // far past what a loaded machine adds to either. Four runs of history put the
    // gate's boundary within reach of that change for any noise under some 10 ms.
    let server = LatencyServer::start(50);
    for k in 0..4 {
        let dir = history.join(format!("run-{k}"));
        assert_exit(&run_into(&scenario, &server.url, &dir, &[]), 0);
    }
    let baseline = history.to_str().unwrap();
    let gated = |url: &str, name: &str| {
        let dir = run.dir.path().join(name);
        let mut extra = vec!["--baseline", baseline, "--add-to-history", baseline];
        extra.extend(COARSE_GATE);
        (run_into(&scenario, url, &dir, &extra), dir)
    };
    let (same, dir) = gated(&server.url, "same");
    assert_exit(&same, 0);
    let p50 = |dir: &Path| {
        let rows = history_rows(dir);
        rows.iter().find(|r| r["metric"] == "p50").unwrap().clone()
    };
    assert_eq!(p50(&dir)["verdict"], "unchanged", "{}", p50(&dir));
    // The run that held joined the history; the one that regresses will not.
    assert!(stdout(&same).contains("history: added to"), "{}", stdout(&same));
    assert_eq!(std::fs::read_dir(&history).unwrap().count(), 5);
    drop(server);
    let slower = LatencyServer::start(200);
    let (output, dir) = gated(&slower.url, "slower");
    assert_exit(&output, 4);
    assert!(
        stdout(&output).contains("history: not added to") && stdout(&output).contains("regressed"),
        "{}",
        stdout(&output)
    );
    assert_eq!(std::fs::read_dir(&history).unwrap().count(), 5);
    let row = p50(&dir);
    assert_eq!(row["verdict"], "regression", "{row}");
    assert_eq!(row["runs"], 5, "{row}");
    assert!(row["change"].as_f64().unwrap() > 0.4, "{row}");
    assert!(
        stdout(&output).contains("detects"),
        "the console states what the history can detect: {}",
        stdout(&output)
    );
    crate::reports::assert_matches_schema(
        &serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap(),
    );
}

#[test]
fn calibration_writes_a_baseline_and_states_the_noise() {
    let run = Run::new();
    let scenario = scenario(run.dir.path());
    let server = LatencyServer::start(50);
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
    // Gated as the history test is: a verdict of the default gate on a loaded machine
    // is what `gate calibrate` measures, not what this test may assume.
    let mut extra = vec!["--baseline", out.to_str().unwrap()];
    extra.extend(COARSE_GATE);
    let gated = run_into(&scenario, &server.url, &run.dir.path().join("gated"), &extra);
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

/// Ten runs (seven at 50 ms, then three at 200 ms) drawn by `history report`: in
/// headless Chromium each figure's chart has ten dots, the first slow run is marked
/// flagged, and trends.md names the change points as `compare --history` does.
#[test]
fn history_report_draws_ten_runs_marks_the_flagged_one_and_names_the_change_points() {
    let run = Run::new();
    let scenario = scenario(run.dir.path());
    let history = run.dir.path().join("history");
    for (latency, runs) in [(50, 0..7), (200, 7..10)] {
        let server = LatencyServer::start(latency);
        for k in runs {
            let dir = history.join(format!("run-{k:02}"));
            assert_exit(&run_into(&scenario, &server.url, &dir, &[]), 0);
        }
    }
    let out = run.dir.path().join("trends.html");
    let mut args = vec![
        "history",
        "report",
        history.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(COARSE_GATE);
    let report = Command::new(BIN).args(&args).output().unwrap();
    assert_exit(&report, 0);
    let markdown = std::fs::read_to_string(run.dir.path().join("trends.md")).unwrap();
    assert_eq!(stdout(&report), markdown, "trends.md is what it prints");
    let runs = history_ids(&history);
    assert!(
        markdown.contains(&format!("| 8 | `{}` |", runs[7])) && markdown.contains("❌ regressed: get p50"),
        "{markdown}"
    );

    let mut compare = vec!["compare", "--history", history.to_str().unwrap()];
    compare.extend(COARSE_GATE);
    let compared = Command::new(BIN).args(&compare).output().unwrap();
    assert_exit(&compared, 0);
    let points = stdout(&compared);
    assert!(
        points.contains(&format!("`{}`", runs[7])),
        "a change at run 8: {points}"
    );
    assert!(markdown.ends_with(&points), "the same change points: {markdown}");

    let html = std::fs::read_to_string(&out).unwrap();
    for loads_something in ["<script", "<link", "src=", "href=", "url(", "@import"] {
        assert!(
            !html.contains(loads_something),
            "self-contained: {loads_something}"
        );
    }
    let mut browser = crate::common::cdp::Browser::launch(&run.dir.path().join("chromium"));
    browser.open(&format!("file://{}", out.display()));
    let drawn = browser.eval(
        "JSON.stringify([...document.querySelectorAll('svg.chart')].map(svg => \
         [svg.querySelectorAll('circle').length, svg.getBoundingClientRect().width, \
          [...svg.querySelectorAll('title')].map(t => t.textContent)]))",
    );
    let charts: Vec<(u64, f64, Vec<String>)> = serde_json::from_str(drawn.as_str().unwrap()).unwrap();
    assert_eq!(
        charts.len(),
        5,
        "p50, p95, p99, throughput, error rate: {charts:?}"
    );
    let width = browser
        .eval("document.documentElement.clientWidth")
        .as_f64()
        .unwrap();
    for (dots, chart_width, marks) in &charts {
        assert_eq!(*dots, 10, "one dot per run: {charts:?}");
        assert_eq!(marks, &vec![format!("flagged: {}", runs[7])], "{charts:?}");
        assert!(
            *chart_width >= 0.45 * width,
            "{chart_width} px of a {width} px page"
        );
    }
}

/// The run ids of a history's runs, oldest first.
fn history_ids(history: &Path) -> Vec<String> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(history)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|dir| {
            let summary: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
            summary["run_id"].as_str().unwrap().to_owned()
        })
        .collect()
}
