//! The server's side of the requests a report names: for a stack the harness ran, the
//! lines of its saved logs (`logs/backend*.log`, `logs/frontend*.log`) that carry each
//! named request's id, so that a slow or failed request's cause is read in the report
//! rather than searched for in a log of thousands of lines.

use std::io::BufRead as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::metrics::Measurements;

/// Lines kept per request.
const LINES_PER_REQUEST: usize = 3;
/// Characters kept of a line.
const LINE_CHARS: usize = 500;

/// What the stack's logs say of the requests the report names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerLogs {
    /// The log files read, by name (in the report folder's `logs/`).
    pub files: Vec<String>,
    /// Whether any of their lines carries a named request's id; false for logs that
    /// write none (a plain-text access log), to be searched by time instead.
    pub carries_ids: bool,
    /// Each named request found, with its lines (at most 3), in the order named.
    pub requests: Vec<RequestLines>,
}

/// The log lines of one request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestLines {
    pub request_id: String,
    pub lines: Vec<LogLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// The file it is in.
    pub file: String,
    /// The line, printable, its first 500 characters.
    pub text: String,
}

impl ServerLogs {
    /// The lines of request `id`, if any were found.
    pub fn lines_of(&self, id: &str) -> Option<&[LogLine]> {
        self.requests
            .iter()
            .find(|r| r.request_id == id)
            .map(|r| r.lines.as_slice())
    }
}

/// The ids a report names: each step's exemplars and each kind of failure's first
/// request, in that order, each once.
pub fn named_ids(measured: &Measurements) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for step in &measured.steps {
        let exemplars = step.exemplars.slowest.iter().chain(&step.exemplars.failed);
        let named = exemplars
            .filter_map(|e| e.request_id.as_deref())
            .chain(step.failures.kinds.iter().filter_map(|f| f.request_id.as_deref()));
        for id in named {
            if !ids.iter().any(|known| known == id) {
                ids.push(id.to_owned());
            }
        }
    }
    ids
}

/// The lines of `logs_dir`'s backend and frontend logs that carry each of `ids`; `None`
/// when there are no such logs (a deployment the harness did not start) or no ids.
pub fn find(logs_dir: &Path, ids: &[String]) -> Option<ServerLogs> {
    if ids.is_empty() {
        return None;
    }
    let mut files: Vec<String> = std::fs::read_dir(logs_dir)
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| {
            (name.starts_with("backend") || name.starts_with("frontend")) && name.ends_with(".log")
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return None;
    }
    let mut found: Vec<Vec<LogLine>> = vec![Vec::new(); ids.len()];
    for file in &files {
        scan(&logs_dir.join(file), file, ids, &mut found);
    }
    let requests: Vec<RequestLines> = ids
        .iter()
        .zip(found)
        .filter(|(_, lines)| !lines.is_empty())
        .map(|(id, lines)| RequestLines {
            request_id: id.clone(),
            lines,
        })
        .collect();
    Some(ServerLogs {
        files,
        carries_ids: !requests.is_empty(),
        requests,
    })
}

/// Adds the lines of `path` (named `file`) that carry each id to `found`. Lines are
/// first checked for what every id begins with (the run's tag), which most lines of a
/// busy log lack.
fn scan(path: &Path, file: &str, ids: &[String], found: &mut [Vec<LogLine>]) {
    let Ok(handle) = std::fs::File::open(path) else {
        return;
    };
    let prefix = common_prefix(ids);
    let mut reader = std::io::BufReader::new(handle);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if !contains(&line, prefix.as_bytes()) {
            continue;
        }
        for (id, lines) in ids.iter().zip(found.iter_mut()) {
            if lines.len() < LINES_PER_REQUEST && carries(&line, id) {
                lines.push(LogLine {
                    file: file.to_owned(),
                    text: printable(&line),
                });
            }
        }
    }
}

/// What every one of `ids` begins with.
fn common_prefix(ids: &[String]) -> &str {
    let first = ids[0].as_str();
    let length = ids.iter().fold(first.len(), |length, id| {
        first
            .bytes()
            .zip(id.bytes())
            .take(length)
            .take_while(|(a, b)| a == b)
            .count()
    });
    &first[..length]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether `line` carries `id` as a whole token: `run-u1-i1-login` is not in
/// `run-u1-i1-login.2` (a repeated step's second request) nor in `run-u1-i1-login_again`.
fn carries(line: &[u8], id: &str) -> bool {
    let id = id.as_bytes();
    let part_of_id = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-';
    line.windows(id.len()).enumerate().any(|(at, window)| {
        window == id
            && (at == 0 || !part_of_id(line[at - 1]))
            && line.get(at + id.len()).is_none_or(|b| !part_of_id(*b))
    })
}

/// `line` as one printable line: invalid UTF-8 replaced, control characters made
/// spaces, its first [`LINE_CHARS`] characters.
fn printable(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let mut out: String = text
        .trim_end()
        .chars()
        .take(LINE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.trim_end().chars().count() > LINE_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_id_finds_its_own_lines_only() {
        let dir = tempfile::tempdir().unwrap();
        let log = "{\"request_id\":\"k3-u1-i1-login\",\"status\":500}\n\
                   {\"request_id\":\"k3-u1-i1-login.2\",\"status\":200}\n\
                   {\"request_id\":\"k3-u11-i1-login\",\"status\":200}\n\
                   {\"message\":\"k3-u1-i1-login failed: \\u001b[31mdb\"}\n\
                   {\"request_id\":\"another\"}\n";
        std::fs::write(dir.path().join("backend.log"), log).unwrap();
        std::fs::write(dir.path().join("postgres.log"), "k3-u1-i1-login\n").unwrap();
        let ids = vec!["k3-u1-i1-login".to_owned(), "k3-u9-i9-me".to_owned()];
        let logs = find(dir.path(), &ids).unwrap();
        assert_eq!(logs.files, ["backend.log"]);
        assert!(logs.carries_ids);
        let lines = logs.lines_of("k3-u1-i1-login").unwrap();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].text.contains("\"status\":500"));
        assert_eq!(lines[0].file, "backend.log");
        assert!(!lines[1].text.chars().any(char::is_control));
        assert!(logs.lines_of("k3-u9-i9-me").is_none());
    }

    #[test]
    fn a_log_without_ids_is_read_and_said_to_carry_none() {
        let dir = tempfile::tempdir().unwrap();
        let gin = "[GIN] 2026/12/05 - 12:00:00 | 404 |     1.2ms |  127.0.0.1 | GET  \"/missing\"\n";
        std::fs::write(dir.path().join("backend.log"), gin.repeat(3)).unwrap();
        let logs = find(dir.path(), &["k3-u0-i0-missing".to_owned()]).unwrap();
        assert_eq!(
            (logs.files.len(), logs.carries_ids, logs.requests.len()),
            (1, false, 0)
        );
        // No logs at all (a deployment the harness did not start): nothing to say.
        let empty = tempfile::tempdir().unwrap();
        assert!(find(empty.path(), &["k3-u0-i0-missing".to_owned()]).is_none());
    }

    #[test]
    fn a_long_line_is_cut() {
        let text = printable("x".repeat(LINE_CHARS + 10).as_bytes());
        assert_eq!(text.chars().count(), LINE_CHARS + 1);
    }
}
