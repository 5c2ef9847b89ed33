//! The load profile: scenario file `[load]` plus command-line overrides, resolved and
//! checked once.

use std::time::Duration;

use super::model::RawLoad;
use super::source::Source;
use crate::error::{Error, Result};
use crate::load::pacer::{Arrivals, Rate};

/// The closed-model load: how many users, how fast they start, for how long.
#[derive(Clone, Debug)]
pub struct Load {
    pub users: usize,
    /// Users started per second.
    pub increase_rate: f64,
    pub duration: Duration,
    /// A Goose test plan (`"users,time;..."`); when set it replaces the three above.
    pub test_plan: Option<String>,
    pub timeout: Duration,
    /// The open model, when a rate is given: iterations start on a schedule and
    /// `users` is the number of workers that take them.
    pub open: Option<OpenModel>,
}

/// Iterations on a schedule (`--rate`), whatever the server does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OpenModel {
    pub rate: Rate,
    pub arrivals: Arrivals,
}

/// Load settings given on the command line; each one beats the scenario file.
#[derive(Clone, Debug, Default)]
pub struct LoadOverrides {
    pub users: Option<usize>,
    pub increase_rate: Option<f64>,
    pub duration: Option<Duration>,
    pub test_plan: Option<String>,
    pub rate: Option<String>,
    pub arrivals: Option<Arrivals>,
    /// Most workers the open model may start.
    pub max_workers: Option<usize>,
}

const DEFAULT_USERS: usize = 10;
const DEFAULT_DURATION: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub(super) fn resolve_load(
    source: &Source,
    raw: Option<&toml::Spanned<RawLoad>>,
    overrides: &LoadOverrides,
) -> Result<Load> {
    let default = RawLoad::default();
    let (file, offset) = raw
        .map(|r| (r.get_ref(), r.span().start))
        .unwrap_or((&default, 0));
    let from_file = |field: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(parse_duration)
            .transpose()
            .map_err(|e| source.error_at(offset, format!("load.{field}: {e}")))
    };
    let test_plan = overrides.test_plan.clone().or_else(|| file.test_plan.clone());
    if let Some(text) = &test_plan {
        let stages = parse_test_plan(text).map_err(|why| Error::config(format!("test plan: {why}")))?;
        return Ok(Load {
            users: stages.iter().map(|(users, _)| *users).max().unwrap_or(0),
            increase_rate: 0.0,
            duration: stages.iter().map(|(_, time)| *time).sum(),
            test_plan,
            timeout: from_file("timeout", &file.timeout)?.unwrap_or(DEFAULT_TIMEOUT),
            open: None,
        });
    }
    let open = match overrides.rate.as_deref().or(file.rate.as_deref()) {
        Some(text) => Some(OpenModel {
            rate: parse_rate(text).map_err(|why| match overrides.rate {
                Some(_) => Error::config(format!("--rate: {why}")),
                None => source.error_at(offset, format!("load.rate: {why}")),
            })?,
            arrivals: overrides.arrivals.unwrap_or(Arrivals::Constant),
        }),
        None => None,
    };
    let load = Load {
        users: overrides.users.or(file.users).unwrap_or(DEFAULT_USERS),
        increase_rate: overrides.increase_rate.or(file.increase_rate).unwrap_or(0.0),
        duration: match overrides.duration {
            Some(d) => d,
            None => from_file("duration", &file.duration)?.unwrap_or(DEFAULT_DURATION),
        },
        test_plan: None,
        timeout: from_file("timeout", &file.timeout)?.unwrap_or(DEFAULT_TIMEOUT),
        open,
    };
    check_load(&load).map_err(Error::config)?;
    Ok(match open {
        Some(model) => Load {
            users: workers(model.rate, overrides.max_workers.unwrap_or(DEFAULT_MAX_WORKERS)),
            ..load
        },
        None => load,
    })
}

/// Most open-model workers unless `--max-workers` says otherwise.
const DEFAULT_MAX_WORKERS: usize = 1000;
/// The latency workers are sized for: the seed's 500 ms SLO, twice over for headroom.
const SIZING_LATENCY_S: f64 = 1.0;

/// Workers for a rate by Little's law: arrivals per second times the time each one
/// keeps a worker busy (sized for twice the seed's 500 ms), capped.
pub fn workers(rate: Rate, cap: usize) -> usize {
    ((rate.peak() * SIZING_LATENCY_S).ceil() as usize + 1).clamp(1, cap.max(1))
}

/// `"50/s"` (constant) or `"10/s..200/s over 5m"` (a linear ramp, then the end rate).
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    let per_second = |part: &str| -> Result<f64, String> {
        let number = part.trim().strip_suffix("/s").unwrap_or(part.trim());
        match number.trim().parse::<f64>() {
            Ok(value) if value >= 0.0 && value.is_finite() => Ok(value),
            _ => Err(format!("{part:?} is not a rate such as 50/s")),
        }
    };
    let rate = match text.split_once("..") {
        None => Rate::constant(per_second(text)?),
        Some((start, rest)) => {
            let (end, over) = rest
                .split_once(" over ")
                .ok_or_else(|| format!("{text:?}: a ramp is written 10/s..200/s over 5m"))?;
            Rate {
                start: per_second(start)?,
                end: per_second(end)?,
                ramp: parse_duration(over)?,
            }
        }
    };
    if rate.peak() <= 0.0 || rate.end <= 0.0 {
        return Err(format!("{text:?}: the rate must end above 0/s"));
    }
    Ok(rate)
}

fn check_load(load: &Load) -> Result<(), String> {
    if load.users == 0 {
        return Err("users must be at least 1".into());
    }
    if load.duration < Duration::from_secs(1) {
        return Err(format!(
            "duration must be at least 1s, not {}",
            humantime::format_duration(load.duration)
        ));
    }
    if !(load.increase_rate >= 0.0 && load.increase_rate.is_finite()) {
        return Err("increase-rate must be a positive number of users per second".into());
    }
    Ok(())
}

/// A Goose test plan, `USERS,TIME;USERS,TIME;...`: each stage moves to USERS users
/// over TIME. Returns the stages.
pub fn parse_test_plan(text: &str) -> Result<Vec<(usize, Duration)>, String> {
    let stages = text
        .split(';')
        .filter(|stage| !stage.trim().is_empty())
        .map(|stage| {
            let (users, time) = stage
                .split_once(',')
                .ok_or_else(|| format!("stage {stage:?} is not USERS,TIME (e.g. 10,30s)"))?;
            let users = users
                .trim()
                .parse()
                .map_err(|_| format!("stage {stage:?}: {users:?} is not a number of users"))?;
            Ok((users, parse_duration(time)?))
        })
        .collect::<Result<Vec<_>, String>>()?;
    if stages.iter().all(|(users, _)| *users == 0) {
        return Err(format!("{text:?} never starts a user"));
    }
    Ok(stages)
}

/// `"30s"`, `"500ms"`, `"1m30s"`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration ({e}); write e.g. 30s, 500ms, 2m"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_constant_or_ramps() {
        assert_eq!(parse_rate("50/s"), Ok(Rate::constant(50.0)));
        assert_eq!(parse_rate("12.5"), Ok(Rate::constant(12.5)));
        assert_eq!(
            parse_rate("10/s..200/s over 5m"),
            Ok(Rate {
                start: 10.0,
                end: 200.0,
                ramp: Duration::from_secs(300)
            })
        );
        assert!(parse_rate("fast").unwrap_err().contains("not a rate"));
        assert!(parse_rate("10/s..20/s").unwrap_err().contains("over 5m"));
        assert!(parse_rate("0/s").unwrap_err().contains("above 0/s"));
        assert_eq!(workers(Rate::constant(50.0), 1000), 51);
        assert_eq!(workers(Rate::constant(5000.0), 200), 200);
    }

    #[test]
    fn test_plans_give_stages() {
        let stages = parse_test_plan("10,10s;10,1m;0,5s").unwrap();
        assert_eq!(
            stages,
            [
                (10, Duration::from_secs(10)),
                (10, Duration::from_secs(60)),
                (0, Duration::from_secs(5))
            ]
        );
        assert!(parse_test_plan("10;5s").unwrap_err().contains("USERS,TIME"));
        assert!(parse_test_plan("ten,5s").unwrap_err().contains("number of users"));
        assert!(parse_test_plan("0,5s").unwrap_err().contains("never starts"));
        assert!(parse_test_plan("5,5x").unwrap_err().contains("not a duration"));
    }
}
