//! The backend as a process: JSON log lines, configuration errors, SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::harness::{signal_and_wait, BIN};
use crate::common::stores::stores;

#[test]
fn logs_json_lines_and_stops_cleanly_on_sigterm() {
    let stores = stores();
    let port = karigar_perf::stack::free_port().unwrap();
    let mut child = Command::new(BIN)
        .arg("backend")
        .env("SERVER_HOST", "127.0.0.1")
        .env("SERVER_PORT", port.to_string())
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", stores.pg_port.to_string())
        .env("DB_NAME", stores.fresh_database())
        .env("REDIS_HOST", "127.0.0.1")
        .env("REDIS_PORT", stores.redis_port.to_string())
        .env("REDIS_PASSWORD", &stores.redis_password)
        .env("JWT_SECRET", "x".repeat(32))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let listening = lines.next().unwrap().unwrap();
    let line: Value = serde_json::from_str(&listening).expect("a JSON log line");
    for field in [
        "timestamp",
        "level",
        "service",
        "message",
        "user_id",
        "request_id",
    ] {
        assert!(line.get(field).is_some(), "{field} missing from {listening}");
    }
    assert_eq!(line["service"], "backend");
    let health = reqwest::blocking_get(&format!("http://127.0.0.1:{port}/health"));
    assert_eq!(health, 200);
    let request: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(request["message"], "request completed");
    assert_eq!(request["path"], "/health");
    assert!(request["request_id"].as_str().is_some_and(|id| id.len() == 36));

    let status = signal_and_wait(&mut child, libc::SIGTERM, Duration::from_secs(10));
    assert!(status.success(), "{status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("SIGTERM received")), "{rest:?}");
}

#[test]
fn a_short_jwt_secret_is_a_configuration_error() {
    let output = Command::new(BIN)
        .arg("backend")
        .env("JWT_SECRET", "short")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("JWT_SECRET") && stderr.contains("at least 32"),
        "{stderr}"
    );
}

mod reqwest {
    /// Status of a GET, from a blocking context (a one-off runtime).
    pub fn blocking_get(url: &str) -> u16 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { ::reqwest::get(url).await.unwrap().status().as_u16() })
    }
}
