//! The harness's hot paths, each on its own: what every request costs the generator
//! (recording, rendering a body, capturing from a response, pacing) and what a long
//! run costs at the end (the summary and its reports for an hour of per-second data).
//!
//! `cargo bench -p karigar-perf-benches` runs them; `... -- record` runs one group.

use std::hint::black_box;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

use karigar_perf::load::{intended_start, Pacer};
use karigar_perf::metrics::{Collector, Measurements, RequestOutcome};
use karigar_perf::report::{self, RunFacts, Summary};
use karigar_perf::scenario::{Arrivals, Body, Context, LoadOverrides, Plan, Rate, Source};
use karigar_perf::stack::TargetInfo;
use karigar_perf::telemetry::{DbSample, InstanceSample, RedisSample, Sample, Telemetry};

/// Five GET steps, the shape of the long run the report bench renders.
const FIVE_STEPS: &str = r#"
name = "five"
slos = ["p95 < 500ms", "error_rate < 1%", "p99(a) < 1s"]
[[steps]]
name = "a"
path = "/a"
[[steps]]
name = "b"
path = "/b"
[[steps]]
name = "c"
path = "/c"
[[steps]]
name = "d"
path = "/d"
[[steps]]
name = "e"
path = "/e"
"#;

const AN_HOUR: u64 = 3600;

fn plan(name_or_text: &str) -> Plan {
    let source = if name_or_text.contains("[[steps]]") {
        Source {
            origin: "bench.toml".into(),
            text: name_or_text.into(),
            dir: None,
        }
    } else {
        Source::locate(name_or_text).unwrap()
    };
    Plan::build(&source, &LoadOverrides::default(), &[]).unwrap()
}

fn five_step_collector() -> Collector {
    Collector::new((0..5).map(|i| ("k".to_string(), format!("step{i}"))).collect())
}

/// The `i`-th request of a bench: its step of five and a latency from 200 µs to 50 ms.
fn nth_request(i: u64) -> (usize, Duration) {
    ((i % 5) as usize, Duration::from_micros(200 + (i * 7919) % 50_000))
}

fn record(c: &mut Criterion) {
    let collector = five_step_collector();
    let mut i = 0u64;
    c.bench_function("record a request", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let (step, latency) = nth_request(i);
            collector.record(black_box(step), RequestOutcome::Ok, latency);
        })
    });
    // Every user's task records into one collector: with several threads at once, what
    // a request waits for (the lock, the second that is encoded under it) shows. The
    // time is per request, all threads together.
    for threads in [2u64, 4] {
        let collector = std::sync::Arc::new(five_step_collector());
        c.bench_function(&format!("record a request, {threads} threads"), |b| {
            b.iter_custom(|iters| {
                let each = iters.div_ceil(threads);
                let barrier = std::sync::Arc::new(std::sync::Barrier::new(threads as usize + 1));
                let workers: Vec<_> = (0..threads)
                    .map(|thread| {
                        let (collector, barrier) = (collector.clone(), barrier.clone());
                        std::thread::spawn(move || {
                            barrier.wait();
                            for i in 0..each {
                                let (step, latency) = nth_request(i * threads + thread);
                                collector.record(black_box(step), RequestOutcome::Ok, latency);
                            }
                        })
                    })
                    .collect();
                barrier.wait();
                let started = std::time::Instant::now();
                workers.into_iter().for_each(|w| w.join().unwrap());
                started.elapsed()
            })
        });
    }
}

fn render_body(c: &mut Criterion) {
    let plan = plan("signup");
    let register = &plan.steps[0];
    let Some(Body::Json(template)) = &register.body else {
        panic!("register has a JSON body")
    };
    let mut vars = vec![None; plan.var_names.len()];
    for (index, name) in plan.var_names.iter().enumerate() {
        vars[index] = Some(format!("{name}-value-0123456789"));
    }
    let sequence = AtomicU64::new(0);
    let ctx = Context {
        vars: &vars,
        user: 7,
        iteration: 42,
        run_tag: "abcd1234",
        sequence: &sequence,
    };
    c.bench_function("render the register body", |b| {
        b.iter(|| karigar_perf::load::render_json(black_box(template), &ctx).to_string())
    });
}

fn capture(c: &mut Criterion) {
    let plan = plan("signup");
    let register = &plan.steps[0];
    let body = serde_json::json!({
        "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
        "refresh_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWZyZXNoIn0.c2lnbmF0dXJlMg",
        "token_type": "Bearer",
        "expires_in": 3600,
        "user": {"id": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "email": "a@b.test", "name": "Load Tester", "role": "customer"}
    })
    .to_string()
    .into_bytes();
    let mut vars = vec![None; plan.var_names.len()];
    let headers = reqwest::header::HeaderMap::new();
    c.bench_function("capture two tokens from a JSON response", |b| {
        b.iter(|| {
            assert!(karigar_perf::load::capture(
                register,
                &headers,
                black_box(&body),
                &mut vars
            ))
        })
    });
}

fn pacing(c: &mut Criterion) {
    let ramp = Rate {
        start: 10.0,
        end: 200.0,
        ramp: Duration::from_secs(300),
    };
    let mut position = 0.0;
    c.bench_function("intended start on a ramp", |b| {
        b.iter(|| {
            position += 1.0;
            intended_start(black_box(&ramp), position)
        })
    });
    c.bench_function("take a poisson slot", |b| {
        b.iter_batched(
            || {
                Pacer::new(
                    Rate::constant(1000.0),
                    Arrivals::Poisson,
                    Duration::from_secs(3600),
                )
            },
            |pacer| {
                for _ in 0..1000 {
                    black_box(pacer.take());
                }
            },
            BatchSize::SmallInput,
        )
    });
}

/// An hour of five steps, 20 requests a second each (72,000 latencies per step, every
/// second's histogram kept), and an hour of telemetry.
fn hour_long_run(plan: &Plan) -> (Measurements, Telemetry) {
    let collector = Collector::new(plan.step_keys());
    for second in 0..AN_HOUR {
        for step in 0..plan.steps.len() {
            for k in 0..20 {
                let micros = 1_000 + (second * 37 + k * 911) % 400_000;
                let outcome = match (second + k) % 97 {
                    0 => RequestOutcome::UnexpectedStatus(5),
                    _ => RequestOutcome::Ok,
                };
                collector.record_at(
                    second,
                    step,
                    outcome,
                    Duration::from_micros(micros),
                    Duration::ZERO,
                );
            }
        }
    }
    let measured = Measurements {
        elapsed: Duration::from_secs(AN_HOUR),
        ..collector.measurements()
    };
    (measured, telemetry_hour())
}

/// An hour of telemetry samples, one backend.
fn telemetry_hour() -> Telemetry {
    let samples = (0..AN_HOUR)
        .map(|second| Sample {
            second,
            backends: vec![InstanceSample {
                name: "backend".into(),
                cpu_percent: 40.0 + (second % 30) as f64,
                memory_percent: 12.0,
                rss_bytes: 64 << 20,
            }],
            db: Some(DbSample {
                per_instance: [("127.0.0.1".to_string(), 5 + (second % 7) as u32)].into(),
                active: 3,
                idle: 4,
                idle_in_transaction: 0,
                total: 7,
            }),
            redis: Some(RedisSample {
                used_memory_bytes: 2 << 20,
                maxmemory_bytes: 512 << 20,
                ..Default::default()
            }),
            health_ms: Some(1.2),
            health_detailed_ms: Some(3.4),
            in_flight: 40,
            replicas: None,
        })
        .collect();
    Telemetry {
        cpu_limit_cores: 2.0,
        memory_limit_bytes: 512 << 20,
        max_connections: Some(100),
        samples,
        ..Default::default()
    }
}

fn long_run_report(c: &mut Criterion) {
    let plan = plan(FIVE_STEPS);
    let (measured, telemetry) = hour_long_run(&plan);
    let mut group = c.benchmark_group("an hour of five steps");
    group.sample_size(10);
    group.bench_function("summary, JSON, Markdown and HTML", |b| {
        b.iter(|| {
            let verdicts = karigar_perf::slo::evaluate(&plan.slos, &measured, Some(&telemetry), &[]);
            let target = TargetInfo {
                stack: "local".into(),
                backend: "http://127.0.0.1:1".into(),
                frontend: None,
                http: Vec::new(),
            };
            let facts = RunFacts::new("five-bench".into(), "2026-11-26T00:00:00Z".into(), target);
            let summary = Summary::build(&plan, &measured, Some(&telemetry), verdicts, facts);
            let json = serde_json::to_string_pretty(&summary).unwrap();
            let markdown = report::markdown(&summary);
            let html = report::html(&summary);
            black_box((json.len(), markdown.len(), html.len()))
        })
    });
    group.finish();
}

criterion_group!(benches, record, render_body, capture, pacing, long_run_report);
criterion_main!(benches);
