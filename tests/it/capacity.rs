//! `karigar-perf capacity` against the local stack, with short steps: the search, its
//! reports, a Ctrl-C mid-search and flags it refuses.

use std::time::{Duration, Instant};

use crate::common::harness::{assert_exit, assert_stack_gone, roomy_scenario, signal_and_wait, stderr, Run};

/// Short steps: 1 s of warm-up, 5 s measured.
const SHORT: [&str; 4] = ["--warmup", "1s", "--step-duration", "5s"];

fn capacity(run: &Run, args: &[&str]) -> std::process::Command {
    let mut command = run.subcommand("capacity", &SHORT);
    command.args(args);
    command
}

#[test]
fn capacity_grows_the_rate_and_sizes_a_deployment() {
    let run = Run::new();
    let scenario = roomy_scenario(&run, "signup");
    let args = [
        scenario.as_str(),
        "--start-rate",
        "1",
        "--max-steps",
        "3",
        "--target-rps",
        "20",
    ];
    let output = capacity(&run, &args).output().unwrap();
    assert_exit(&output, 0);
    let report = run.report("capacity.json");
    let offered: Vec<f64> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["offered"].as_f64().unwrap())
        .collect();
    assert_eq!(offered, [1.0, 2.0, 4.0], "grown geometrically from --start-rate");
    for step in report["steps"].as_array().unwrap() {
        assert_eq!(step["sustainable"], true, "{step:#}");
        let achieved = step["achieved"].as_f64().unwrap();
        assert!(achieved >= 0.95 * step["offered"].as_f64().unwrap(), "{step:#}");
        assert!(
            step["backend_cpu_cores"].as_f64().unwrap() > 0.0,
            "CPU measured: {step:#}"
        );
        assert!(step["p95_ms"].as_f64().unwrap() < 5000.0, "{step:#}");
    }
    let findings = &report["findings"];
    assert_eq!(findings["sustainable_rate"], 4.0);
    assert_eq!(report["complete"], false, "stopped by --max-steps");
    let check = &findings["cross_check"];
    assert!(check["estimate"].as_f64().unwrap() > 4.0, "{check:#}");
    // Four requests per signup iteration; 20/s at no more than 4/s per instance.
    assert!((findings["requests_per_iteration"].as_f64().unwrap() - 4.0).abs() < 0.3);
    assert!(findings["sizing"]["replicas_needed"].as_u64().unwrap() >= 5);
    assert_eq!(findings["sizing"]["db"]["hpa_max_pool_connections"], 250);
    let verdict = report["verdict"].as_str().unwrap();
    assert!(
        verdict.starts_with("One backend instance holds 4.0 signup iterations/s"),
        "{verdict}"
    );
    let markdown = std::fs::read_to_string(run.report_dir().join("capacity.md")).unwrap();
    assert!(markdown.contains(verdict));
    let html = std::fs::read_to_string(run.report_dir().join("capacity.html")).unwrap();
    assert!(html.matches("<svg").count() >= 3, "charts drawn");
    assert!(!html.contains("<script") && !html.contains("http://www.w3.org/1999"));
    assert_stack_gone(&run);
}

#[test]
fn sigint_mid_search_keeps_the_steps_measured_and_tears_down() {
    let run = Run::new();
    let log = |name| run.log_file(name);
    let mut child = capacity(&run, &["signup", "--start-rate", "1", "--max-steps", "6"])
        .stdout(log("stdout.log"))
        .stderr(log("stderr.log"))
        .spawn()
        .unwrap();
    let report_file = run.report_dir().join("capacity.json");
    let started = Instant::now();
    while !report_file.exists() {
        assert!(started.elapsed() < Duration::from_secs(120), "no step ended");
        assert!(
            child.try_wait().unwrap().is_none(),
            "{}",
            run.read_log("stderr.log")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    let status = signal_and_wait(&mut child, libc::SIGINT, Duration::from_secs(30));
    assert_eq!(status.code(), Some(130), "{}", run.read_log("stderr.log"));
    let report = run.report("capacity.json");
    assert_eq!(report["interrupted"], true);
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(
        steps[0]["sustainable"], true,
        "the first step was kept: {report:#}"
    );
    assert_eq!(report["findings"]["sustainable_rate"], 1.0, "{report:#}");
    assert_stack_gone(&run);
}

#[test]
fn bad_search_settings_are_refused_before_any_stack_starts() {
    let run = Run::new();
    for (flag, value) in [
        ("--growth", "1"),
        ("--start-rate", "0"),
        ("--step-duration", "2s"),
    ] {
        let output = run
            .subcommand("capacity", &["signup", flag, value])
            .output()
            .unwrap();
        assert_exit(&output, 2);
        assert!(stderr(&output).contains(flag), "{flag}: {}", stderr(&output));
    }
    let output = capacity(&run, &["signup", "--error-budget", "lots"])
        .output()
        .unwrap();
    assert_exit(&output, 2);
    assert!(
        !run.report_dir().join("stack.json").exists(),
        "nothing was started"
    );
}
