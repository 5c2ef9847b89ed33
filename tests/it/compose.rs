//! `docker-compose.test.yml`: valid, and it brings up a stack whose backend and
//! frontend answer, then comes down without a trace.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::docker;

/// `docker-compose` for a project of its own, with the local images and free ports.
struct Compose {
    project: String,
    backend_port: u16,
    frontend_port: u16,
}

impl Compose {
    fn new() -> Self {
        Self {
            project: format!("kptest{}", std::process::id()),
            backend_port: free_port(),
            frontend_port: free_port(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let root = env!("CARGO_MANIFEST_DIR");
        Command::new("docker-compose")
            .args([
                "-f",
                &format!("{root}/docker-compose.test.yml"),
                "-p",
                &self.project,
            ])
            .args(args)
            .env("KARIGAR_POSTGRES_IMAGE", "karigar-perf/postgres:15")
            .env("KARIGAR_REDIS_IMAGE", "karigar-perf/redis:7")
            .env("KARIGAR_BACKEND_PORT", self.backend_port.to_string())
            .env("KARIGAR_FRONTEND_PORT", self.frontend_port.to_string())
            .env("KARIGAR_STORE_HEALTH_INTERVAL", "1s")
            .env("KARIGAR_APP_HEALTH_INTERVAL", "1s")
            .output()
            .expect("docker-compose runs (Debian: apt-get install docker-compose)")
    }
}

impl Drop for Compose {
    fn drop(&mut self) {
        let _ = self.run(&["down", "-v", "--remove-orphans"]);
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ok(output: &Output) -> bool {
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    }
    output.status.success()
}

/// Polls `GET path` on a loopback port until it answers 200, for up to two minutes.
fn answers(port: u16, path: &str) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if http_status(port, path) == Some(200) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    false
}

/// The status code of a plain HTTP/1.1 GET, or `None` when nothing answered.
fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

#[test]
fn the_compose_file_brings_up_a_healthy_stack_and_takes_it_down() {
    if !docker::ready() {
        return;
    }
    let compose = Compose::new();
    assert!(
        ok(&compose.run(&["config", "-q"])),
        "docker-compose config accepts the file"
    );
    assert!(ok(&compose.run(&["up", "-d"])), "the stack comes up");
    assert!(answers(compose.backend_port, "/health"), "the backend answers");
    assert!(answers(compose.frontend_port, "/"), "the frontend answers");
    assert!(ok(&compose.run(&["down", "-v"])));
    let left = compose.run(&["ps", "-q"]);
    assert!(String::from_utf8_lossy(&left.stdout).trim().is_empty());
}
