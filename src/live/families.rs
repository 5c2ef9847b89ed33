//! The run as Prometheus metric families: per-step request and error counters,
//! latency histograms and quantiles, SLO status, open-model lateness and generator
//! CPU. One list feeds both `/metrics` (OpenMetrics text) and remote write, so the
//! two never disagree. Every series carries the run id and scenario.

use super::state::State;
use crate::metrics::StepMeasurements;

/// Latency bucket bounds in seconds: around the seed's 500 ms threshold, finer below.
const BUCKETS_S: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const QUANTILES: [f64; 4] = [0.5, 0.95, 0.99, 0.999];

/// A metric family: its name (without a counter's `_total`), type, help and samples.
pub struct Family {
    pub name: &'static str,
    pub kind: &'static str,
    pub help: &'static str,
    pub samples: Vec<Point>,
}

/// One sample: the suffix after the family name (`_total`, `_bucket`, ...), its own
/// labels (the run's are added by [`run_labels`]) and value.
pub struct Point {
    pub suffix: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Point {
    fn new(suffix: &'static str, labels: Vec<(&'static str, String)>, value: f64) -> Self {
        Self {
            suffix,
            labels,
            value,
        }
    }
}

/// The labels every series of the run has.
pub fn run_labels(state: &State) -> Vec<(&'static str, String)> {
    vec![
        ("run_id", state.run_id.clone()),
        ("scenario", state.scenario.clone()),
    ]
}

/// Every family, from the state as it is now.
pub fn families(state: &State) -> Vec<Family> {
    let mut out = vec![requests(state), errors(state), latency(state), quantiles(state)];
    out.push(Family {
        name: "karigar_perf_slo_pass",
        kind: "gauge",
        help: "1 while the SLO holds over the run so far, 0 when breached.",
        samples: state
            .slos
            .iter()
            .map(|v| Point::new("", vec![("slo", v.expr.clone())], f64::from(u8::from(v.pass))))
            .collect(),
    });
    out.push(Family {
        name: "karigar_perf_late_starts",
        kind: "counter",
        help: "Open model: iterations that started more than 10 ms after their intended time.",
        samples: vec![Point::new("_total", Vec::new(), state.late_starts as f64)],
    });
    out.push(Family {
        name: "karigar_perf_max_lateness_seconds",
        kind: "gauge",
        help: "Open model: the worst delay of an iteration's start so far.",
        samples: vec![Point::new("", Vec::new(), state.max_lateness_ms / 1000.0)],
    });
    out.push(Family {
        name: "karigar_perf_generator_cpu_seconds",
        kind: "counter",
        help: "CPU time the generating process used since the load started.",
        samples: vec![Point::new("_total", Vec::new(), state.generator_cpu_s)],
    });
    out
}

/// A step's labels: its name, and its kind of user when the scenario has several.
fn step_labels(state: &State, step: &StepMeasurements) -> Vec<(&'static str, String)> {
    let mut labels = vec![("step", step.name.clone())];
    let kinds = &state.measured.steps;
    if kinds.iter().any(|s| s.kind != step.kind) {
        labels.push(("kind", step.kind.clone()));
    }
    labels
}

fn requests(state: &State) -> Family {
    Family {
        name: "karigar_perf_requests",
        kind: "counter",
        help: "Requests sent, by step, whatever their outcome.",
        samples: state
            .measured
            .steps
            .iter()
            .map(|s| Point::new("_total", step_labels(state, s), s.outcomes.total() as f64))
            .collect(),
    }
}

fn errors(state: &State) -> Family {
    Family {
        name: "karigar_perf_errors",
        kind: "counter",
        help: "Requests whose outcome was not ok, by step.",
        samples: state
            .measured
            .steps
            .iter()
            .map(|s| Point::new("_total", step_labels(state, s), s.outcomes.errors() as f64))
            .collect(),
    }
}

/// Cumulative buckets from the step's HDR histogram (µs), with count and sum.
fn latency(state: &State) -> Family {
    let mut samples = Vec::new();
    for step in &state.measured.steps {
        let labels = step_labels(state, step);
        let histogram = &step.latency;
        for bound in BUCKETS_S {
            let upto = (bound * 1e6) as u64;
            let count = if histogram.is_empty() {
                0
            } else {
                histogram.count_between(0, upto)
            };
            let mut with_le = labels.clone();
            with_le.push(("le", bound.to_string()));
            samples.push(Point::new("_bucket", with_le, count as f64));
        }
        let mut inf = labels.clone();
        inf.push(("le", "+Inf".to_owned()));
        samples.push(Point::new("_bucket", inf, histogram.len() as f64));
        samples.push(Point::new("_count", labels.clone(), histogram.len() as f64));
        let sum = histogram.mean() * histogram.len() as f64 / 1e6;
        samples.push(Point::new("_sum", labels, sum));
    }
    Family {
        name: "karigar_perf_latency_seconds",
        kind: "histogram",
        help: "Latency of answered requests by step (from the intended start under --rate).",
        samples,
    }
}

/// Exact quantiles from the HDR histograms, which buckets can only approximate.
fn quantiles(state: &State) -> Family {
    let mut samples = Vec::new();
    for step in state.measured.steps.iter().filter(|s| !s.latency.is_empty()) {
        for q in QUANTILES {
            let mut labels = step_labels(state, step);
            labels.push(("quantile", q.to_string()));
            let value = step.latency.value_at_quantile(q) as f64 / 1e6;
            samples.push(Point::new("", labels, value));
        }
    }
    Family {
        name: "karigar_perf_latency_quantile_seconds",
        kind: "gauge",
        help: "Latency quantiles over the run so far, by step, from HDR histograms (3 significant digits).",
        samples,
    }
}

/// The families as OpenMetrics text, ending with `# EOF`.
pub fn openmetrics(state: &State) -> String {
    let run = run_labels(state);
    let mut out = String::new();
    for family in families(state) {
        out.push_str(&format!(
            "# TYPE {} {}\n# HELP {} {}\n",
            family.name, family.kind, family.name, family.help
        ));
        for point in &family.samples {
            let labels: Vec<String> = run
                .iter()
                .chain(&point.labels)
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            out.push_str(&format!(
                "{}{}{{{}}} {}\n",
                family.name,
                point.suffix,
                labels.join(","),
                number(point.value)
            ));
        }
    }
    out.push_str("# EOF\n");
    out
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Collector, RequestOutcome};
    use std::time::Duration;

    fn state() -> State {
        let steps = vec![("default".to_owned(), "login".to_owned())];
        let collector = std::sync::Arc::new(Collector::new(steps.clone()));
        for ms in [2, 20, 200, 2000] {
            collector.record(0, RequestOutcome::Ok, Duration::from_millis(ms));
        }
        collector.record(0, RequestOutcome::UnexpectedStatus(5), Duration::from_millis(3));
        let feed = crate::live::Feed {
            run_id: "run-1".into(),
            scenario: "sign\"up".into(),
            steps,
            slos: Vec::new(),
            collector: collector.clone(),
            latest: Default::default(),
            limits: (2.0, 1 << 29),
            open_model: false,
        };
        let mut state = State::new(&feed);
        state.tick(&collector, None, &[], 0.5);
        state
    }

    #[test]
    fn counters_buckets_and_quantiles_come_from_the_whole_run() {
        let text = openmetrics(&state());
        let line = |start: &str| {
            text.lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("{start} in\n{text}"))
                .to_owned()
        };
        assert!(line("karigar_perf_requests_total{").ends_with(" 5"), "{text}");
        assert!(line("karigar_perf_errors_total{").ends_with(" 1"));
        assert!(line("karigar_perf_latency_seconds_bucket{run_id=\"run-1\",scenario=\"sign\\\"up\",step=\"login\",le=\"0.005\"}").ends_with(" 2"));
        assert!(line("karigar_perf_latency_seconds_bucket{run_id=\"run-1\",scenario=\"sign\\\"up\",step=\"login\",le=\"+Inf\"}").ends_with(" 5"));
        assert!(line("karigar_perf_latency_seconds_count{").ends_with(" 5"));
        let p99 = line("karigar_perf_latency_quantile_seconds{run_id=\"run-1\",scenario=\"sign\\\"up\",step=\"login\",quantile=\"0.99\"}");
        let value: f64 = p99.rsplit(' ').next().unwrap().parse().unwrap();
        assert!((value - 2.0).abs() < 0.01, "{p99}");
        assert!(text.contains("# TYPE karigar_perf_requests counter\n"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
