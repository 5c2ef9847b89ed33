//! The secret sweep: every command that takes HTTP settings (`scenario`, `capacity`,
//! `--generators` on local processes and on Docker Swarm, `k8s generators`) and the
//! importers (`import har`, `import curl`) run with sentinel values for a header, basic
//! auth (given by `${VAR}` and literally), a client key and a recorded password and
//! token. Every file they write and every command line of every process they start
//! (`strace -f` of their `execve`s) is searched: no sentinel is in any of them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::harness::BIN;
use crate::tls::{walk, GATEWAY_KEY, GATE_PASSWORD, GATE_USER};

const RECORDED_PASSWORD: &str = "Sentinel9RecordedPw";
const RECORDED_TOKEN: &str = "sentinel-token-8d7c6b5a4f3e";
const HEADER_VAR: &str = "SWEEP_GATEWAY_KEY";
const PASSWORD_VAR: &str = "SWEEP_GATE_PASSWORD";

/// One command as the sweep runs it: its words after the binary, and what its output
/// is searched for (the Secret `k8s generators` pipes out is not searched: it is the one
/// place the values go).
struct Case {
    name: &'static str,
    args: Vec<String>,
    stdout_searched: bool,
}

/// Runs `case` under `strace -f`, its `execve`s logged to `trace`.
fn traced(case: &Case, trace: &Path) -> Output {
    Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=execve", "-s", "100000", "-o"])
        .arg(trace)
        .arg(BIN)
        .args(&case.args)
        .env(HEADER_VAR, GATEWAY_KEY)
        .env(PASSWORD_VAR, GATE_PASSWORD)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("strace runs (.ci/install installs it)")
}

/// The harness's own command line (the flags the user wrote) and those of every process
/// it started, as `strace` logged their `execve`s.
fn command_lines(trace: &Path) -> (String, Vec<String>) {
    let log = std::fs::read_to_string(trace).unwrap();
    let mut lines = log.lines().filter(|l| l.contains("execve(")).map(str::to_owned);
    let harness = lines.next().expect("strace logged the harness's execve");
    (harness, lines.collect())
}

/// A HAR of a log-in whose answer gives a token, then a call that sends it, and a
/// cURL recording of the same with the password sent as basic auth.
fn recordings(dir: &Path) -> (PathBuf, PathBuf) {
    let login = serde_json::json!({"email": "ann@example.test", "password": RECORDED_PASSWORD}).to_string();
    let answer = serde_json::json!({"access_token": RECORDED_TOKEN}).to_string();
    let har = serde_json::json!({"log": {"entries": [
        {"request": {"method": "POST", "url": "http://127.0.0.1:8080/api/v1/auth/login",
            "headers": [{"name": "Content-Type", "value": "text/plain;charset=UTF-8"}],
            "postData": {"mimeType": "text/plain", "text": login}},
         "response": {"status": 200, "headers": [], "content": {"mimeType": "application/json", "text": answer}}},
        {"request": {"method": "GET", "url": "http://127.0.0.1:8080/api/v1/auth/me",
            "headers": [{"name": "Authorization", "value": format!("Bearer {RECORDED_TOKEN}")}]},
         "response": {"status": 200, "headers": [], "content": {"mimeType": "application/json", "text": "{}"}}}
    ]}});
    let har_file = dir.join("session.har");
    std::fs::write(&har_file, har.to_string()).unwrap();
    let curl = format!(
        "curl 'http://127.0.0.1:8080/api/v1/auth/login' -H 'Content-Type: application/x-www-form-urlencoded' \
         --data-raw 'email=ann%40example.test&password={RECORDED_PASSWORD}'\n\
         curl 'http://127.0.0.1:8080/api/v1/auth/me' -H 'Authorization: Bearer {RECORDED_TOKEN}' -u 'ann:{RECORDED_PASSWORD}'\n"
    );
    let curl_file = dir.join("session.sh");
    std::fs::write(&curl_file, curl).unwrap();
    (har_file, curl_file)
}

/// A coordinator waiting for a generator started elsewhere (`--engine external`), the
/// basic-auth password given literally, and a worker that keeps its assignment
/// (`--output`) with the variables' values in its environment, as the coordinator says.
/// Returns the sentinels found in their output and the command lines they started.
fn external_generator(
    scenario: &str,
    http: &[String],
    out: &Path,
    traces: &Path,
    sentinels: &[&str],
) -> Vec<String> {
    let listen = format!("127.0.0.1:{}", karigar_perf::stack::free_port().unwrap());
    let token = format!("sweep-token-{}", std::process::id());
    let trace = |name: &str| {
        let mut command = Command::new("strace");
        command
            .args(["-f", "-qq", "-e", "trace=execve", "-s", "100000", "-o"])
            .arg(traces.join(format!("{name}.log")))
            .arg(BIN)
            .env("KARIGAR_PERF_RUN_TOKEN", &token)
            .env(HEADER_VAR, GATEWAY_KEY)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        command
    };
    let coordinator = trace("coordinator")
        .args(["scenario", scenario, "--generators", "1", "--engine", "external"])
        .args(["--coordinator-listen", &listen, "--report-dir"])
        .arg(out.join("external"))
        .args(http)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let worker = trace("worker")
        .args([
            "worker",
            "--quiet",
            "--coordinator",
            &format!("http://{listen}"),
            "--output",
        ])
        .arg(out.join("worker"))
        .env("KARIGAR_PERF_BASIC_PASSWORD", GATE_PASSWORD)
        .output()
        .unwrap();
    let coordinator = coordinator.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&coordinator.stderr).into_owned();
    assert_eq!(coordinator.status.code(), Some(0), "{said}");
    assert!(
        said.contains("KARIGAR_PERF_BASIC_PASSWORD") && said.contains(HEADER_VAR),
        "the coordinator names the variables the generators need: {said}"
    );
    assert_eq!(
        worker.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&worker.stderr)
    );
    let mut texts = vec![
        said,
        String::from_utf8_lossy(&coordinator.stdout).into_owned(),
        String::from_utf8_lossy(&worker.stderr).into_owned(),
    ];
    for name in ["coordinator", "worker"] {
        texts.extend(command_lines(&traces.join(format!("{name}.log"))).1);
    }
    texts
        .iter()
        .flat_map(|text| sentinels.iter().filter(|s| text.contains(**s)))
        .map(|s| format!("external generator: {s}"))
        .collect()
}

#[test]
fn no_secret_reaches_a_file_or_a_command_line_of_any_command() {
    if !crate::common::docker::ready() {
        return;
    }
    let lab = crate::tls::lab();
    let inputs = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let key_text = std::fs::read_to_string(lab.pki.path("client.key")).unwrap();
    let client_key = key_text.lines().nth(1).unwrap().to_owned();
    let sentinels = [
        GATEWAY_KEY,
        GATE_PASSWORD,
        client_key.as_str(),
        RECORDED_PASSWORD,
        RECORDED_TOKEN,
    ];
    let scenario = inputs.path().join("guarded.toml");
    std::fs::write(
        &scenario,
        "name = \"guarded\"\nslos = [\"error_rate < 1%\"]\n[load]\nusers = 2\nduration = \"2s\"\n\
         [[steps]]\nname = \"get\"\npath = \"/guarded\"\nexpect = [200]\n",
    )
    .unwrap();
    let scenario = scenario.display().to_string();
    let target = format!("https://localhost:{}", lab.nginx.mtls);
    let http = |literal: bool| -> Vec<String> {
        let password = match literal {
            true => GATE_PASSWORD.to_owned(),
            false => format!("${{{PASSWORD_VAR}}}"),
        };
        let mut flags = lab.pki.client_flags();
        flags.extend(
            [
                "--target",
                &target,
                "--header",
                &format!("X-Gateway-Key: ${{{HEADER_VAR}}}"),
                "--basic-auth",
                &format!("{GATE_USER}:{password}"),
            ]
            .map(str::to_owned),
        );
        flags
    };
    let report = |name: &str| {
        [
            "--report-dir".to_owned(),
            out.path().join(name).display().to_string(),
        ]
    };
    let words = |list: &[&str]| list.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let (har, curl) = recordings(inputs.path());
    let cases = [
        Case {
            name: "scenario",
            args: [
                words(&["scenario", &scenario]),
                http(false),
                report("scenario").to_vec(),
            ]
            .concat(),
            stdout_searched: true,
        },
        Case {
            name: "capacity",
            args: [
                words(&["capacity", &scenario, "--start-rate", "5", "--max-steps", "1"]),
                words(&["--warmup", "1s", "--step-duration", "5s"]),
                http(false),
                report("capacity").to_vec(),
            ]
            .concat(),
            stdout_searched: true,
        },
        Case {
            name: "local generators",
            args: [
                words(&["scenario", &scenario, "--generators", "2"]),
                http(true),
                report("local").to_vec(),
            ]
            .concat(),
            stdout_searched: true,
        },
        Case {
            name: "Swarm generators",
            args: [
                words(&["scenario", &scenario, "--generators", "2", "--engine", "swarm"]),
                http(true),
                report("swarm").to_vec(),
            ]
            .concat(),
            stdout_searched: true,
        },
        Case {
            name: "k8s generators",
            args: [
                words(&["k8s", "generators", &scenario, "--workers", "2", "--image", "i:1"]),
                http(true),
                vec!["--out".into(), out.path().join("k8s.yaml").display().to_string()],
            ]
            .concat(),
            stdout_searched: false,
        },
        Case {
            name: "import har",
            args: words(&[
                "import",
                "har",
                &har.display().to_string(),
                "--out",
                &out.path().join("har.toml").display().to_string(),
            ]),
            stdout_searched: true,
        },
        Case {
            name: "import curl",
            args: words(&[
                "import",
                "curl",
                &curl.display().to_string(),
                "--out",
                &out.path().join("curl.toml").display().to_string(),
            ]),
            stdout_searched: true,
        },
    ];
    let mut hits = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let trace = inputs.path().join(format!("trace-{index}.log"));
        let output = traced(case, &trace);
        let said = String::from_utf8_lossy(&output.stderr).into_owned();
        // A capacity search of one 5 s step against nginx may find it holds or not (3);
        // either way it ran through the settings.
        let passed = match case.name {
            "capacity" => matches!(output.status.code(), Some(0 | 3)),
            _ => output.status.code() == Some(0),
        };
        assert!(passed, "{}: {:?} {said}", case.name, output.status);
        let mut searched = vec![(format!("{}: stderr", case.name), said)];
        if case.stdout_searched {
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            searched.push((format!("{}: stdout", case.name), stdout));
        }
        let (harness, lines) = command_lines(&trace);
        // The search can see: a password given literally is on the harness's own command
        // line, which the user wrote, and which the trace logged in full.
        if case.args.iter().any(|a| a.ends_with(GATE_PASSWORD)) {
            assert!(harness.contains(GATE_PASSWORD), "{harness}");
        }
        let started = |program: &str| lines.iter().any(|l| l.contains(program));
        match case.name {
            "local generators" => assert!(started("\"worker\""), "{lines:?}"),
            "Swarm generators" => assert!(started("\"service\", \"create\""), "{lines:?}"),
            _ => {}
        }
        for line in lines {
            searched.push((format!("{}: a started process's command line", case.name), line));
        }
        for (what, text) in searched {
            hits.extend(
                sentinels
                    .iter()
                    .filter(|s| text.contains(*s))
                    .map(|s| format!("{what}: {s}")),
            );
        }
    }
    hits.extend(external_generator(
        &scenario,
        &http(true),
        out.path(),
        inputs.path(),
        &sentinels,
    ));
    let files = walk(out.path());
    for written in [
        "scenario/summary.json",
        "capacity/capacity.json",
        "local/summary.json",
        "swarm/logs/generators.log",
        "k8s.yaml",
        "har.toml",
        "curl.toml",
        "worker/assignment.json",
    ] {
        assert!(
            files.contains(&out.path().join(written)),
            "{written} was written: {files:?}"
        );
    }
    for file in files {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        hits.extend(
            sentinels
                .iter()
                .filter(|s| text.contains(*s))
                .map(|s| format!("{}: {s}", file.display())),
        );
    }
    assert!(hits.is_empty(), "secrets found:\n{}", hits.join("\n"));
}
