//! The least an open-model generator can cost on this machine: one kept-alive
//! connection, a GET sent at each of RATE evenly spaced times a second (slept to, from
//! the start, so late sends do not push the schedule), its answer read before the next.
//! No runtime, no timers but the sleep, no recording: what is left is the kernel's part
//! (the wake-up for each send, the wake-up for each answer, the socket calls), which
//! benches/generators/run.sh sets beside karigar-perf's open model at the same rate.
//!
//!   open_floor 127.0.0.1:18080 2000 20      # address, requests per second, seconds
//!   open_floor 127.0.0.1:18080 2000 20 1    # ... woken on 1 ms ticks
//!
//! With TICK_MS, each send waits for the first tick at or after its time, as a timer
//! wheel of that resolution (tokio's is 1 ms) wakes: sends due within one tick share a
//! wake-up. Prints `requests=N`. Reconnects when the server closes a kept-alive
//! connection.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (address, rate, seconds, tick) = match args.as_slice() {
        [address, rate, seconds] => (address, rate, seconds, "0"),
        [address, rate, seconds, tick] => (address, rate, seconds, tick.as_str()),
        _ => {
            eprintln!("usage: open_floor ADDRESS RATE SECONDS [TICK_MS]");
            std::process::exit(2);
        }
    };
    let (Ok(rate), Ok(seconds), Ok(tick)) =
        (rate.parse::<u32>(), seconds.parse::<u32>(), tick.parse::<u64>())
    else {
        eprintln!("RATE, SECONDS and TICK_MS are whole numbers");
        std::process::exit(2);
    };
    let tick_ns = tick * 1_000_000;
    let request = format!("GET / HTTP/1.1\r\nHost: {address}\r\n\r\n");
    let mut connection: Option<TcpStream> = None;
    let mut answer = Vec::with_capacity(4096);
    let start = Instant::now();
    let total = u64::from(rate) * u64::from(seconds);
    let mut sent = 0;
    for n in 0..total {
        let mut due_ns = n * 1_000_000_000 / u64::from(rate);
        if tick_ns > 0 {
            due_ns = due_ns.div_ceil(tick_ns) * tick_ns;
        }
        let due = start + Duration::from_nanos(due_ns);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        // A kept-alive connection the server closed is opened again, once.
        for _ in 0..2 {
            let stream = match connection.as_mut() {
                Some(stream) => stream,
                None => connection.insert(connect(address)),
            };
            if exchange(stream, request.as_bytes(), &mut answer) {
                sent += 1;
                break;
            }
            connection = None;
        }
    }
    println!("requests={sent}");
}

fn connect(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address).unwrap_or_else(|e| {
        eprintln!("{address}: {e}");
        std::process::exit(1);
    });
    stream.set_nodelay(true).ok();
    stream
}

/// Writes `request` and reads one whole answer (its head, then Content-Length bytes);
/// false when the connection ended first.
fn exchange(stream: &mut TcpStream, request: &[u8], answer: &mut Vec<u8>) -> bool {
    if stream.write_all(request).is_err() {
        return false;
    }
    answer.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(answer, b"\r\n\r\n") {
            if answer.len() >= end + 4 + content_length(&answer[..end]) {
                return true;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(got) => answer.extend_from_slice(&chunk[..got]),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0)
}
