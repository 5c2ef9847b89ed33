//! The open model's schedule: when each iteration is meant to start, whatever the
//! server does. A pure function of the rate profile and an iteration's position
//! ([`intended_start`]) and a shared [`Pacer`] that hands the next start to whichever
//! worker is free. Latency is then measured from the intended start, so a server that
//! stalls is charged for every arrival it kept waiting (no coordinated omission).

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub(super) use crate::scenario::{Arrivals, Rate, Share};

/// When the iteration at `position` (the n-th, counting from 0; for Poisson arrivals
/// the running sum of exponential gaps) is meant to start: the `t` at which the
/// rate's integral reaches `position`. `None` if it never does (a rate of zero).
pub fn intended_start(rate: &Rate, position: f64) -> Option<Duration> {
    let ramp = rate.ramp.as_secs_f64();
    let in_ramp = rate.iterations_by(ramp);
    let seconds = if position <= in_ramp && ramp > 0.0 {
        // start*t + slope*t^2/2 = position, for the root in [0, ramp].
        let slope = (rate.end - rate.start) / ramp;
        if slope.abs() < 1e-12 {
            position / rate.start
        } else {
            let discriminant = rate.start * rate.start + 2.0 * slope * position;
            (discriminant.max(0.0).sqrt() - rate.start) / slope
        }
    } else {
        ramp + (position - in_ramp) / rate.end
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// One scheduled iteration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slot {
    pub index: u64,
    /// Since the load started.
    pub intended: Duration,
}

/// Hands out the schedule's slots in order, until `duration`.
pub struct Pacer {
    rate: Rate,
    arrivals: Arrivals,
    duration: Duration,
    share: Share,
    state: Mutex<PacerState>,
}

struct PacerState {
    /// The next slot of the whole schedule, and its position.
    next: u64,
    position: f64,
    /// Slots handed out by this pacer (its share of them).
    taken: u64,
    rng: StdRng,
}

impl Pacer {
    /// The whole schedule: every slot.
    pub fn new(rate: Rate, arrivals: Arrivals, duration: Duration) -> Self {
        Self::shared(rate, arrivals, duration, Share::default())
    }

    /// `share` of the schedule: every generator walks the same seeded schedule and takes
    /// only its own slots, so the parts add up to exactly one process's schedule.
    pub fn shared(rate: Rate, arrivals: Arrivals, duration: Duration, share: Share) -> Self {
        let mut rng = StdRng::seed_from_u64(0x006b_6172_6967_6172);
        let position = first_position(arrivals, &mut rng);
        Self {
            rate,
            arrivals,
            duration,
            share,
            state: Mutex::new(PacerState {
                next: 0,
                position,
                taken: 0,
                rng,
            }),
        }
    }

    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// When the schedule ends, from the start of the run: no slot is due after it.
    pub fn end(&self) -> Duration {
        self.duration
    }

    /// The next slot, or `None` once the schedule has ended.
    pub fn take(&self) -> Option<Slot> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let intended = intended_start(&self.rate, state.position)?;
            if intended >= self.duration {
                return None;
            }
            let index = state.next;
            state.next += 1;
            let gap = next_gap(self.arrivals, &mut state.rng);
            state.position += gap;
            if self.share.owns(index) {
                state.taken += 1;
                return Some(Slot { index, intended });
            }
        }
    }

    /// Slots handed out so far.
    pub fn taken(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).taken
    }

    /// Iterations of this pacer's share the schedule called for by `elapsed` (never past
    /// its end).
    pub fn due_by(&self, elapsed: Duration) -> u64 {
        let t = elapsed.min(self.duration).as_secs_f64();
        self.share.of_first(self.rate.iterations_by(t).floor() as u64)
    }
}

fn first_position(arrivals: Arrivals, rng: &mut StdRng) -> f64 {
    match arrivals {
        Arrivals::Constant => 0.0,
        Arrivals::Poisson => next_gap(arrivals, rng),
    }
}

/// The distance to the next arrival in units of "expected arrivals": 1 for a timer,
/// an Exp(1) draw for Poisson arrivals.
fn next_gap(arrivals: Arrivals, rng: &mut StdRng) -> f64 {
    match arrivals {
        Arrivals::Constant => 1.0,
        Arrivals::Poisson => -(1.0 - rng.gen::<f64>()).ln(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_of_a_schedule_add_up_to_the_whole() {
        for arrivals in [Arrivals::Constant, Arrivals::Poisson] {
            let duration = Duration::from_secs(3);
            let whole = Pacer::new(Rate::constant(100.0), arrivals, duration);
            let all: Vec<Slot> = std::iter::from_fn(|| whole.take()).collect();
            let mut parts: Vec<Slot> = (0..3)
                .flat_map(|index| {
                    let part =
                        Pacer::shared(Rate::constant(100.0), arrivals, duration, Share { index, of: 3 });
                    let slots: Vec<Slot> = std::iter::from_fn(|| part.take()).collect();
                    assert_eq!(part.taken(), slots.len() as u64);
                    assert_eq!(
                        part.due_by(duration),
                        Share { index, of: 3 }.of_first(whole.due_by(duration))
                    );
                    slots
                })
                .collect();
            parts.sort_by_key(|s| s.index);
            assert_eq!(parts, all, "{arrivals:?}: the parts are the whole schedule");
        }
        let due: u64 = (0..3).map(|index| Share { index, of: 3 }.of_first(301)).sum();
        assert_eq!(due, 301);
    }

    fn secs(s: f64) -> Option<Duration> {
        Some(Duration::from_secs_f64(s))
    }

    fn close(a: Option<Duration>, b: Option<Duration>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => (a.as_secs_f64() - b.as_secs_f64()).abs() < 1e-9,
            (a, b) => a == b,
        }
    }

    #[test]
    fn intended_starts_follow_the_rate_profile() {
        let ramp = Rate {
            start: 0.0,
            end: 10.0,
            ramp: Duration::from_secs(10),
        };
        let table = [
            (Rate::constant(10.0), 0.0, secs(0.0)),
            (Rate::constant(10.0), 5.0, secs(0.5)),
            (Rate::constant(50.0), 100.0, secs(2.0)),
            // 0 -> 10/s over 10 s: N(t) = t^2 / 2.
            (ramp, 2.0, secs(2.0)),
            (ramp, 50.0, secs(10.0)),
            // After the ramp, 10/s on top of the 50 it brought.
            (ramp, 60.0, secs(11.0)),
            // 10 -> 20/s over 10 s: N(t) = 10t + t^2/2; N(2) = 22.
            (
                Rate {
                    start: 10.0,
                    end: 20.0,
                    ramp: Duration::from_secs(10),
                },
                22.0,
                secs(2.0),
            ),
            (Rate::constant(0.0), 1.0, None),
        ];
        for (rate, position, want) in table {
            let got = intended_start(&rate, position);
            assert!(close(got, want), "{rate:?} at {position}: {got:?} != {want:?}");
        }
    }

    #[test]
    fn the_pacer_hands_out_slots_in_order_until_the_end() {
        let pacer = Pacer::new(Rate::constant(4.0), Arrivals::Constant, Duration::from_secs(1));
        let slots: Vec<_> = std::iter::from_fn(|| pacer.take()).collect();
        let starts: Vec<f64> = slots.iter().map(|s| s.intended.as_secs_f64()).collect();
        assert_eq!(starts, [0.0, 0.25, 0.5, 0.75]);
        assert_eq!(slots.last().unwrap().index, 3);
        assert_eq!(pacer.due_by(Duration::from_millis(600)), 2);
        assert_eq!(pacer.due_by(Duration::from_secs(9)), 4);
    }

    #[test]
    fn poisson_arrivals_keep_the_mean_rate() {
        let pacer = Pacer::new(Rate::constant(100.0), Arrivals::Poisson, Duration::from_secs(100));
        let count = std::iter::from_fn(|| pacer.take()).count();
        // 10,000 expected; a Poisson count's standard deviation is 100.
        assert!((9_600..=10_400).contains(&count), "{count}");
    }
}
