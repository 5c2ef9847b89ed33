//! SLO expressions: `METRIC[(STEP)] OP VALUE[UNIT]`, e.g. `p95(register) < 500ms`,
//! `error_rate < 1%`, `rps >= 20`. Parsed into typed values; step names are checked
//! against the plan separately, before the run starts.

use std::fmt;

use crate::samples::{Aggregate, SeriesKind, SeriesName, SERIES};

/// Metrics an SLO can name, as users write them.
pub const METRICS: &str = "pNN (p50, p95, p99, p99.9, ...), mean, max, error_rate, rps, requests, errors, \
                           rate_limited, or telemetry SERIES[.AGG] with AGG one of max, min, mean, last, pNN";

#[derive(Clone, Debug, PartialEq)]
pub enum Metric {
    /// A latency percentile, as a quantile in 0..=1.
    Percentile(f64),
    Mean,
    Max,
    /// Failed requests over all requests.
    ErrorRate,
    /// Requests per second over the measured duration.
    Rps,
    Requests,
    Errors,
    /// 429 answers, counted apart from other errors.
    RateLimited,
    /// An aggregate of a telemetry series (`db_connections.max`, `backend.cpu.p95`).
    Telemetry(SeriesName, Aggregate),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

/// How a threshold was written, so observations are reported in the same unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Micros,
    Millis,
    Seconds,
    Percent,
    Fraction,
    PerSecond,
    Count,
}

/// A parsed SLO. `threshold` is in `unit`.
#[derive(Clone, Debug, PartialEq)]
pub struct SloExpr {
    pub text: String,
    pub metric: Metric,
    pub step: Option<String>,
    /// Checked over every sliding window of this many seconds, not the whole run.
    pub window: Option<u64>,
    pub cmp: Cmp,
    pub threshold: f64,
    pub unit: Unit,
}

impl SloExpr {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (lhs, cmp, rhs) = split_comparison(text)?;
        let (lhs, window) = split_window(lhs.trim())?;
        let (metric_text, step) = split_step(lhs)?;
        let metric = Metric::parse(metric_text).ok_or_else(|| {
            format!("unknown metric {metric_text:?} in {text:?}; known: {METRICS}; series: {SERIES}")
        })?;
        if step.is_some() && matches!(metric, Metric::Telemetry(..)) {
            return Err(format!(
                "{metric_text} is telemetry and takes no step, in {text:?}"
            ));
        }
        if window.is_some() && matches!(metric, Metric::Telemetry(..)) {
            return Err(format!(
                "windows apply to request metrics, not telemetry, in {text:?}"
            ));
        }
        let (threshold, unit) =
            parse_value(&metric, rhs.trim()).map_err(|why| format!("{why} in {text:?}"))?;
        Ok(Self {
            text: text.trim().to_owned(),
            metric,
            step,
            window,
            cmp,
            threshold,
            unit,
        })
    }
}

impl Cmp {
    pub fn holds(self, observed: f64, threshold: f64) -> bool {
        match self {
            Self::Lt => observed < threshold,
            Self::Le => observed <= threshold,
            Self::Gt => observed > threshold,
            Self::Ge => observed >= threshold,
            Self::Eq => (observed - threshold).abs() < f64::EPSILON,
        }
    }
}

impl Unit {
    /// Converts a value in the metric's base unit (µs, fraction, /s, count) to this unit.
    pub fn from_base(self, value: f64) -> f64 {
        match self {
            Self::Millis => value / 1e3,
            Self::Seconds => value / 1e6,
            Self::Percent => value * 100.0,
            Self::Micros | Self::Fraction | Self::PerSecond | Self::Count => value,
        }
    }

    /// Converts a value in this unit to the metric's base unit.
    pub fn to_base(self, value: f64) -> f64 {
        match self {
            Self::Millis => value * 1e3,
            Self::Seconds => value * 1e6,
            Self::Percent => value / 100.0,
            Self::Micros | Self::Fraction | Self::PerSecond | Self::Count => value,
        }
    }

    pub fn suffix(self) -> &'static str {
        match self {
            Self::Micros => "us",
            Self::Millis => "ms",
            Self::Seconds => "s",
            Self::Percent => "%",
            Self::PerSecond => "/s",
            Self::Fraction | Self::Count => "",
        }
    }
}

impl Metric {
    fn parse(text: &str) -> Option<Self> {
        if let Some(series) = SeriesName::parse(text) {
            return Some(Self::Telemetry(series, Aggregate::Max));
        }
        if let Some((series, aggregate)) = text.rsplit_once('.') {
            if let (Some(series), Some(aggregate)) = (SeriesName::parse(series), Aggregate::parse(aggregate))
            {
                return Some(Self::Telemetry(series, aggregate));
            }
        }
        Some(match text {
            "mean" | "avg" => Self::Mean,
            "max" => Self::Max,
            "error_rate" => Self::ErrorRate,
            "rps" => Self::Rps,
            "requests" => Self::Requests,
            "errors" => Self::Errors,
            "rate_limited" => Self::RateLimited,
            _ => {
                let number: f64 = text.strip_prefix('p')?.parse().ok()?;
                // p999 means 99.9, as HdrHistogram users write it.
                let percent = if number >= 100.0 && text.len() > 3 && !text.contains('.') {
                    number / 10f64.powi(text.len() as i32 - 3)
                } else {
                    number
                };
                if !(0.0..=100.0).contains(&percent) {
                    return None;
                }
                Self::Percentile(percent / 100.0)
            }
        })
    }

    fn is_latency(&self) -> bool {
        match self {
            Self::Telemetry(series, _) => series.kind() == SeriesKind::Latency,
            other => matches!(other, Self::Percentile(_) | Self::Mean | Self::Max),
        }
    }

    fn is_fraction(&self) -> bool {
        match self {
            Self::Telemetry(series, _) => series.kind() == SeriesKind::Fraction,
            other => *other == Self::ErrorRate,
        }
    }

    fn is_count(&self) -> bool {
        match self {
            Self::Telemetry(series, _) => series.kind() == SeriesKind::Count,
            other => matches!(other, Self::Requests | Self::Errors | Self::RateLimited),
        }
    }
}

impl fmt::Display for Cmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Eq => "==",
        })
    }
}

fn split_comparison(text: &str) -> Result<(&str, Cmp, &str), String> {
    for (token, cmp) in [
        ("<=", Cmp::Le),
        (">=", Cmp::Ge),
        ("==", Cmp::Eq),
        ("<", Cmp::Lt),
        (">", Cmp::Gt),
    ] {
        if let Some((lhs, rhs)) = text.split_once(token) {
            return Ok((lhs, cmp, rhs));
        }
    }
    Err(format!("{text:?} has no comparison (one of < <= > >= ==)"))
}

/// Longest window an SLO may use: the collector keeps this many seconds of histograms.
pub const MAX_WINDOW_S: u64 = 60;

/// `p95(register)[10s]` -> (`p95(register)`, 10).
fn split_window(lhs: &str) -> Result<(&str, Option<u64>), String> {
    let Some(open) = lhs.rfind('[') else {
        return Ok((lhs, None));
    };
    let inner = lhs[open + 1..]
        .strip_suffix(']')
        .ok_or_else(|| format!("missing `]` after the window in {lhs:?}"))?;
    let window = humantime::parse_duration(inner.trim())
        .map_err(|_| format!("window {inner:?} is not a duration such as 10s"))?
        .as_secs();
    if !(1..=MAX_WINDOW_S).contains(&window) {
        return Err(format!("window {inner:?} must be from 1s to {MAX_WINDOW_S}s"));
    }
    Ok((lhs[..open].trim_end(), Some(window)))
}

fn split_step(lhs: &str) -> Result<(&str, Option<String>), String> {
    match lhs.split_once('(') {
        None => Ok((lhs, None)),
        Some((metric, rest)) => {
            let step = rest
                .strip_suffix(')')
                .ok_or_else(|| format!("missing `)` after the step name in {lhs:?}"))?
                .trim();
            if step.is_empty() {
                return Err(format!("empty step name in {lhs:?}"));
            }
            Ok((metric.trim(), Some(step.to_owned())))
        }
    }
}

fn parse_value(metric: &Metric, rhs: &str) -> Result<(f64, Unit), String> {
    let split = rhs
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(rhs.len());
    let (number, unit) = (rhs[..split].trim(), rhs[split..].trim());
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{rhs:?} does not start with a number"))?;
    let unit = match (metric, unit) {
        (m, "us" | "µs") if m.is_latency() => Unit::Micros,
        (m, "ms") if m.is_latency() => Unit::Millis,
        (m, "s") if m.is_latency() => Unit::Seconds,
        (m, "") if m.is_latency() => return Err("a latency needs a unit (us, ms or s)".into()),
        (m, "%") if m.is_fraction() => Unit::Percent,
        (m, "") if m.is_fraction() => Unit::Fraction,
        (Metric::Rps, "" | "/s") => Unit::PerSecond,
        (m, "") if m.is_count() => Unit::Count,
        (_, unit) => return Err(format!("unit {unit:?} does not fit this metric")),
    };
    Ok((value, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let slo = SloExpr::parse("p95(register) < 500ms").unwrap();
        assert_eq!(slo.metric, Metric::Percentile(0.95));
        assert_eq!(slo.step.as_deref(), Some("register"));
        assert_eq!((slo.cmp, slo.threshold, slo.unit), (Cmp::Lt, 500.0, Unit::Millis));

        let slo = SloExpr::parse("error_rate<=1%").unwrap();
        assert_eq!(
            (slo.metric, slo.cmp, slo.unit),
            (Metric::ErrorRate, Cmp::Le, Unit::Percent)
        );
        for text in ["p999 < 1s", "p99.9 < 1s"] {
            let Metric::Percentile(q) = SloExpr::parse(text).unwrap().metric else {
                panic!("{text}")
            };
            assert!((q - 0.999).abs() < 1e-12, "{text}: {q}");
        }
        assert_eq!(SloExpr::parse("rps(login) >= 5/s").unwrap().unit, Unit::PerSecond);
    }

    #[test]
    fn telemetry_metrics_take_their_own_units() {
        let slo = SloExpr::parse("db_connections.max <= 25").unwrap();
        assert_eq!(
            slo.metric,
            Metric::Telemetry(SeriesName::DbConnections, Aggregate::Max)
        );
        let slo = SloExpr::parse("backend.cpu.p95 < 70%").unwrap();
        assert_eq!(
            slo.metric,
            Metric::Telemetry(SeriesName::BackendCpu, Aggregate::Percentile(0.95))
        );
        assert_eq!(slo.unit, Unit::Percent);
        let slo = SloExpr::parse("redis.evicted_keys == 0").unwrap();
        assert_eq!(
            slo.metric,
            Metric::Telemetry(SeriesName::RedisEvictedKeys, Aggregate::Max)
        );
        assert_eq!(SloExpr::parse("health.p99 < 1s").unwrap().unit, Unit::Seconds);
        assert!(SloExpr::parse("health.p99 < 1")
            .unwrap_err()
            .contains("needs a unit"));
        assert!(SloExpr::parse("db_connection.max < 5")
            .unwrap_err()
            .contains("unknown metric"));
        assert!(SloExpr::parse("backend.cpu.median < 5%")
            .unwrap_err()
            .contains("unknown metric"));
        let stepped = SloExpr::parse("db_connections(register) < 5").unwrap_err();
        assert!(stepped.contains("takes no step"), "{stepped}");
    }

    #[test]
    fn windows() {
        let slo = SloExpr::parse("p95(register)[10s] < 500ms").unwrap();
        assert_eq!((slo.step.as_deref(), slo.window), (Some("register"), Some(10)));
        assert_eq!(SloExpr::parse("error_rate[1m] < 5%").unwrap().window, Some(60));
        assert_eq!(SloExpr::parse("p95 < 1s").unwrap().window, None);
        assert!(SloExpr::parse("p95[2m] < 1s")
            .unwrap_err()
            .contains("from 1s to 60s"));
        assert!(SloExpr::parse("p95[ten] < 1s")
            .unwrap_err()
            .contains("not a duration"));
        assert!(SloExpr::parse("backend.cpu[10s] < 70%")
            .unwrap_err()
            .contains("not telemetry"));
    }

    #[test]
    fn rejects_with_reasons() {
        assert!(SloExpr::parse("p95(register) 500ms")
            .unwrap_err()
            .contains("no comparison"));
        assert!(SloExpr::parse("p95 < 500").unwrap_err().contains("needs a unit"));
        assert!(SloExpr::parse("latency < 5ms")
            .unwrap_err()
            .contains("unknown metric"));
        assert!(SloExpr::parse("rps < 5ms").unwrap_err().contains("does not fit"));
        assert!(SloExpr::parse("p95(register < 5ms")
            .unwrap_err()
            .contains("missing `)`"));
    }

    #[test]
    fn units_convert_from_base() {
        assert_eq!(Unit::Millis.from_base(1500.0), 1.5);
        assert_eq!(Unit::Percent.from_base(0.25), 25.0);
        assert!(Cmp::Lt.holds(1.0, 2.0) && !Cmp::Lt.holds(2.0, 2.0) && Cmp::Le.holds(2.0, 2.0));
    }
}
