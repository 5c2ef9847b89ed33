//! Reports as a CI system and a person see them: summary.json against its committed
//! schema, junit.xml, the compare gate, and report.html rendered in a real browser.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::harness::{roomy_scenario, stderr, stdout, Run, BIN};

const SCHEMA: &str = include_str!("../../schemas/summary.schema.json");

pub fn assert_matches_schema(summary: &Value) {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema itself is valid");
    let errors: Vec<String> = validator
        .iter_errors(summary)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "summary.json breaks its schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn summaries_match_the_schema_and_feed_the_gate() {
    let base = Run::new();
    let scenario = roomy_scenario(&base, "signup");
    let output = base.run(&[
        &scenario,
        "--duration",
        "4s",
        "--users",
        "2",
        "--slo",
        "p95(me)[2s] < 5s",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let base_summary = base.summary();
    assert_matches_schema(&base_summary);
    let junit = std::fs::read_to_string(base.report_dir().join("junit.xml")).unwrap();
    let slos = base_summary["slos"].as_array().unwrap().len();
    assert_eq!(junit.matches("<testcase ").count(), slos, "{junit}");
    assert!(junit.contains("<testsuite name=\"slo\""));

    let base_file = base.report_dir().join("summary.json");
    let new = Run::new();
    let scenario = roomy_scenario(&new, "signup");
    let output = new.run(&[
        &scenario,
        "--duration",
        "4s",
        "--users",
        "2",
        "--baseline",
        base_file.to_str().unwrap(),
    ]);
    assert!(matches!(output.status.code(), Some(0 | 4)), "{}", stderr(&output));
    let new_summary = new.summary();
    assert_matches_schema(&new_summary);
    assert_eq!(new_summary["comparison"]["baseline_run"], base_summary["run_id"]);
    let junit = std::fs::read_to_string(new.report_dir().join("junit.xml")).unwrap();
    assert!(junit.contains("<testsuite name=\"comparison\""), "{junit}");

    let steady = stretched(&base_file, 1.0, new.dir.path());
    let slower = stretched(&base_file, 1.5, new.dir.path());
    let gate = Command::new(BIN)
        .arg("compare")
        .arg(&steady)
        .arg(&slower)
        .output()
        .unwrap();
    assert_eq!(gate.status.code(), Some(4), "{}", stdout(&gate));
    assert!(stdout(&gate).contains("**regression**"), "{}", stdout(&gate));
    let same = Command::new(BIN)
        .arg("compare")
        .arg(&steady)
        .arg(&steady)
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
}

/// A copy of a real summary with 20 seconds per step (its middle second repeated, with
/// a little jitter: a short run on a shared machine can have seconds far apart, which
/// would make the gate's verdict depend on the machine) and every latency multiplied
/// by `factor`.
fn stretched(path: &Path, factor: f64, dir: &Path) -> std::path::PathBuf {
    let mut summary: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    summary["run_id"] = Value::from(format!("x{factor}"));
    for step in summary["steps"].as_array_mut().unwrap() {
        let series = step["series"].as_array().unwrap().clone();
        let longer: Vec<Value> = (0..20)
            .map(|i| {
                let mut second = series[series.len() / 2].clone();
                second["second"] = Value::from(i);
                let jitter = 1.0 + 0.03 * ((i % 5) as f64 - 2.0) / 2.0;
                for key in ["p50_us", "p95_us", "p99_us", "max_us"] {
                    second[key] = Value::from((second[key].as_f64().unwrap() * factor * jitter) as u64);
                }
                second
            })
            .collect();
        step["series"] = Value::from(longer);
    }
    let out = dir.join(format!("stretched-{factor}.json"));
    std::fs::write(&out, summary.to_string()).unwrap();
    out
}

#[test]
fn the_html_report_renders_charts_in_a_browser() {
    let run = Run::new();
    let scenario = roomy_scenario(&run, "signup");
    let output = run.run(&[&scenario, "--duration", "3s", "--users", "2"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let html_path = run.report_dir().join("report.html");
    let html = std::fs::read_to_string(&html_path).unwrap();
    for loads_something in ["<script", "<link", "src=", "href=", "url(", "@import"] {
        assert!(
            !html.contains(loads_something),
            "report.html must be self-contained: {loads_something}"
        );
    }
    assert!(
        html.matches("<svg").count() >= 8,
        "latency, throughput, telemetry and HPA charts"
    );
    let screenshot = run.dir.path().join("report.png");
    crate::common::browser::screenshot(
        &format!("file://{}", html_path.display()),
        &screenshot,
        &run.dir.path().join("chromium"),
    );
    let (inked, total) = crate::common::browser::inked_pixels(&screenshot);
    assert!(
        inked * 100 > total,
        "the page looks blank: {inked} of {total} pixels drawn"
    );
}
