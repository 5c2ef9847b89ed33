//! The open model's rate profile and how arrivals are spaced: what a scenario or
//! `--rate` asks for, before the load engine's pacer turns it into a schedule.

use std::time::Duration;

/// Iterations per second over time: `start` at first, moving linearly to `end` over
/// `ramp`, then staying there (a constant rate has `start == end`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub start: f64,
    pub end: f64,
    pub ramp: Duration,
}

impl Rate {
    pub fn constant(per_second: f64) -> Self {
        Self {
            start: per_second,
            end: per_second,
            ramp: Duration::ZERO,
        }
    }

    /// The highest rate of the profile.
    pub fn peak(&self) -> f64 {
        self.start.max(self.end)
    }

    /// Iterations due by `t` seconds: the integral of the rate.
    pub fn iterations_by(&self, t: f64) -> f64 {
        let ramp = self.ramp.as_secs_f64();
        if ramp <= 0.0 {
            return self.end * t;
        }
        if t <= ramp {
            self.start * t + (self.end - self.start) * t * t / (2.0 * ramp)
        } else {
            (self.start + self.end) / 2.0 * ramp + self.end * (t - ramp)
        }
    }
}

/// How arrivals are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// Evenly, as a timer would.
    Constant,
    /// At random, as independent users arrive (exponential gaps, same mean rate).
    Poisson,
}

/// This generator's part of a schedule shared by several: every `of`-th slot from
/// `index` on. The parts add up to the whole schedule exactly, and a Poisson schedule
/// stays the same Poisson schedule (each part is a thinning of one seeded stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Share {
    pub index: u64,
    pub of: u64,
}

impl Default for Share {
    fn default() -> Self {
        Self { index: 0, of: 1 }
    }
}

impl Share {
    /// Whether slot `slot` of the whole schedule is this generator's.
    pub fn owns(&self, slot: u64) -> bool {
        slot % self.of == self.index
    }

    /// How many of the first `slots` slots are this generator's.
    pub fn of_first(&self, slots: u64) -> u64 {
        (slots + self.of - 1 - self.index) / self.of
    }
}
