//! The harness as a user runs it: exit codes, reports, and a stack that never
//! outlives its run.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::harness::{
    assert_exit, assert_stack_gone, roomy_scenario, signal_and_wait, stderr, stdout, Run, BIN,
};

#[test]
fn a_short_signup_run_passes_and_reports_every_step() {
    let run = Run::new();
    let scenario = roomy_scenario(&run, "signup");
    let output = run.run(&[&scenario, "--duration", "3s", "--users", "2"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    let summary = run.summary();
    assert_eq!(summary["scenario"], "signup");
    assert_eq!(summary["verdict"], "pass");
    let steps = summary["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["register", "me", "refresh", "login"]);
    for step in steps {
        assert!(step["count"].as_u64().unwrap() > 0, "{step}");
        assert_eq!(step["errors"], 0, "{step}");
        assert!(step["latency_us"]["p95"].as_u64().unwrap() > 0, "{step}");
    }
    assert!(!summary["slos"].as_array().unwrap().is_empty());
    let infra = &summary["infrastructure"];
    crate::common::harness::assert_stack_figures(infra);
    assert!(infra["hpa"]["peak_replicas"].as_u64().unwrap() >= 2, "{infra}");
    let triggers: Vec<&str> = infra["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(triggers, ["cpu", "memory", "response_time_p95", "queue_depth"]);
    let samples = summary["telemetry"]["samples"].as_array().unwrap();
    assert!(samples.len() >= 2, "one sample a second");
    assert!(samples.iter().any(|s| s["db"]["total"].as_u64().unwrap_or(0) > 0));
    assert!(run.report_dir().join("summary.md").is_file());
    let saved = std::fs::read_to_string(run.report_dir().join("measurements.json")).unwrap();
    let measured = karigar_perf::metrics::Measurements::from_json(&saved).unwrap();
    assert_eq!(
        measured.all_steps().outcomes.total(),
        summary["totals"]["count"].as_u64().unwrap(),
        "the saved measurements hold every request"
    );
    assert_eq!(
        measured.step("register").unwrap().latency.value_at_quantile(0.95),
        summary["steps"][0]["latency_us"]["p95"].as_u64().unwrap()
    );
    assert!(
        stdout(&output).contains("register"),
        "the console table names the steps"
    );
    assert_stack_gone(&run);
}

#[test]
fn a_breached_slo_exits_3_and_names_it() {
    let run = Run::new();
    // The shipped SLOs made roomy: on a loaded machine register's p95 can pass 500 ms,
    // and only the two given here are to fail.
    let scenario = roomy_scenario(&run, "signup");
    let output = run.run(&[
        &scenario,
        "--duration",
        "2s",
        "--users",
        "2",
        "--slo",
        "p95(register) < 1ms",
        "--slo",
        "db_connections.max < 1",
    ]);
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("FAIL  p95(register) < 1ms"),
        "{}",
        stdout(&output)
    );
    let summary = run.summary();
    assert_eq!(summary["verdict"], "fail");
    let failing: Vec<&str> = summary["slos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["pass"] == false)
        .map(|s| s["expr"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["p95(register) < 1ms", "db_connections.max < 1"]);
    let connections = summary["slos"][summary["slos"].as_array().unwrap().len() - 1]["observed"].as_f64();
    assert!(
        connections.is_some_and(|c| c >= 1.0),
        "measured, not missing: {connections:?}"
    );
    assert_stack_gone(&run);
}

#[test]
fn a_typo_in_a_scenario_key_exits_2_naming_file_and_line() {
    let run = Run::new();
    let file = run.dir.path().join("typo.toml");
    std::fs::write(
        &file,
        "name = \"typo\"\n\n[[steps]]\nname = \"health\"\nmetod = \"GET\"\npath = \"/health\"\n",
    )
    .unwrap();
    let output = run.run(&[file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let expected = format!("{}:5: unknown field `metod`", file.display());
    assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
    assert!(!run.report_dir().exists(), "nothing is started for a bad file");
}

#[test]
fn a_misspelled_slo_step_exits_2_before_anything_starts() {
    let run = Run::new();
    let output = run.run(&["signup", "--slo", "p95(regster) < 500ms"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("\"regster\""), "{}", stderr(&output));
    assert!(!run.report_dir().exists());
}

#[test]
fn an_unreachable_target_exits_5_within_5_seconds() {
    let port = karigar_perf::stack::free_port().unwrap();
    let target = format!("http://127.0.0.1:{port}");
    let run = Run::new();
    let started = Instant::now();
    let output = run.run(&["signup", "--target", &target]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        stderr(&output).contains(&format!("{target}/health is unreachable")),
        "{}",
        stderr(&output)
    );
}

#[test]
fn sigint_mid_run_tears_down_and_writes_a_partial_report() {
    let run = Run::new();
    let mut child = run
        .command(&["signup", "--duration", "60s", "--users", "2"])
        .stdout(run.log_file("stdout.log"))
        .stderr(run.log_file("stderr.log"))
        .spawn()
        .unwrap();
    let stack_file = run.report_dir().join("stack.json");
    let started = Instant::now();
    while !stack_file.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the stack never came up"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    let status = signal_and_wait(&mut child, libc::SIGINT, Duration::from_secs(30));
    assert_eq!(status.code(), Some(130), "{}", run.read_log("stderr.log"));
    let summary = run.summary();
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["verdict"], "interrupted");
    assert!(
        summary["totals"]["count"].as_u64().unwrap() > 0,
        "requests before the signal were kept"
    );
    assert!(summary["duration_s"].as_f64().unwrap() < 30.0);
    assert_stack_gone(&run);
}

#[test]
fn a_missing_redis_server_names_the_package_and_exits_5() {
    let run = Run::new();
    for forbid in [&["--no-install"][..], &[]] {
        let output = run
            .command(&[&["signup"][..], forbid].concat())
            .env("PATH", run.dir.path())
            .env(
                "KARIGAR_PERF_NO_INSTALL",
                if forbid.is_empty() { "1" } else { "0" },
            )
            .env_remove("KARIGAR_PERF_REDIS_SERVER")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("apt-get install redis-server")
                && stderr(&output).contains("installing is forbidden"),
            "the flag and the variable both forbid it, and the error names the command: {}",
            stderr(&output)
        );
    }
}

#[test]
fn a_window_breached_three_times_in_a_row_stops_the_run() {
    let run = Run::new();
    let args = [
        "signup",
        "--duration",
        "60s",
        "--users",
        "2",
        "--slo",
        "p95(register)[2s] < 1ms",
        "--abort-after",
        "3",
    ];
    let output = run.run(&args);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let summary = run.summary();
    // Three 2 s windows and the first one's warm-up: well inside the 60 s asked for,
    // however long the stack took to boot.
    let ran = summary["duration_s"].as_f64().unwrap();
    assert!(ran < 30.0, "stopped early: after {ran} s of load");
    let reason = summary["aborted"].as_str().expect("the reason is recorded");
    assert!(
        reason.contains("p95(register)[2s] < 1ms") && reason.contains("3 consecutive"),
        "{reason}"
    );
    assert_eq!(
        (&summary["verdict"], &summary["interrupted"]),
        (&"fail".into(), &false.into())
    );
    let slo = summary["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["expr"] == "p95(register)[2s] < 1ms")
        .unwrap();
    assert_eq!(slo["pass"], false);
    assert!(slo["window"]["breached"].as_u64().unwrap() >= 3, "{slo}");
    assert!(stdout(&output).contains("ABORTED early"), "{}", stdout(&output));
    assert_stack_gone(&run);
}

/// `stack down` on a machine without Docker (a local stack's machine): there is no
/// container to remove, which is no failure.
#[test]
fn stack_down_without_a_docker_daemon_removes_nothing_and_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("no-docker.sock");
    let output = std::process::Command::new(BIN)
        .args(["stack", "down"])
        .current_dir(dir.path())
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .output()
        .expect("karigar-perf runs");
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("no Docker daemon answers: no container or network to remove"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn abort_after_without_a_windowed_slo_is_a_config_error() {
    let run = Run::new();
    let output = run.run(&["signup", "--abort-after", "3"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("needs an SLO with a window"),
        "{}",
        stderr(&output)
    );
}

/// A scenario with faults on a stack that has no replicas to fault: refused before
/// anything starts, at the fault's line.
#[test]
fn faults_on_a_stack_without_replicas_are_refused_at_their_line() {
    let run = Run::new();
    let output = run.run(&["scenarios/failover.toml", "--stack", "local"]);
    assert_exit(&output, 2);
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/failover.toml")).unwrap();
    let line = text.lines().position(|l| l.trim() == "[[faults]]").unwrap() + 1;
    let said = stderr(&output);
    assert!(
        said.contains(&format!(
            "scenarios/failover.toml:{line}: scenario failover injects faults"
        )) && said.contains("--stack docker"),
        "{said}"
    );
}

#[test]
fn the_marketplace_scenarios_run_clean_on_a_seeded_stack() {
    // Each run lasts long enough for every step its SLOs name, whatever the machine's
    // load: a browse iteration thinks for 8 s; a day's booker reaches `book` after a
    // login (bcrypt), 4 s of thinking and a search, and starts up to a few seconds in
    // (4 s was seen to end before either booker got there: "p95(book) observed no data").
    let runs = [
        ("search", "4", "4s"),
        ("book", "4", "4s"),
        ("day", "12", "10s"),
        ("browse", "2", "10s"),
    ];
    for (scenario, users, duration) in runs {
        let run = Run::new();
        let file = roomy_scenario(&run, scenario);
        let args = [
            file.as_str(),
            "--duration",
            duration,
            "--users",
            users,
            "--seed-providers",
            "500",
            "--seed-customers",
            "50",
        ];
        let output = run.run(&args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{scenario}: {}\n{}",
            stdout(&output),
            stderr(&output)
        );
        let summary = run.summary();
        assert_eq!(summary["dataset"]["size"]["providers"], 500, "{scenario}");
        assert_eq!(
            summary["totals"]["errors"], 0,
            "{scenario}: {}",
            summary["totals"]
        );
        let ran = summary["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["count"].as_u64().unwrap() > 0)
            .count();
        assert!(ran >= 4, "{scenario}: most steps ran: {}", stdout(&output));
    }
}

#[test]
fn the_ratelimit_scenario_boots_its_own_limits_and_the_users_environment_wins() {
    let on = Run::new();
    let output = on
        .command(&["ratelimit", "--duration", "3s"])
        .env_remove("RATE_LIMIT_ENABLED")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    let summary = on.summary();
    let limited = |name: &str| {
        summary["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["outcomes"]["rate_limited"]
            .as_u64()
            .unwrap()
    };
    assert!(limited("auth_over_limit") > 0 && limited("api_over_limit") > 0);
    assert_eq!(limited("auth_within_limit") + limited("api_within_limit"), 0);
    assert_eq!(
        summary["totals"]["errors"], 0,
        "429s are their own class, not errors"
    );
    let off = Run::new();
    let output = off
        .command(&["ratelimit", "--duration", "2s"])
        .env("RATE_LIMIT_ENABLED", "false")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "limits turned off by the user's environment: the scenario must fail"
    );
}

/// Each bad value in a scenario file is refused with its own `file:line`, before
/// anything starts, even where a flag would override it.
#[test]
fn every_bad_value_in_a_scenario_file_exits_2_naming_its_line() {
    let cases: [(&str, &str, &[&str]); 6] = [
        ("[load]\nusers = 0\n", "load.users: users must be at least 1", &[]),
        (
            "[load]\nusers = 99999999999999\n",
            "load.users: 99999999999999 users is more than",
            &["--users", "2"],
        ),
        (
            "[load]\ntest_plan = \"10,ten\"\n",
            "load.test_plan: \"ten\" is not a duration",
            &[],
        ),
        (
            "[load]\nduration = \"forever\"\n",
            "load.duration: \"forever\" is not a duration",
            &["--duration", "2s"],
        ),
        (
            "[load]\nrate = \"fast\"\n",
            "load.rate: \"fast\" is not a rate",
            &["--rate", "5/s"],
        ),
        (
            "[[steps]]\nname = \"me\"\npath = \"/me\"\nheaders = { X-Evil = \"a\\r\\nSet-Cookie: x\" }\n",
            "control character (CR, LF, ...)",
            &[],
        ),
    ];
    for (body, message, flags) in cases {
        let run = Run::new();
        let file = run.dir.path().join("bad.toml");
        let steps = if body.contains("[[steps]]") {
            ""
        } else {
            "[[steps]]\nname = \"me\"\npath = \"/me\"\n"
        };
        std::fs::write(&file, format!("name = \"bad\"\n{steps}{body}")).unwrap();
        let output = run.run(&[&[file.to_str().unwrap()][..], flags].concat());
        let line = if steps.is_empty() { 2 } else { 6 };
        let expected = format!("{}:{line}: ", file.display());
        assert_eq!(output.status.code(), Some(2), "{body}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(&expected) && stderr(&output).contains(message),
            "{body}: wanted {expected}...{message}, got {}",
            stderr(&output)
        );
        assert!(
            !run.report_dir().exists(),
            "{body}: nothing is started for a bad file"
        );
    }
}

/// The `request_id` of every backend log line of a run's requests (its `backend.log`).
fn logged_request_ids(run: &Run) -> Vec<String> {
    let log = std::fs::read_to_string(run.report_dir().join("logs").join("backend.log")).unwrap();
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["message"] == "request completed" && line["path"] != "/health")
        .filter_map(|line| line["request_id"].as_str().map(str::to_owned))
        .collect()
}

/// Checks each step's slowest requests in `summary`: as many as it kept (5, or every
/// request of a step with fewer), slowest first, the first as slow as the step's
/// maximum (to the histogram's precision: exact across generators too), each id one
/// the backend logged.
fn assert_slowest_exemplars(summary: &serde_json::Value, logged: &[String]) {
    for step in summary["steps"].as_array().unwrap() {
        let slowest = step["exemplars"]["slowest"].as_array().expect("slowest requests");
        let count = step["count"].as_u64().unwrap() as usize;
        assert_eq!(slowest.len(), count.min(5), "{step}");
        let latencies: Vec<f64> = slowest
            .iter()
            .map(|e| e["latency_ms"].as_f64().unwrap())
            .collect();
        assert!(latencies.windows(2).all(|w| w[0] >= w[1]), "{latencies:?}");
        let max_ms = step["latency_us"]["max"].as_f64().unwrap() / 1000.0;
        assert!(
            (latencies[0] - max_ms).abs() <= max_ms * 0.001 + 0.001,
            "slowest {} ms, the step's max {max_ms} ms",
            latencies[0]
        );
        for exemplar in slowest {
            let id = exemplar["request_id"].as_str().unwrap();
            assert_eq!(logged.iter().filter(|l| *l == id).count(), 1, "{id} logged once");
            assert!(exemplar["status"].as_u64().is_some_and(|s| s < 400), "{exemplar}");
        }
    }
}

/// Each request carries an id the backend logs (run, user, iteration, step), unique in
/// the run; `--no-request-id` sends none, so the backend makes its own.
#[test]
fn every_request_carries_an_id_the_backend_logs_and_the_flag_turns_them_off() {
    let run = Run::new();
    let scenario = roomy_scenario(&run, "signup");
    assert_exit(&run.run(&[&scenario, "--duration", "2s", "--users", "2"]), 0);
    let ids = logged_request_ids(&run);
    let steps = ["register", "me", "refresh", "login"];
    let ours: Vec<&String> = ids
        .iter()
        .filter(|id| {
            let parts: Vec<&str> = id.split('-').collect();
            parts.len() == 4
                && parts[1]
                    .strip_prefix('u')
                    .is_some_and(|n| n.parse::<u32>().is_ok())
                && parts[2]
                    .strip_prefix('i')
                    .is_some_and(|n| n.parse::<u32>().is_ok())
                && steps.contains(&parts[3])
        })
        .collect();
    let count = run.summary()["totals"]["count"].as_u64().unwrap() as usize;
    assert!(count > 0);
    assert_eq!(
        ours.len(),
        count,
        "every request's id, logged: {:?}",
        &ids[..ids.len().min(5)]
    );
    let unique: std::collections::BTreeSet<&String> = ours.iter().copied().collect();
    assert_eq!(unique.len(), ours.len(), "each id once");
    let tags: std::collections::BTreeSet<&str> =
        ours.iter().map(|id| id.split('-').next().unwrap()).collect();
    assert_eq!(tags.len(), 1, "one run tag: {tags:?}");
    assert_slowest_exemplars(&run.summary(), &ids);

    let off = Run::new();
    let scenario = roomy_scenario(&off, "signup");
    let args = [
        &scenario[..],
        "--duration",
        "2s",
        "--users",
        "2",
        "--no-request-id",
    ];
    assert_exit(&off.run(&args), 0);
    let ids = logged_request_ids(&off);
    assert!(!ids.is_empty());
    assert!(
        ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()),
        "the backend's own ids only: {:?}",
        &ids[..ids.len().min(5)]
    );
}

/// A failure names the request that first failed that way, and the backend's log has a
/// line with that id: the server's side of the failure is one search away.
#[test]
fn a_failure_names_its_request_which_the_backend_logged() {
    let run = Run::new();
    let scenario =
        "name = \"missing\"\n[[steps]]\nname = \"nothing_here\"\npath = \"/api/v1/nothing-here\"\n";
    let path = run.scenario_file("missing", scenario);
    let args = [&path[..], "--duration", "2s", "--users", "1"];
    let output = run.run(&[&args[..], &["--slo", "error_rate < 1%"]].concat());
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let summary = run.summary();
    let failure = &summary["steps"][0]["failures"]["kinds"][0];
    assert_eq!(failure["kind"], "status 404", "{failure}");
    let id = failure["request_id"]
        .as_str()
        .expect("the first failed request's id");
    assert!(id.ends_with("-u0-i0-nothing_here"), "{id}");
    let logged: Vec<String> = logged_request_ids(&run).into_iter().filter(|i| i == id).collect();
    assert_eq!(logged.len(), 1, "the backend logged that request once");
    assert!(
        stdout(&output).contains(&format!("(request {id})")),
        "{}",
        stdout(&output)
    );
    // Its first ten failed requests, in the order sent, each logged once, each listed
    // in the Markdown and HTML reports.
    let failed = summary["steps"][0]["exemplars"]["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 10, "{failed:?}");
    let logged = logged_request_ids(&run);
    let (markdown, html) = (
        std::fs::read_to_string(run.report_dir().join("summary.md")).unwrap(),
        std::fs::read_to_string(run.report_dir().join("report.html")).unwrap(),
    );
    for (iteration, exemplar) in failed.iter().enumerate() {
        let id = exemplar["request_id"].as_str().unwrap();
        assert!(id.ends_with(&format!("-u0-i{iteration}-nothing_here")), "{id}");
        assert_eq!(
            (&exemplar["status"], &exemplar["failure"]),
            (&json!(404), &json!("status 404"))
        );
        assert_eq!(logged.iter().filter(|l| *l == id).count(), 1, "{id} logged once");
        assert!(markdown.contains(&format!("| failed | `{id}` |")), "{markdown}");
        assert!(html.contains(&format!("<code>{id}</code>")));
    }
    crate::reports::assert_matches_schema(&summary);
}

/// On several generators each request's id names its generator, and ids stay unique
/// across them: the backend logs every request of both once.
#[test]
fn generators_number_their_request_ids_apart() {
    let run = Run::new();
    let scenario = roomy_scenario(&run, "signup");
    let args = [
        &scenario[..],
        "--duration",
        "3s",
        "--users",
        "2",
        "--generators",
        "2",
    ];
    assert_exit(&run.run(&args), 0);
    let ids: Vec<String> = logged_request_ids(&run)
        .into_iter()
        .filter(|id| id.contains("-g0-u") || id.contains("-g1-u"))
        .collect();
    let count = run.summary()["totals"]["count"].as_u64().unwrap() as usize;
    assert_eq!(ids.len(), count, "every request's id names its generator");
    for generator in ["-g0-u", "-g1-u"] {
        assert!(
            ids.iter().any(|id| id.contains(generator)),
            "{generator}: {:?}",
            &ids[..ids.len().min(5)]
        );
    }
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "each id once across generators");
    assert_slowest_exemplars(&run.summary(), &ids);
}
