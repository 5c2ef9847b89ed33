//! Which rate to try next: grow geometrically from a start rate until a step fails,
//! then bisect between the best passing and the lowest failing rate until they are
//! within the asked precision. Pure: it only sees rates and pass/fail.

use serde::{Deserialize, Serialize};

/// The lowest rate worth trying, in iterations per second.
const FLOOR: f64 = 0.1;

/// How the search proceeds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchSettings {
    /// The first rate tried, iterations per second.
    pub start: f64,
    /// Each passing step multiplies the rate by this until one fails.
    pub growth: f64,
    /// Bisection stops once the failing rate is within this fraction above the passing one.
    pub precision: f64,
    /// Never offer more than this.
    pub max_rate: f64,
}

/// The search so far.
#[derive(Clone, Debug)]
pub struct Search {
    settings: SearchSettings,
    /// Highest rate that held every SLO.
    passed: Option<f64>,
    /// Lowest rate that did not.
    failed: Option<f64>,
    tried: usize,
}

impl Search {
    pub fn new(settings: SearchSettings) -> Self {
        Self {
            settings,
            passed: None,
            failed: None,
            tried: 0,
        }
    }

    /// The next rate to try, or `None` when the answer is as precise as asked.
    pub fn next(&self) -> Option<f64> {
        let s = self.settings;
        let rate = match (self.passed, self.failed) {
            _ if self.tried == 0 => s.start.min(s.max_rate),
            (Some(pass), None) if pass >= s.max_rate => return None,
            (Some(pass), None) => (pass * s.growth).min(s.max_rate),
            (None, Some(fail)) => fail / s.growth,
            (Some(pass), Some(fail)) if fail <= pass * (1.0 + s.precision) => return None,
            (Some(pass), Some(fail)) => (pass + fail) / 2.0,
            (None, None) => return None,
        };
        let rate = round(rate);
        // Rounding can land on a rate already tried: the answer is as precise as rates go.
        let tried = self.passed == Some(rate) || self.failed == Some(rate);
        (rate >= FLOOR && !tried).then_some(rate)
    }

    /// Records how a step at `rate` fared.
    pub fn record(&mut self, rate: f64, sustainable: bool) {
        self.tried += 1;
        if sustainable {
            self.passed = Some(self.passed.map_or(rate, |p| p.max(rate)));
        } else {
            self.failed = Some(self.failed.map_or(rate, |f| f.min(rate)));
        }
    }

    /// The highest rate that held, so far.
    pub fn passed(&self) -> Option<f64> {
        self.passed
    }

    /// The lowest rate that did not hold, so far.
    pub fn failed(&self) -> Option<f64> {
        self.failed
    }
}

/// Rates are offered to a tenth of an iteration per second (and named so in reports).
fn round(rate: f64) -> f64 {
    (rate * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SearchSettings {
        SearchSettings {
            start: 2.0,
            growth: 2.0,
            precision: 0.1,
            max_rate: 1000.0,
        }
    }

    /// Runs the search against a server that holds up to `capacity` and returns the
    /// rates tried.
    fn tried_against(capacity: f64, settings: SearchSettings) -> Vec<f64> {
        let mut search = Search::new(settings);
        let mut rates = Vec::new();
        while let Some(rate) = search.next() {
            rates.push(rate);
            search.record(rate, rate <= capacity);
            assert!(rates.len() < 50, "the search does not end: {rates:?}");
        }
        rates
    }

    #[test]
    fn grows_geometrically_then_bisects() {
        let rates = tried_against(13.0, settings());
        assert_eq!(rates, vec![2.0, 4.0, 8.0, 16.0, 12.0, 14.0, 13.0]);
    }

    #[test]
    fn the_answer_is_within_the_precision() {
        for capacity in [0.7, 3.3, 13.0, 47.0, 230.0] {
            let mut search = Search::new(settings());
            for _ in 0..50 {
                let Some(rate) = search.next() else { break };
                search.record(rate, rate <= capacity);
            }
            let (pass, fail) = (search.passed().unwrap(), search.failed().unwrap());
            assert!(pass <= capacity && capacity < fail, "{capacity}: {pass}..{fail}");
            assert!(fail <= pass * 1.1 + 0.1, "{capacity}: {pass}..{fail}");
            assert!(search.next().is_none(), "{capacity}: the search did not end");
        }
    }

    #[test]
    fn a_failing_start_goes_down() {
        assert_eq!(tried_against(0.7, settings())[..3], [2.0, 1.0, 0.5]);
    }

    #[test]
    fn stops_at_the_maximum_and_at_the_floor() {
        let capped = SearchSettings {
            max_rate: 10.0,
            ..settings()
        };
        assert_eq!(tried_against(100.0, capped), vec![2.0, 4.0, 8.0, 10.0]);
        let nothing_holds = tried_against(0.0, settings());
        assert_eq!(nothing_holds.last(), Some(&0.1));
    }
}
