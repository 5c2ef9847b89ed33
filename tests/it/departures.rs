//! A measured process that goes away during the run is reported (when, and what was
//! measured until then), never as an idle 0 %.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::harness::{assert_exit, stdout, Run};
use crate::common::stall::{StallingServer, COUNTED_PATH};

#[test]
fn a_backend_pid_that_exits_mid_run_is_reported_gone() {
    let server = StallingServer::start();
    let run = Run::new();
    let scenario = run.dir.path().join("get.toml");
    let text = format!(
        "name = \"get\"\n[[steps]]\nname = \"get\"\npath = \"{COUNTED_PATH}\"\nthink_time = \"50ms\"\n"
    );
    std::fs::write(&scenario, text).unwrap();
    // The "backend" is a process this test ends once the load has run a while.
    let mut backend = Command::new("sleep")
        .arg("600")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = backend.id().to_string();
    let args = [
        "--target",
        &server.url(),
        "--users",
        "2",
        "--duration",
        "20s",
        "--backend-pid",
        &pid,
    ];
    let child = run
        .command(&[scenario.to_str().unwrap()])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let began = Instant::now();
    while server.held_us().is_empty() {
        assert!(began.elapsed() < Duration::from_secs(60), "the load never began");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Three ticks of the 1 s sampler: at least one second measured before the exit.
    std::thread::sleep(Duration::from_secs(3));
    backend.kill().unwrap();
    backend.wait().unwrap();
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 0);
    let infra = &run.summary()["infrastructure"];
    let gone = &infra["departures"][0];
    assert_eq!(gone["name"], "backend", "{infra}");
    assert_eq!(gone["what"], format!("pid {pid}"));
    assert_eq!(gone["event"], "exited");
    let (at, measured) = (
        gone["at_s"].as_u64().unwrap(),
        gone["measured_s"].as_u64().unwrap(),
    );
    assert!(measured >= 1 && at >= measured && at < 20, "{gone}");
    // What was measured until then is kept, and said to be only that.
    assert!(
        infra["backend_memory_max_percent"].as_f64().unwrap() > 0.0,
        "{infra}"
    );
    let said = stdout(&output);
    assert!(said.contains("while measured (see gone)"), "{said}");
    assert!(
        said.contains(&format!(
            "backend (pid {pid}) exited at {at} s, measured for {measured} s before"
        )),
        "{said}"
    );
}
