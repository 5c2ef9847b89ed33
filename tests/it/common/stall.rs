//! A fixture server that stalls for 1 s every 10 s and keeps, for every request, how
//! long it held it: the truth a generator's measurements are checked against.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Seconds 2 to 3 of every 10 (from the server's start) answer only when they end.
const CYCLE: Duration = Duration::from_secs(10);
const STALL: std::ops::Range<Duration> = Duration::from_secs(2)..Duration::from_secs(3);

/// Only requests for this path are counted: the harness's own probes (its target
/// check, `/health` telemetry) are answered but not counted.
pub const COUNTED_PATH: &str = "/load";

/// The running server: its port, and how long it held each request for
/// [`COUNTED_PATH`] (µs).
pub struct StallingServer {
    pub port: u16,
    held_us: Arc<Mutex<Vec<u64>>>,
}

impl StallingServer {
    /// An HTTP/1.1 keep-alive server on a free loopback port that answers `ok` to every
    /// request, late during the stall; it lives as long as the test process.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let born = Instant::now();
        let held_us = Arc::new(Mutex::new(Vec::new()));
        let held = held_us.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let held = held.clone();
                std::thread::spawn(move || serve(stream, born, &held));
            }
        });
        Self { port, held_us }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How long it held each request so far, sorted (µs).
    pub fn held_us(&self) -> Vec<u64> {
        let mut held = self.held_us.lock().unwrap().clone();
        held.sort_unstable();
        held
    }
}

fn serve(stream: TcpStream, born: Instant, held: &Mutex<Vec<u64>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut line = String::new();
    let counted = format!(" {COUNTED_PATH} ");
    loop {
        // The request line and headers, up to the blank line (GETs carry no body).
        let mut is_counted = false;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => is_counted |= line.starts_with("GET") && line.contains(&counted),
            }
        }
        let received = Instant::now();
        let into_cycle = Duration::from_nanos((born.elapsed().as_nanos() % CYCLE.as_nanos()) as u64);
        if STALL.contains(&into_cycle) {
            std::thread::sleep(STALL.end - into_cycle);
        }
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok";
        if writer.write_all(answer).is_err() {
            return;
        }
        if is_counted {
            held.lock().unwrap().push(received.elapsed().as_micros() as u64);
        }
    }
}

/// The `q` quantile of sorted values, as HdrHistogram reads it (the value at rank
/// `ceil(q * n)`).
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
