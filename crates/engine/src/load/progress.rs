//! A live progress line: redrawn every second on a terminal, a plain line every ten
//! seconds otherwise (CI logs), so long runs never look hung.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use crate::metrics::Collector;

/// Prints progress until the returned handle is aborted.
pub(super) fn spawn(
    collector: Arc<Collector>,
    planned: Duration,
    quiet: bool,
) -> Option<tokio::task::JoinHandle<()>> {
    if quiet {
        return None;
    }
    let terminal = std::io::stderr().is_terminal();
    let every = if terminal {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(10)
    };
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let line = line(&collector, planned);
            let mut err = std::io::stderr().lock();
            let _ = if terminal {
                write!(err, "\r\x1b[2K{line}")
            } else {
                writeln!(err, "{line}")
            };
            let _ = err.flush();
        }
    }))
}

/// Ends the progress display, leaving the terminal on a fresh line.
pub(super) fn finish(handle: Option<tokio::task::JoinHandle<()>>) {
    if let Some(handle) = handle {
        handle.abort();
        if std::io::stderr().is_terminal() {
            eprintln!();
        }
    }
}

fn line(collector: &Collector, planned: Duration) -> String {
    let elapsed = collector.elapsed().as_secs_f64();
    let (requests, errors, p95_us) = collector.totals();
    format!(
        "  {:>4.0}s/{}s  requests {requests}  ({:.1}/s)  errors {errors}  p95 {:.1} ms",
        elapsed,
        planned.as_secs(),
        requests as f64 / elapsed.max(0.001),
        p95_us as f64 / 1000.0,
    )
}
