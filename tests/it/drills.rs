//! Resilience drills as a user runs them: deploys of three replicas behind the balancer
//! under load (graceful ones drop nothing, a kill-based restart of the same replicas
//! does, each test with the machine alone), and the restore and Redis drills against what the database and Redis really
//! kept.

use serde_json::Value;

use crate::common::docker;
use crate::common::harness::{alive, assert_exit, signal_and_wait, stdout, Run};

/// 20 users signing up on 3 replicas, with `faults` at the end; the client waits as
/// long as the balancer does, so that only a deploy can fail a request.
fn deploy_scenario(run: &Run, name: &str, duration: &str, faults: &str) -> String {
    let path = run.dir.path().join(format!("{name}.toml"));
    let text = format!(
        r#"name = "{name}"
replicas = 3
slos = ["error_rate < 50%"]
[load]
users = 20
duration = "{duration}"
timeout = "30s"
[vars]
email = "{{{{unique_email}}}}"
[[steps]]
name = "register"
method = "POST"
path = "/api/v1/auth/register"
json = {{ email = "{{{{email}}}}", password = "Kp1secret-pass", name = "Drill", role = "customer" }}
expect = [201]
capture = {{ access_token = "/access_token", refresh_token = "/refresh_token" }}
[[steps]]
name = "me"
path = "/api/v1/auth/me"
headers = {{ Authorization = "Bearer {{{{access_token}}}}" }}
expect = [200]
repeat = 3
think_time = "100ms"
[[steps]]
name = "refresh"
method = "POST"
path = "/api/v1/auth/refresh"
json = {{ refresh_token = "{{{{refresh_token}}}}" }}
expect = [200]
{faults}"#
    );
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn deploy(fault: &Value) -> &Value {
    assert!(fault["error"].is_null(), "{fault}");
    &fault["deploy"]
}

#[test]
fn graceful_deploys_drop_no_request() {
    if !docker::ready() {
        return;
    }
    // Alone: on a busy machine starting three containers takes long enough to push the
    // later deploys past the end of the load.
    let run = Run::alone();
    let faults = r#"
[[faults]]
at = "3s"
action = "rolling-restart"
target = "backend"
[[faults]]
at = "16s"
action = "blue-green"
target = "backend"
[[faults]]
at = "27s"
action = "rollback"
target = "backend"
"#;
    let scenario = deploy_scenario(&run, "graceful", "38s", faults);
    let output = run.run(&[&scenario, "--stack", "docker"]);
    assert_exit(&output, 0);
    let summary = run.summary();
    crate::reports::assert_matches_schema(&summary);
    let reports = summary["faults"].as_array().unwrap();
    assert_eq!(reports.len(), 3, "{reports:?}");
    for (report, action) in reports.iter().zip(["rolling-restart", "blue-green", "rollback"]) {
        assert_eq!(report["action"], action);
        let figures = deploy(report);
        assert_eq!(figures["failed"], 0, "{action} dropped requests: {figures}");
        assert!(figures["requests"].as_u64().unwrap() > 20, "{figures}");
        assert!(figures["p95_during_ms"].as_f64().is_some(), "{figures}");
        assert!(figures["longest_gap_ms"].as_f64().unwrap() < 5_000.0, "{figures}");
    }
    let rolling = deploy(&reports[0]);
    let marks: Vec<&str> = rolling["marks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["what"].as_str().unwrap())
        .collect();
    for replica in ["backend-1", "backend-2", "backend-3"] {
        for step in ["successor healthy", "drained", "stopped (SIGTERM)"] {
            let mark = format!("{replica} {step}");
            assert!(marks.contains(&mark.as_str()), "{mark} in {marks:?}");
        }
    }
    assert_eq!(summary["totals"]["errors"], 0, "{}", summary["totals"]);
    // Successors serve under the name of the replica they replaced: every request the
    // balancer passed on is counted for one of the three.
    let served: u64 = summary["infrastructure"]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["requests"].as_u64().unwrap())
        .sum();
    let total = summary["totals"]["count"].as_u64().unwrap();
    assert!(
        served * 100 >= total * 95,
        "{served} of {total} requests counted per instance"
    );
    assert!(stdout(&output).contains("rolling-restart backend at"));
    let html = std::fs::read_to_string(run.report_dir().join("report.html")).unwrap();
    assert!(html.contains("class=\"mark\"") && html.contains("backend-2 drained"));
}

#[test]
fn a_kill_based_restart_of_the_same_replicas_drops_requests() {
    if !docker::ready() {
        return;
    }
    // Alone too, and long enough that the rolling restart (three successors started and
    // found healthy) ends inside the load on a loaded machine: under `stress --cpu 1` it
    // did not within 11 s.
    let killing = Run::alone();
    let faults = r#"
[[faults]]
at = "3s"
action = "rolling-restart"
target = "backend"
graceful = false
"#;
    let scenario = deploy_scenario(&killing, "killing", "40s", faults);
    let output = killing.run(&[&scenario, "--stack", "docker"]);
    // The dropped requests fail the deploy, and with it the run.
    assert_exit(&output, 3);
    let summary = killing.summary();
    let figures = deploy(&summary["faults"][0]);
    assert!(
        figures["failed"].as_u64().unwrap() > 0,
        "SIGKILL under load drops the replicas' requests in flight: {figures}"
    );
    assert!(stdout(&output).contains("verdict: FAIL"));
}

fn drill(run: &Run, kind: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec![kind, "signup", "--users", "6"];
    all.extend_from_slice(args);
    run.subcommand("drill", &all).output().expect("karigar-perf runs")
}

#[test]
fn a_restore_loses_nothing_with_wal_archiving_and_only_a_suffix_of_the_commits_after_the_backup_without() {
    let run = Run::new();
    let output = drill(
        &run,
        "restore",
        &["--backup-at", "4s", "--destroy-after", "4s", "--after", "2s"],
    );
    assert_exit(&output, 0);
    let report = run.report("drill.json");
    assert_eq!(report["kind"], "restore");
    let restores = report["restores"].as_array().unwrap();
    assert_eq!(restores.len(), 2, "{report}");
    for restore in restores {
        let policy = restore["policy"].as_str().unwrap();
        let phases: Vec<&str> = restore["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(phases.len(), 6, "{policy}: {phases:?}");
        assert_eq!(phases[0], "stop backend");
        assert_eq!(phases[5], "verify through the API");
        // Users write again once the backend is back: the RTO covers every phase up to
        // its restart (the API check runs beside the load).
        let rto = restore["rto_s"].as_f64().unwrap();
        let restarted =
            restore["phases"][4]["end_s"].as_f64().unwrap() - restore["destroyed_s"].as_f64().unwrap();
        assert!(
            rto >= restarted - 0.05,
            "{policy}: RTO {rto} s, backend back after {restarted} s"
        );
        assert!(restore["integrity_ok"].as_bool().unwrap());
        let rpo = &restore["rpo"];
        let count = |field: &str| rpo[field].as_u64().unwrap();
        assert!(
            count("acknowledged_before_backup") > 0 && count("acknowledged_after_backup") > 0,
            "{rpo}"
        );
        // Placed by commit LSN against the backup's, so exact: whatever committed up to
        // the backup's end is in any restore of it, and what is lost is a suffix of the
        // commit order.
        assert_eq!(count("lost_before_backup"), 0, "{policy}: {rpo}");
        assert_eq!(count("lost_during_backup"), 0, "{policy}: {rpo}");
        assert_eq!(count("lost_out_of_order"), 0, "{policy}: {rpo}");
        assert_eq!(count("in_doubt"), 0, "{policy}: every commit placed: {rpo}");
        assert_eq!(count("lost_after_restore"), 0, "{policy}: {rpo}");
        assert_eq!(count("lost"), count("lost_after_backup"), "{rpo}");
        assert_eq!(
            count("acknowledged_after_backup"),
            count("lost_after_backup") + count("kept_after_backup"),
            "{rpo}"
        );
        // The database itself: its rows right after the restore are the acknowledged
        // writes it kept, plus at most one write per user that committed unanswered.
        let kept = count("acknowledged") - count("lost");
        let rows = count("rows_after_restore");
        assert!(
            (kept..=kept + 6).contains(&rows),
            "{policy}: {rows} rows, {kept} kept: {rpo}"
        );
        match policy {
            "wal" => assert_eq!(count("lost"), 0, "WAL archiving lost writes: {rpo}"),
            // Seconds of writes after the backup: its streamed WAL runs past its end by
            // milliseconds at most, so most are lost.
            _ => assert!(
                count("lost_after_backup") * 2 > count("acknowledged_after_backup"),
                "the base backup alone loses the writes committed after it: {rpo}"
            ),
        }
    }
    assert!(report["projection"]["rto_s"].as_f64().unwrap() > 0.0);
    let markdown = std::fs::read_to_string(run.report_dir().join("drill.md")).unwrap();
    assert!(
        markdown.contains("| wal: RTO |") && markdown.contains("100 GB"),
        "{markdown}"
    );
    let html = std::fs::read_to_string(run.report_dir().join("drill.html")).unwrap();
    assert!(html.contains("class=\"mark\"") && html.contains("Postgres destroyed (T2)"));
}

#[test]
fn a_redis_kill_loses_at_most_the_last_two_seconds_with_everysec_and_nothing_with_always() {
    let run = Run::new();
    let output = drill(&run, "redis-kill", &["--kill-at", "5s"]);
    assert_exit(&output, 0);
    let report = run.report("drill.json");
    let kills = report["redis"].as_array().unwrap();
    assert_eq!(kills.len(), 2, "{report}");
    for kill in kills {
        let count = |field: &str| kill[field].as_u64().unwrap();
        assert_eq!(count("held"), 6, "one token per user: {kill}");
        // A token is accepted, lost, or was in doubt (its user's refresh was in flight).
        let settled = count("accepted") + count("lost");
        assert!(
            settled <= count("held") && count("held") - settled <= count("in_doubt"),
            "{kill}"
        );
        match kill["appendfsync"].as_str().unwrap() {
            "always" => assert_eq!(count("lost"), 0, "{kill}"),
            _ => {
                assert!(count("lost") <= count("acknowledged_last_2s"), "{kill}");
                assert!(kill["lost_oldest_s"].as_f64().is_none_or(|s| s <= 2.0), "{kill}");
            }
        }
    }
    assert!(stdout(&output).contains("appendfsync always: lost refresh tokens"));
}

/// Pids the servers of a drill logged as theirs (Postgres's `[PID]`, the backend's).
fn postgres_pids(log: &str) -> Vec<u32> {
    log.lines()
        .filter(|l| l.contains("starting PostgreSQL"))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next()?.parse().ok())
        .collect()
}

#[test]
fn ctrl_c_mid_drill_stops_it_writes_a_partial_report_and_leaves_no_server_running() {
    let run = Run::new();
    let mut child = run
        .subcommand(
            "drill",
            &["restore", "signup", "--users", "2", "--backup-at", "60s"],
        )
        .stdout(run.log_file("stdout.log"))
        .stderr(run.log_file("stderr.log"))
        .spawn()
        .unwrap();
    let begun = std::time::Instant::now();
    while !run
        .read_log("stderr.log")
        .contains("every acknowledged write logged")
    {
        assert!(
            begun.elapsed() < std::time::Duration::from_secs(90),
            "{}",
            run.read_log("stderr.log")
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    let status = signal_and_wait(&mut child, libc::SIGINT, std::time::Duration::from_secs(60));
    assert_eq!(status.code(), Some(130), "{}", run.read_log("stderr.log"));
    let report = run.report("drill.json");
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["pass"], false);
    assert!(
        !report["timelines"][0]["seconds"].as_array().unwrap().is_empty(),
        "what the load measured is kept"
    );
    let log = std::fs::read_to_string(run.report_dir().join("logs/postgres.log")).unwrap();
    let pids = postgres_pids(&log);
    assert!(!pids.is_empty(), "{log}");
    for pid in pids {
        assert!(!alive(pid), "postgres {pid} was stopped");
    }
}
