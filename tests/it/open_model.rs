//! The open model against a server that stalls for 1 s every 10 s: its latency, counted
//! from each iteration's intended start, shows the stall; a closed model's service
//! time hides it (coordinated omission), which is why the open model exists.

use crate::common::harness::{assert_exit, Run};
use crate::common::stall::StallingServer;

/// A one-step GET scenario run against a fresh stalling server for 8 s; its summary.
fn run_against_stalls(load: &[&str]) -> serde_json::Value {
    let run = Run::new();
    let path = run.dir.path().join("stall.toml");
    std::fs::write(
        &path,
        "name = \"stall\"\n[[steps]]\nname = \"get\"\npath = \"/\"\n",
    )
    .unwrap();
    let target = StallingServer::start().url();
    let mut args = vec![path.to_str().unwrap(), "--target", &target, "--duration", "8s"];
    args.extend(load);
    assert_exit(&run.run(&args), 0);
    run.summary()
}

#[test]
fn the_open_model_sees_a_stall_that_the_closed_models_service_time_hides() {
    let closed = run_against_stalls(&["--users", "2"]);
    let service = &closed["steps"][0]["service_us"];
    assert!(
        service["max"].as_u64().unwrap() > 500_000,
        "the stall happened: {service}"
    );
    assert!(
        service["p99"].as_u64().unwrap() < 200_000,
        "closed p99 hides it: {service}"
    );
    let warned = closed["warnings"].to_string();
    assert!(
        warned.contains("coordinated omission") && warned.contains("--rate"),
        "the closed run says what it hides: {warned}"
    );
    crate::reports::assert_matches_schema(&closed);

    let open = run_against_stalls(&["--rate", "200/s", "--max-workers", "20"]);
    let latency = &open["steps"][0]["latency_us"];
    assert!(
        latency["p99"].as_u64().unwrap() > 500_000,
        "open p99 shows the stall: {latency}"
    );
    assert!(open.get("warnings").is_none(), "{}", open["warnings"]);
    assert_eq!(open["load"]["model"], "open", "{}", open["load"]);
    assert_eq!(open["load"]["rate"], "200/s", "{}", open["load"]);
    assert_eq!(closed["load"]["model"], "closed", "{}", closed["load"]);
    let model = &open["open_model"];
    assert_eq!(model["workers"], 20, "{model}");
    assert!(
        model["late_starts"].as_u64().unwrap() > 50,
        "arrivals waited for a worker: {model}"
    );
    assert!(model["max_lateness_ms"].as_f64().unwrap() > 500.0, "{model}");
    let scheduled = model["scheduled"].as_u64().unwrap();
    assert!((1500..=1620).contains(&scheduled), "200/s for 8 s: {model}");
    assert_eq!(
        model["unserved"], 0,
        "the workers caught up after the stall: {model}"
    );
    assert!(model["generator_cpu_cores"].as_f64().unwrap() > 0.0, "{model}");
    assert_eq!(
        model["generator_bound"], false,
        "the server stalled, not the harness: {model}"
    );
    crate::reports::assert_matches_schema(&open);
}

/// A `test_plan` reaches Goose whole: its stages run and the run ends with the plan
/// (Goose without it would start one user per core and run until stopped).
#[test]
fn a_test_plan_runs_its_stages_and_ends_with_them() {
    let run = Run::new();
    let scenario =
        "name = \"plan\"\n[load]\ntest_plan = \"3,1s;3,2s;0,0s\"\n[[steps]]\nname = \"get\"\npath = \"/\"\n";
    let path = run.scenario_file("plan", scenario);
    let target = StallingServer::start().url();
    assert_exit(&run.run(&[&path, "--target", &target]), 0);
    let summary = run.summary();
    let load = &summary["load"];
    assert_eq!(load["test_plan"], "3,1s;3,2s;0,0s", "{load}");
    assert_eq!(load["users"], 3, "{load}");
    assert!(
        summary["totals"]["count"].as_u64().unwrap() > 0,
        "{}",
        summary["totals"]
    );
    let ran = summary["duration_s"].as_f64().unwrap();
    assert!(
        (2.5..30.0).contains(&ran),
        "the plan's 3 s, then the end: {ran} s"
    );
}
