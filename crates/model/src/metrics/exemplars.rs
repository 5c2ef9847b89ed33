//! A step's exemplars: the requests to look up in the server's logs. Its slowest
//! answered requests and its first failed ones, each with its id, when it was sent, its
//! response time and status. Kept exact when generators merge: each keeps its own
//! slowest and first, and the slowest (the first) of their union are the run's.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Slowest requests kept per step.
pub(super) const SLOWEST: usize = 5;
/// First failed requests kept per step.
pub(super) const FIRST_FAILED: usize = 10;

/// A request as a step's exemplar would name it.
#[derive(Clone, Copy, Debug)]
pub struct Sighting<'a> {
    pub request_id: Option<&'a str>,
    /// Its answer's status; `None` without one.
    pub status: Option<u16>,
    /// From sending to the last byte of the answer (or the failure).
    pub service: Duration,
    /// Open model: how late its iteration began (zero under the closed model).
    pub delay: Duration,
}

impl Sighting<'_> {
    pub(super) fn latency_us(&self) -> u64 {
        (self.service + self.delay).as_micros() as u64
    }

    /// The exemplar, `now` being the load's clock when it ended.
    pub(super) fn exemplar(&self, now: Duration, failure: Option<&str>) -> Exemplar {
        let sent = now.saturating_sub(self.service);
        Exemplar {
            request_id: self.request_id.map(str::to_owned),
            at_s: sent.as_micros() as f64 / 1e6,
            latency_ms: self.latency_us() as f64 / 1000.0,
            status: self.status,
            failure: failure.map(str::to_owned),
        }
    }
}

/// One request, as its step's exemplar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exemplar {
    /// The id it carried (none when ids are off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Seconds since the load started when it was sent, to the µs (which orders one
    /// user's requests).
    pub at_s: f64,
    /// Its response time, in ms (µs precision).
    pub latency_ms: f64,
    /// The status it was answered with; none for no answer (a timeout, a refused
    /// connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How it failed, as its step's failures name it; none for a success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl Exemplar {
    fn latency_us(&self) -> u64 {
        (self.latency_ms * 1000.0).round() as u64
    }
}

/// A step's exemplars.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Exemplars {
    /// The slowest answered requests, slowest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slowest: Vec<Exemplar>,
    /// The first failed requests, in the order sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<Exemplar>,
}

impl Exemplars {
    pub fn is_empty(&self) -> bool {
        self.slowest.is_empty() && self.failed.is_empty()
    }

    /// The response time (µs) a request must pass to be among the slowest: 0 until
    /// [`SLOWEST`] are kept. Read on every request, so recording skips the rest.
    pub fn slow_floor_us(&self) -> u64 {
        match self.slowest.len() < SLOWEST {
            true => 0,
            false => self.slowest.last().map_or(0, Exemplar::latency_us),
        }
    }

    /// Keeps `exemplar` if it is among the slowest.
    pub fn slow(&mut self, exemplar: Exemplar) {
        insert(&mut self.slowest, exemplar, SLOWEST, slower_first);
    }

    /// Keeps `exemplar` if it is among the first failed.
    pub fn failed(&mut self, exemplar: Exemplar) {
        insert(&mut self.failed, exemplar, FIRST_FAILED, earlier_first);
    }

    /// Adds another generator's (or a later report's) exemplars: the slowest and the
    /// first of both, each request once.
    pub fn merge(&mut self, other: &Exemplars) {
        for exemplar in &other.slowest {
            self.slow(exemplar.clone());
        }
        for exemplar in &other.failed {
            self.failed(exemplar.clone());
        }
    }
}

fn slower_first(a: &Exemplar, b: &Exemplar) -> std::cmp::Ordering {
    b.latency_ms
        .total_cmp(&a.latency_ms)
        .then(a.at_s.total_cmp(&b.at_s))
}

fn earlier_first(a: &Exemplar, b: &Exemplar) -> std::cmp::Ordering {
    a.at_s.total_cmp(&b.at_s).then(slower_first(a, b))
}

/// `exemplar` into `kept` (ordered by `order`, at most `limit`), unless it is there.
fn insert(
    kept: &mut Vec<Exemplar>,
    exemplar: Exemplar,
    limit: usize,
    order: fn(&Exemplar, &Exemplar) -> std::cmp::Ordering,
) {
    if kept.contains(&exemplar) {
        return;
    }
    let at = kept.partition_point(|k| order(k, &exemplar).is_le());
    if at < limit {
        kept.insert(at, exemplar);
        kept.truncate(limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(id: &str, at_s: f64, latency_ms: f64) -> Exemplar {
        Exemplar {
            request_id: Some(id.into()),
            at_s,
            latency_ms,
            status: Some(200),
            failure: None,
        }
    }

    #[test]
    fn the_slowest_are_kept_slowest_first_and_the_floor_rises_once_full() {
        let mut exemplars = Exemplars::default();
        for (k, latency) in [3.0, 9.0, 1.0, 7.0, 5.0, 2.0, 8.0].into_iter().enumerate() {
            exemplars.slow(request(&format!("r{k}"), k as f64, latency));
            if k == 3 {
                assert_eq!(exemplars.slow_floor_us(), 0, "fewer than {SLOWEST} kept");
            }
        }
        let latencies: Vec<f64> = exemplars.slowest.iter().map(|e| e.latency_ms).collect();
        assert_eq!(latencies, [9.0, 8.0, 7.0, 5.0, 3.0]);
        assert_eq!(exemplars.slow_floor_us(), 3000);
    }

    #[test]
    fn merging_generators_gives_the_exemplars_of_one_that_saw_every_request() {
        let requests: Vec<Exemplar> = (0..40)
            .map(|k| request(&format!("r{k}"), f64::from(k) * 0.25, f64::from((k * 37) % 41)))
            .collect();
        let mut whole = Exemplars::default();
        let mut parts = [Exemplars::default(), Exemplars::default(), Exemplars::default()];
        for (k, exemplar) in requests.into_iter().enumerate() {
            whole.slow(exemplar.clone());
            whole.failed(exemplar.clone());
            parts[k % 3].slow(exemplar.clone());
            parts[k % 3].failed(exemplar);
        }
        let mut merged = Exemplars::default();
        for part in &parts {
            merged.merge(part);
            // A report sent again changes nothing.
            merged.merge(part);
        }
        assert_eq!(merged, whole);
        assert_eq!(merged.failed.len(), FIRST_FAILED);
        assert_eq!(merged.failed[0].request_id.as_deref(), Some("r0"));
    }
}
