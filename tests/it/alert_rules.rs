//! `slo rules` as shipped: every scenario's rules pass Debian's `promtool check rules`,
//! their tests pass `promtool test rules`, and the tests bite (a threshold moved 20 %
//! makes them fail); a run's summary names the run in every rule.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::harness::{assert_exit, roomy_scenario, stdout, Run, BIN};

fn promtool(args: &[&str], dir: &Path) -> Output {
    Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool runs (Debian: apt-get install prometheus)")
}

fn assert_ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `karigar-perf slo ARGS...`, run from the project's folder (its `scenarios/`).
fn slo(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("slo")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("karigar-perf runs")
}

/// Writes `scenario`'s rules into `dir`; their file names.
fn write_rules(scenario: &str, dir: &Path, extra: &[&str]) -> (String, String) {
    let out = dir.join(format!("rules-{scenario}.yml"));
    let args = [&["rules", scenario, "--out", out.to_str().unwrap()][..], extra].concat();
    let output = slo(&args);
    assert_exit(&output, 0);
    (
        format!("rules-{scenario}.yml"),
        format!("rules-{scenario}.test.yml"),
    )
}

#[test]
fn every_shipped_scenarios_rules_pass_promtool_and_their_tests_bite() {
    let dir = tempfile::tempdir().unwrap();
    let mut scenarios: Vec<String> = std::fs::read_dir("scenarios")
        .unwrap()
        .filter_map(|entry| entry.unwrap().file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".toml").map(str::to_owned))
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 8, "{scenarios:?}");
    for scenario in &scenarios {
        let (rules, tests) = write_rules(scenario, dir.path(), &[]);
        assert_ok(&promtool(&["check", "rules", &rules], dir.path()), scenario);
        assert_ok(&promtool(&["test", "rules", &tests], dir.path()), scenario);
        let text = std::fs::read_to_string(dir.path().join(&rules)).unwrap();
        for seed in [
            "KarigarP95Latency",
            "KarigarDbConnectionsPerBackend",
            "KarigarBackendCpu",
            "KarigarBackendMemory",
            "KarigarRedisMemory",
            "KarigarPostgresDown",
        ] {
            assert!(text.contains(&format!("alert: {seed}\n")), "{scenario}: {seed}");
        }
    }

    // A backend outside Kubernetes: its CPU and memory from process-exporter, over
    // the limits given.
    let process = dir.path().join("process");
    std::fs::create_dir(&process).unwrap();
    let (rules, tests) = write_rules(
        "signup",
        &process,
        &[
            "--resources",
            "process-exporter",
            "--cpu-limit",
            "1.5",
            "--memory-limit",
            "512MiB",
        ],
    );
    assert_ok(
        &promtool(&["check", "rules", &rules], &process),
        "process-exporter",
    );
    assert_ok(
        &promtool(&["test", "rules", &tests], &process),
        "process-exporter",
    );
    let text = std::fs::read_to_string(process.join(&rules)).unwrap();
    assert!(
        text.contains("namedprocess_namegroup_cpu_seconds_total{groupname=\"backend\"}[1m])) / 1.5)")
            && text.contains("memtype=\"resident\"}) / 536870912)"),
        "{text}"
    );

    // The seed's 25 connections per backend moved to 30: the case at 27.5 no longer
    // fires, and promtool says so.
    let (rules, tests) = write_rules("signup", dir.path(), &[]);
    let path = dir.path().join(&rules);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(" > 25\n"), "{text}");
    std::fs::write(&path, text.replace(" > 25\n", " > 30\n")).unwrap();
    let moved = promtool(&["test", "rules", &tests], dir.path());
    assert!(!moved.status.success(), "the tests notice a moved threshold");
    assert!(
        String::from_utf8_lossy(&moved.stdout).contains("KarigarDbConnectionsPerBackend")
            || String::from_utf8_lossy(&moved.stderr).contains("KarigarDbConnectionsPerBackend")
    );
}

#[test]
fn each_rule_names_the_slo_it_came_from_and_the_run_that_verified_it() {
    let run = Run::new();
    let scenario = roomy_scenario(&run, "signup");
    assert_exit(&run.run(&[&scenario, "--duration", "2s", "--users", "2"]), 0);
    let summary = run.summary();
    let run_id = summary["run_id"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rules.yml");
    let verified = run.report_dir().join("summary.json");
    let args = [
        "rules",
        &scenario[..],
        "--out",
        out.to_str().unwrap(),
        "--verified-by",
        verified.to_str().unwrap(),
        "--for",
        "2m",
    ];
    let output = slo(&args);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("promtool test rules"),
        "{}",
        stdout(&output)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let rules: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let rules = rules["groups"][0]["rules"].as_sequence().unwrap();
    let register = rules
        .iter()
        .find(|r| {
            r["labels"]["slo"]
                .as_str()
                .is_some_and(|slo| slo.starts_with("p95(register)"))
        })
        .expect("a rule for register's p95");
    assert_eq!(register["for"].as_str(), Some("2m"));
    let verified_by = register["annotations"]["verified_by"].as_str().unwrap();
    assert!(
        verified_by.starts_with(&format!("run {run_id} observed ")) && verified_by.ends_with("(held)"),
        "{verified_by}"
    );
    let seed = rules
        .iter()
        .find(|r| r["alert"] == "KarigarPostgresDown")
        .unwrap();
    assert!(seed["annotations"]["verified_by"]
        .as_str()
        .unwrap()
        .contains("was not one of its SLOs"));
    assert_ok(&promtool(&["check", "rules", "rules.yml"], dir.path()), "check");
    assert_ok(
        &promtool(&["test", "rules", "rules.test.yml"], dir.path()),
        "test",
    );

    // Another scenario's summary is refused, naming both.
    let wrong = slo(&[
        "rules",
        "login",
        "--out",
        out.to_str().unwrap(),
        "--verified-by",
        verified.to_str().unwrap(),
    ]);
    assert_exit(&wrong, 2);
    let message = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        message.contains("a run of scenario signup, not login"),
        "{message}"
    );
}
