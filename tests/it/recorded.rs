//! Scenarios recorded from a browser: a real headless Chromium signs up and searches on
//! the reference frontend, its session is saved as HAR over the DevTools Protocol,
//! `import har` turns it into a scenario, and that runs against a fresh stack.

use std::time::Duration;

use serde_json::Value;

use crate::common::app::{spawn_app, unique_email};
use crate::common::cdp::Browser;
use crate::common::harness::{assert_exit, stderr, stdout, Run};

/// What a new user does: sign up, see their name, search for a plumber, open the
/// dashboard. Returns the session as HAR.
fn sign_up_and_search(frontend: &str, email: &str, profile: &std::path::Path) -> Value {
    let mut browser = Browser::launch(profile);
    browser.open(&format!("{frontend}/auth/email"));
    browser.eval(&format!(
        r#"(() => {{
            const form = document.querySelector("form[data-api]");
            form.elements.name.value = "Ann Recorder";
            form.elements.email.value = "{email}";
            form.elements.password.value = "Recorded1pass";
            form.elements.role.value = "customer";
            form.requestSubmit();
            return true;
        }})()"#
    ));
    browser.wait_until(
        r#"document.querySelector("output").textContent.startsWith("Signed in as Ann Recorder")"#,
        r#"document.querySelector("output").textContent"#,
        "the sign-up greets the new user",
    );
    // The user reads the greeting before moving on: a pause the import keeps.
    std::thread::sleep(Duration::from_millis(400));
    browser.open(&format!("{frontend}/"));
    browser.eval(
        r#"(() => {
            const form = document.querySelector("form[data-search]");
            form.elements.category.value = "plumbing";
            form.requestSubmit();
            return true;
        })()"#,
    );
    browser.wait_until(
        r#"document.querySelector("form[data-search] output").textContent.endsWith("services found.")"#,
        r#"document.querySelector("form[data-search] output").textContent"#,
        "the search lists services",
    );
    browser.open(&format!("{frontend}/dashboard"));
    browser.wait_until(
        r#"document.querySelector("[data-requests]").textContent.startsWith("You have 0 requests")"#,
        r#"document.querySelector("[data-requests]").textContent"#,
        "the dashboard lists the new user's requests with the kept token",
    );
    browser.har()
}

/// Exit 0, or 3 with only the latency SLO failed: latency on a loaded 2-core machine is
/// the benches' to judge; errors are not.
fn assert_only_latency_may_fail(output: &std::process::Output, summary: &Value) {
    let failed: Vec<&str> = summary["slos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["pass"] == false)
        .map(|s| s["expr"].as_str().unwrap_or_default())
        .collect();
    assert!(
        output.status.code() == Some(0) || (output.status.code() == Some(3) && failed == ["p95 < 500ms"]),
        "exit {:?}, failed {failed:?}\n{}\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    );
}

/// Every sign-up's token was sent by the `/auth/me` after it (0 errors says each was
/// accepted): a run that ends between the two leaves at most one per user unsent.
fn assert_each_token_taken(sign_ups: u64, profiles: u64, users: u64) {
    assert!(
        profiles <= sign_ups && sign_ups - profiles <= users,
        "{sign_ups} sign-ups, {profiles} /auth/me"
    );
}

/// The recorded access token: the one `/auth/register` answered with.
fn recorded_token(har: &Value) -> String {
    let register = har["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["request"]["method"] == "POST"
                && e["request"]["url"].as_str().unwrap().ends_with("/auth/register")
        })
        .expect("the sign-up was recorded");
    let answer: Value =
        serde_json::from_str(register["response"]["content"]["text"].as_str().unwrap()).unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_session_recorded_as_har_runs_as_new_users_against_a_fresh_stack() {
    let run = Run::new();
    let backend = spawn_app().await;
    let settings = karigar_frontend::Settings {
        host: "127.0.0.1".into(),
        port: 0,
        api_url: format!("{}/api/v1", backend.address),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let frontend = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(karigar_frontend::serve(
        settings,
        listener,
        std::future::pending(),
    ));

    let email = unique_email();
    let profile = run.dir.path().join("chromium");
    let (site, recorded_email) = (frontend.clone(), email.clone());
    let har = tokio::task::spawn_blocking(move || sign_up_and_search(&site, &recorded_email, &profile))
        .await
        .unwrap();
    let har_path = run.dir.path().join("session.har");
    std::fs::write(&har_path, serde_json::to_string_pretty(&har).unwrap()).unwrap();
    let token = recorded_token(&har);

    let scenario = run.dir.path().join("scenarios").join("recorded.toml");
    let import = std::process::Command::new(crate::common::harness::BIN)
        .args(["import", "har"])
        .arg(&har_path)
        .arg("--out")
        .arg(&scenario)
        .output()
        .unwrap();
    assert_exit(&import, 0);
    let said = stderr(&import);
    for inferred in [
        "-> 7 step(s): 3 page(s), 4 API call(s)",
        "captured: access_token = /access_token of post_auth_register's answer, sent by get_auth_me, get_services, get_customers_requests",
        "CORS preflight(s): only browsers send them",
        "-> [vars] email: unique per iteration",
        "-> [vars] password: a fresh one per iteration, first sent to a sign-up",
        "static asset(s) into their pages' steps",
        &format!("frontend: {frontend}"),
        "think times: ",
        "(7 step(s), valid)",
    ] {
        assert!(said.contains(inferred), "{inferred:?} not said:\n{said}");
    }
    let text = std::fs::read_to_string(&scenario).unwrap();
    for written in [
        "name = \"page_auth_email\"\ntarget = \"frontend\"\npath = \"/auth/email\"",
        "name = \"post_auth_register\"",
        "capture = { access_token = \"/access_token\" }",
        "headers = { Authorization = \"Bearer {{access_token}}\" }",
        "path = \"/api/v1/services?category=plumbing&radius=10&lat=12.9716&lng=77.5946\"",
        "name = \"page_dashboard\"",
    ] {
        assert!(text.contains(written), "{written:?} not written:\n{text}");
    }
    // The user's 400 ms with the greeting, kept as the pause after the step before it.
    let me = &text[text.find("name = \"get_auth_me\"").unwrap()..];
    let me = &me[..me.find("\n\n").unwrap_or(me.len())];
    let think: u64 = me
        .lines()
        .find_map(|l| {
            l.strip_prefix("think_time = \"")?
                .strip_suffix("ms\"")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no think time after get_auth_me:\n{me}"));
    assert!(think >= 400, "{me}");
    for secret in [token.as_str(), email.as_str(), "Recorded1pass"] {
        assert!(
            !text.contains(secret),
            "{secret:?} copied into the scenario:\n{text}"
        );
    }

    // A fresh stack of its own: new database, new JWT secret, no recorded user.
    let output = run.run(&[scenario.to_str().unwrap(), "--users", "2", "--duration", "8s"]);
    let summary = run.summary();
    assert_only_latency_may_fail(&output, &summary);
    assert_eq!(summary["totals"]["errors"], 0, "{}", summary["totals"]);
    let steps = summary["steps"].as_array().unwrap();
    let count = |name: &str| {
        steps
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no step {name}"))["count"]
            .as_u64()
            .unwrap()
    };
    // Every sign-up got 201 (a reused email would be 409) and every token it captured
    // was taken by /auth/me: more iterations than users, each with its own email.
    assert!(count("post_auth_register") >= 3, "{steps:?}");
    assert_each_token_taken(count("post_auth_register"), count("get_auth_me"), 2);
    assert!(count("page_dashboard") >= 2, "{steps:?}");
}

/// The shipped cURL recording, imported as the README's example shows, runs against a
/// backend given by `--target`: the token it guessed is captured from each sign-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copied_curl_commands_run_against_a_target_with_each_sign_up_s_own_token() {
    let run = Run::new();
    let backend = spawn_app().await;
    let scenario = run.dir.path().join("copied.toml");
    let import = std::process::Command::new(crate::common::harness::BIN)
        .args(["import", "curl", "tests/fixtures/recordings/signup.sh", "--out"])
        .arg(&scenario)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_exit(&import, 0);
    assert!(
        stderr(&import).contains("guessed: the bearer token get_auth_me sends"),
        "{}",
        stderr(&import)
    );

    let output = run.run(&[
        scenario.to_str().unwrap(),
        "--target",
        &backend.address,
        "--users",
        "2",
        "--duration",
        "4s",
    ]);
    let summary = run.summary();
    assert_only_latency_may_fail(&output, &summary);
    assert_eq!(summary["totals"]["errors"], 0, "{}", summary["totals"]);
    let steps = summary["steps"].as_array().unwrap();
    let count = |name: &str| {
        steps.iter().find(|s| s["name"] == name).unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    assert!(count("post_auth_register") >= 2, "{steps:?}");
    assert_each_token_taken(count("post_auth_register"), count("get_auth_me"), 2);
}

/// `import curl -` reads the commands from standard input, as a pipe from the
/// clipboard gives them, and writes the scenario a file of the same commands gives.
#[test]
fn curl_commands_piped_to_import_become_the_scenario_the_file_gives() {
    use std::io::Write as _;
    let fixture = "tests/fixtures/recordings/signup.sh";
    let import = |source: &str| {
        let mut child = std::process::Command::new(crate::common::harness::BIN)
            .args(["import", "curl", source, "--name", "copied"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let commands = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture)).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if source == "-" {
            stdin.write_all(&commands).unwrap();
        }
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        assert_exit(&output, 0);
        // The first line names where it came from.
        let text = String::from_utf8(output.stdout).unwrap();
        text.split_once('\n').unwrap().1.to_owned()
    };
    let piped = import("-");
    assert_eq!(piped, import(fixture));
    assert!(
        piped.contains("name = \"post_auth_register\"") && !piped.contains("Recorded1pass"),
        "{piped}"
    );
}
