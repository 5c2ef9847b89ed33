//! The failures themselves, not just their class: per step, the first few distinct
//! ways a request failed (`status 404`, `timeout`, `capture /access_token missing`),
//! each with how often, when it was first seen and the first bytes the server answered.
//! Kept small (a few kinds, a short sanitised snippet) so a run full of errors costs
//! no more than a clean one.

use serde::{Deserialize, Serialize};

/// Distinct kinds kept per step; later kinds are counted in [`Failures::other`].
pub(super) const MAX_KINDS: usize = 5;
/// Characters of the answer kept per kind.
pub(super) const SNIPPET_CHARS: usize = 200;

/// One kind of failure of one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// What went wrong: `status 404`, `timeout`, `connect`, `capture /id missing`.
    pub kind: String,
    pub count: u64,
    /// Seconds since the load started when it was first seen.
    pub first_seen_s: f64,
    /// The start of the first answer (or of the transport error), printable only.
    pub snippet: String,
    /// The id the first such request carried (its answer is the snippet): the one to
    /// look for in the server's logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The failures of one step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Failures {
    /// In the order first seen.
    pub kinds: Vec<Failure>,
    /// Failures of kinds beyond the first [`MAX_KINDS`].
    #[serde(default)]
    pub other: u64,
}

impl Failures {
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty() && self.other == 0
    }

    /// Counts a failure of `kind` seen at `at_s` of the request `request_id`, keeping
    /// `snippet` and the id if it is the first.
    pub fn note(&mut self, kind: &str, at_s: f64, snippet: &[u8], request_id: Option<&str>) {
        self.add(Failure {
            kind: kind.to_owned(),
            count: 1,
            first_seen_s: at_s,
            snippet: sanitise(snippet),
            request_id: request_id.map(str::to_owned),
        });
    }

    /// Adds another step's failures (another generator's, say): counts add, the earliest
    /// sighting and its snippet win.
    pub fn merge(&mut self, other: &Failures) {
        self.other += other.other;
        let mut incoming = other.kinds.clone();
        incoming.sort_by(|a, b| a.first_seen_s.total_cmp(&b.first_seen_s));
        for failure in incoming {
            self.add(failure);
        }
        self.kinds
            .sort_by(|a, b| a.first_seen_s.total_cmp(&b.first_seen_s));
    }

    /// What was noted since `earlier` (a copy of these failures taken before).
    pub fn minus(&self, earlier: &Failures) -> Failures {
        let kinds = self
            .kinds
            .iter()
            .filter_map(|now| {
                let before = earlier
                    .kinds
                    .iter()
                    .find(|f| f.kind == now.kind)
                    .map_or(0, |f| f.count);
                (now.count > before).then(|| Failure {
                    count: now.count - before,
                    ..now.clone()
                })
            })
            .collect();
        Failures {
            kinds,
            other: self.other - earlier.other,
        }
    }

    fn add(&mut self, failure: Failure) {
        if let Some(known) = self.kinds.iter_mut().find(|f| f.kind == failure.kind) {
            known.count += failure.count;
            if failure.first_seen_s < known.first_seen_s {
                known.first_seen_s = failure.first_seen_s;
                known.snippet = failure.snippet;
                known.request_id = failure.request_id;
            }
        } else if self.kinds.len() < MAX_KINDS {
            self.kinds.push(failure);
        } else {
            self.other += failure.count;
        }
    }
}

/// The first [`SNIPPET_CHARS`] characters of `bytes` as one printable line: invalid
/// UTF-8 replaced, control characters (CR, LF, ESC, ...) turned into spaces, runs of
/// white space collapsed, so a body can never break a console or a report.
pub fn sanitise(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SNIPPET_CHARS * 4)]);
    let mut out = String::new();
    let mut last_space = true;
    for c in text.chars() {
        if out.chars().count() >= SNIPPET_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() || c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_kinds_and_keeps_the_first_snippet() {
        let mut failures = Failures::default();
        failures.note("status 404", 1.5, b"{\"error\":\"not found\"}", None);
        failures.note("status 404", 2.0, b"later", None);
        failures.note("timeout", 3.0, b"", None);
        assert_eq!(failures.kinds.len(), 2);
        assert_eq!(failures.kinds[0].count, 2);
        assert_eq!(failures.kinds[0].snippet, "{\"error\":\"not found\"}");
        assert_eq!(failures.kinds[0].first_seen_s, 1.5);
    }

    #[test]
    fn kinds_beyond_the_cap_are_counted_as_other() {
        let mut failures = Failures::default();
        for i in 0..MAX_KINDS + 2 {
            failures.note(&format!("status {}", 500 + i), i as f64, b"x", None);
        }
        failures.note("status 500", 9.0, b"x", None);
        assert_eq!(failures.kinds.len(), MAX_KINDS);
        assert_eq!(failures.other, 2);
        assert_eq!(failures.kinds[0].count, 2);
    }

    #[test]
    fn merging_adds_counts_and_the_earliest_sighting_wins() {
        let (mut a, mut b) = (Failures::default(), Failures::default());
        a.note("status 500", 4.0, b"late", Some("run-g0-u1-i3-get"));
        b.note("status 500", 1.0, b"early", Some("run-g1-u7-i0-get"));
        b.note("connect", 2.0, b"refused", None);
        a.merge(&b);
        assert_eq!(a.kinds[0].kind, "status 500");
        assert_eq!(a.kinds[0].count, 2);
        assert_eq!(a.kinds[0].snippet, "early");
        assert_eq!(
            a.kinds[0].request_id.as_deref(),
            Some("run-g1-u7-i0-get"),
            "the earliest request's id, with its answer"
        );
        assert_eq!(a.kinds[1].kind, "connect");
    }

    #[test]
    fn a_delta_holds_only_what_came_since() {
        let mut failures = Failures::default();
        failures.note("status 500", 1.0, b"x", None);
        let earlier = failures.clone();
        failures.note("status 500", 2.0, b"x", None);
        failures.note("timeout", 3.0, b"", None);
        let delta = failures.minus(&earlier);
        assert_eq!(delta.kinds.len(), 2);
        assert_eq!(delta.kinds[0].count, 1);
        let mut rebuilt = earlier;
        rebuilt.merge(&delta);
        assert_eq!(rebuilt, failures);
    }

    #[test]
    fn snippets_are_one_short_printable_line() {
        let body = format!("line one\r\n\x1b[31mred\x1b[0m\n{}", "y".repeat(500));
        let snippet = sanitise(body.as_bytes());
        assert!(!snippet.chars().any(|c| c.is_control()), "{snippet:?}");
        assert!(snippet.starts_with("line one [31mred"), "{snippet}");
        assert!(snippet.chars().count() <= SNIPPET_CHARS + 1);
        assert_eq!(sanitise(&[0xff, b'o', b'k']), "\u{fffd}ok");
    }
}
