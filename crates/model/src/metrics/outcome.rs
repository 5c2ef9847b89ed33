//! How one request ended. Each class is counted on its own, so a report can tell a
//! slow stack from a rate limiter from a dead one.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestOutcome {
    /// An expected status, and every capture found.
    Ok,
    /// A status the step did not expect, by class (2 for an unexpected 2xx, ...).
    UnexpectedStatus(u8),
    /// 429 Too Many Requests when the step did not expect it: the iteration stops.
    RateLimited,
    /// 429 Too Many Requests that the step expected (a rate-limit check).
    Throttled,
    /// No complete answer within the request timeout.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// Expected status, but a capture's JSON pointer found nothing.
    Capture,
    /// Expected status, but an expected header was missing or different.
    Assertion,
    /// Any other transport failure (reset connection, body cut short, ...).
    Transport,
}

impl RequestOutcome {
    /// Whether the iteration may go on.
    pub fn is_ok(self) -> bool {
        matches!(self, Self::Ok | Self::Throttled)
    }

    /// Whether the request's latency belongs in the histograms: it got an answer that
    /// was not a rate-limit refusal (429s are reported as a class, never as latency).
    pub fn has_latency(self) -> bool {
        matches!(
            self,
            Self::Ok | Self::UnexpectedStatus(_) | Self::Capture | Self::Assertion
        )
    }

    /// Classifies a status against the step's expectation (empty: any 2xx).
    pub fn of_status(status: u16, expected: &[u16]) -> Self {
        let wanted = if expected.is_empty() {
            (200..300).contains(&status)
        } else {
            expected.contains(&status)
        };
        match status {
            429 if wanted => Self::Throttled,
            _ if wanted => Self::Ok,
            429 => Self::RateLimited,
            _ => Self::UnexpectedStatus((status / 100) as u8),
        }
    }
}

/// Requests per outcome class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCounts {
    pub ok: u64,
    /// Unexpected statuses by class.
    pub status_1xx: u64,
    pub status_2xx: u64,
    pub status_3xx: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    pub rate_limited: u64,
    pub timeout: u64,
    pub connect: u64,
    pub capture: u64,
    #[serde(default)]
    pub assertion: u64,
    pub transport: u64,
}

impl OutcomeCounts {
    pub fn add(&mut self, outcome: RequestOutcome) {
        *self.slot(outcome) += 1;
    }

    pub fn total(&self) -> u64 {
        self.ok + self.errors() + self.rate_limited
    }

    /// Every request that failed, apart from unexpected 429s: a rate limiter's refusal
    /// is its own class (see `rate_limited`), not a broken stack.
    pub fn errors(&self) -> u64 {
        self.status_1xx
            + self.status_2xx
            + self.status_3xx
            + self.status_4xx
            + self.status_5xx
            + self.timeout
            + self.connect
            + self.capture
            + self.assertion
            + self.transport
    }

    pub fn merge(&mut self, other: &Self) {
        for (into, from) in self.slots_mut().into_iter().zip(other.slots()) {
            *into += from;
        }
    }

    /// These counts less `earlier` ones of the same counter (each only grows).
    pub fn minus(&self, earlier: &Self) -> Self {
        let mut delta = *self;
        for (now, then) in delta.slots_mut().into_iter().zip(earlier.slots()) {
            *now -= then;
        }
        delta
    }

    fn slots(&self) -> [u64; 12] {
        [
            self.ok,
            self.status_1xx,
            self.status_2xx,
            self.status_3xx,
            self.status_4xx,
            self.status_5xx,
            self.rate_limited,
            self.timeout,
            self.connect,
            self.capture,
            self.assertion,
            self.transport,
        ]
    }

    fn slots_mut(&mut self) -> [&mut u64; 12] {
        [
            &mut self.ok,
            &mut self.status_1xx,
            &mut self.status_2xx,
            &mut self.status_3xx,
            &mut self.status_4xx,
            &mut self.status_5xx,
            &mut self.rate_limited,
            &mut self.timeout,
            &mut self.connect,
            &mut self.capture,
            &mut self.assertion,
            &mut self.transport,
        ]
    }

    fn slot(&mut self, outcome: RequestOutcome) -> &mut u64 {
        match outcome {
            RequestOutcome::Ok => &mut self.ok,
            RequestOutcome::UnexpectedStatus(1) => &mut self.status_1xx,
            RequestOutcome::UnexpectedStatus(2) => &mut self.status_2xx,
            RequestOutcome::UnexpectedStatus(3) => &mut self.status_3xx,
            RequestOutcome::UnexpectedStatus(4) => &mut self.status_4xx,
            RequestOutcome::UnexpectedStatus(_) => &mut self.status_5xx,
            RequestOutcome::RateLimited | RequestOutcome::Throttled => &mut self.rate_limited,
            RequestOutcome::Timeout => &mut self.timeout,
            RequestOutcome::Connect => &mut self.connect,
            RequestOutcome::Capture => &mut self.capture,
            RequestOutcome::Assertion => &mut self.assertion,
            RequestOutcome::Transport => &mut self.transport,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_against_expectations() {
        assert_eq!(RequestOutcome::of_status(201, &[201]), RequestOutcome::Ok);
        assert_eq!(
            RequestOutcome::of_status(200, &[201]),
            RequestOutcome::UnexpectedStatus(2)
        );
        assert_eq!(RequestOutcome::of_status(204, &[]), RequestOutcome::Ok);
        assert_eq!(RequestOutcome::of_status(429, &[]), RequestOutcome::RateLimited);
        assert_eq!(RequestOutcome::of_status(429, &[429]), RequestOutcome::Throttled);
        assert!(RequestOutcome::Throttled.is_ok() && !RequestOutcome::Throttled.has_latency());
        assert!(!RequestOutcome::RateLimited.is_ok());
        assert_eq!(
            RequestOutcome::of_status(503, &[]),
            RequestOutcome::UnexpectedStatus(5)
        );
    }

    #[test]
    fn counts_sum_and_merge() {
        let mut a = OutcomeCounts::default();
        for o in [
            RequestOutcome::Ok,
            RequestOutcome::Ok,
            RequestOutcome::RateLimited,
            RequestOutcome::UnexpectedStatus(5),
            RequestOutcome::Timeout,
        ] {
            a.add(o);
        }
        assert_eq!(
            (a.total(), a.errors(), a.status_5xx),
            (5, 2, 1),
            "the 429 is not an error"
        );
        let mut b = a;
        b.merge(&a);
        assert_eq!((b.total(), b.rate_limited), (10, 2));
    }
}
