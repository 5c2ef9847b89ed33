//! The load profile: the scenario file's `[load]` and the command line's overrides,
//! each value checked where it was written (a file value with its `file:line`, even when
//! a flag overrides it), then combined.

use std::time::Duration;

use toml::Spanned;

use super::model::RawLoad;
use super::rate::{Arrivals, Rate, Share};
use super::source::Source;
use crate::error::{Error, Result};

/// How the load runs: users (or workers), how fast they start, for how long.
#[derive(Clone, Debug)]
pub struct LoadProfile {
    /// Virtual users of the closed model, or the open model's workers.
    pub users: usize,
    /// Users started per second (0: all at once).
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
    /// This generator's part of the schedule (all of it in one process).
    pub share: Share,
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
    /// Most workers the open model may start (by Little's law below that).
    pub max_workers: Option<usize>,
    /// Exactly this many open-model workers, instead of Little's law.
    pub workers: Option<usize>,
    /// Open model: only this part of the schedule (one generator of several).
    pub share: Option<Share>,
    /// Closed model: exactly this many users of each kind, in the plan's order (one
    /// generator's part of users split across several; a kind may get none).
    pub kind_users: Option<Vec<usize>>,
}

const DEFAULT_USERS: usize = 10;
const DEFAULT_DURATION: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Sane bounds: past them a value is a typo, and a run would hang or exhaust memory.
pub const MAX_USERS: usize = 1_000_000;
const MAX_RATE: f64 = 1_000_000.0;
const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// `[load]` as written, every value parsed and checked, none applied yet.
#[derive(Default)]
struct FileLoad {
    users: Option<usize>,
    increase_rate: Option<f64>,
    duration: Option<Duration>,
    test_plan: Option<String>,
    rate: Option<Rate>,
    timeout: Option<Duration>,
}

pub(super) fn resolve_load(
    source: &Source,
    raw: Option<&RawLoad>,
    overrides: &LoadOverrides,
) -> Result<LoadProfile> {
    let file = match raw {
        Some(raw) => check_file(source, raw)?,
        None => FileLoad::default(),
    };
    check_overrides(overrides).map_err(Error::config)?;
    let timeout = file.timeout.unwrap_or(DEFAULT_TIMEOUT);
    if let Some(text) = overrides.test_plan.clone().or(file.test_plan) {
        let stages = parse_test_plan(&text).map_err(|e| Error::config(format!("--test-plan: {e}")))?;
        return Ok(LoadProfile {
            users: stages.iter().map(|(users, _)| *users).max().unwrap_or(0),
            increase_rate: 0.0,
            duration: stages.iter().map(|(_, time)| *time).sum(),
            test_plan: Some(text),
            timeout,
            open: None,
        });
    }
    let rate = match &overrides.rate {
        Some(text) => Some(parse_rate(text).map_err(|e| Error::config(format!("--rate: {e}")))?),
        None => file.rate,
    };
    let open = rate.map(|rate| OpenModel {
        rate,
        arrivals: overrides.arrivals.unwrap_or(Arrivals::Constant),
        share: overrides.share.unwrap_or_default(),
    });
    let users = match open {
        Some(model) => overrides
            .workers
            .unwrap_or_else(|| workers(model.rate, overrides.max_workers.unwrap_or(DEFAULT_MAX_WORKERS))),
        None => overrides.users.or(file.users).unwrap_or(DEFAULT_USERS),
    };
    Ok(LoadProfile {
        users,
        increase_rate: overrides.increase_rate.or(file.increase_rate).unwrap_or(0.0),
        duration: overrides.duration.or(file.duration).unwrap_or(DEFAULT_DURATION),
        test_plan: None,
        timeout,
        open,
    })
}

/// Every value of `[load]`, each error at its own line.
fn check_file(source: &Source, raw: &RawLoad) -> Result<FileLoad> {
    fn at<T, U>(
        source: &Source,
        field: &str,
        value: &Option<Spanned<T>>,
        check: impl Fn(&T) -> Result<U, String>,
    ) -> Result<Option<U>> {
        value
            .as_ref()
            .map(|v| {
                check(v.get_ref())
                    .map_err(|why| source.error_at(v.span().start, format!("load.{field}: {why}")))
            })
            .transpose()
    }
    Ok(FileLoad {
        users: at(source, "users", &raw.users, |&n| check_users(n))?,
        increase_rate: at(source, "increase_rate", &raw.increase_rate, |&r| {
            check_increase_rate(r)
        })?,
        duration: at(source, "duration", &raw.duration, |t| check_duration(t))?,
        test_plan: at(source, "test_plan", &raw.test_plan, |t| {
            parse_test_plan(t).map(|_| t.clone())
        })?,
        rate: at(source, "rate", &raw.rate, |t| parse_rate(t))?,
        timeout: at(source, "timeout", &raw.timeout, |t| check_timeout(t))?,
    })
}

/// The command line's values, checked as the file's are.
fn check_overrides(overrides: &LoadOverrides) -> Result<(), String> {
    let flag = |name: &str, why: String| format!("--{name}: {why}");
    if let Some(users) = overrides.users {
        check_users(users).map_err(|why| flag("users", why))?;
    }
    if let Some(rate) = overrides.increase_rate {
        check_increase_rate(rate).map_err(|why| flag("increase-rate", why))?;
    }
    if let Some(duration) = overrides.duration {
        check_length(duration).map_err(|why| flag("duration", why))?;
    }
    for (name, value) in [
        ("max-workers", overrides.max_workers),
        ("workers", overrides.workers),
    ] {
        if let Some(n) = value {
            check_users(n).map_err(|why| flag(name, why))?;
        }
    }
    Ok(())
}

fn check_users(users: usize) -> Result<usize, String> {
    match users {
        0 => Err("users must be at least 1".into()),
        n if n > MAX_USERS => Err(format!(
            "{n} users is more than the {MAX_USERS} one harness can run"
        )),
        n => Ok(n),
    }
}

fn check_increase_rate(rate: f64) -> Result<f64, String> {
    if rate.is_finite() && (0.0..=MAX_RATE).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!(
            "{rate} is not a number of users per second from 0 to {MAX_RATE}"
        ))
    }
}

fn check_duration(text: &str) -> Result<Duration, String> {
    parse_duration(text).and_then(check_length)
}

fn check_length(duration: Duration) -> Result<Duration, String> {
    if duration < Duration::from_secs(1) || duration > MAX_DURATION {
        return Err(format!(
            "duration must be from 1s to 7days, not {}",
            humantime::format_duration(duration)
        ));
    }
    Ok(duration)
}

fn check_timeout(text: &str) -> Result<Duration, String> {
    let timeout = parse_duration(text)?;
    if timeout < Duration::from_millis(1) || timeout > MAX_TIMEOUT {
        return Err(format!(
            "timeout must be from 1ms to 1h, not {}",
            humantime::format_duration(timeout)
        ));
    }
    Ok(timeout)
}

/// Most open-model workers unless `--max-workers` says otherwise.
const DEFAULT_MAX_WORKERS: usize = 1000;
/// The latency workers are sized for: the seed's 500 ms SLO, twice over for headroom.
const SIZING_LATENCY_S: f64 = 2.0 * crate::policy::RESPONSE_MS / 1000.0;

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
    if rate.peak() > MAX_RATE {
        return Err(format!("{text:?}: more than {MAX_RATE}/s is beyond one harness"));
    }
    Ok(rate)
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
            let users: usize = users
                .trim()
                .parse()
                .map_err(|_| format!("stage {stage:?}: {users:?} is not a number of users"))?;
            if users > MAX_USERS {
                return Err(format!("stage {stage:?}: more than {MAX_USERS} users"));
            }
            Ok((users, parse_duration(time)?))
        })
        .collect::<Result<Vec<_>, String>>()?;
    if stages.iter().all(|(users, _)| *users == 0) {
        return Err(format!("{text:?} never starts a user"));
    }
    if stages.iter().map(|(_, time)| *time).sum::<Duration>() > MAX_DURATION {
        return Err(format!("{text:?} lasts longer than 7 days"));
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
