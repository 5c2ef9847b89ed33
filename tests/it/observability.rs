//! A deployment the harness did not start, seen from outside: `stack up` keeps one; a run
//! with `--target` and the telemetry flags, or through a real Prometheus scraping real
//! exporters, reports its infrastructure figures; the run's own series reach Prometheus
//! by remote write and by scrape; failures show what the server answered; the live
//! dashboard draws the run in a browser, then its final report.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::harness::{alive, assert_exit, roomy_scenario, stdout, Run, BIN};

/// GET `url`: its status and body, or `None` when nothing answers.
pub(crate) fn get(url: &str) -> Option<(u16, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let response = client.get(url).send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    })
}

/// Waits up to `limit` for `ready` to give a value.
pub(crate) fn wait_for<T>(limit: Duration, what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(started.elapsed() < limit, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A process this test started, ended when the test ends (pass or fail).
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn daemon(command: &mut Command, log: std::fs::File) -> Daemon {
    Daemon(
        command
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the daemon starts"),
    )
}

/// A stack kept by `karigar-perf stack up`, run in the run's folder; asked to tear
/// itself down (SIGTERM) if the test ends before `stack down`.
struct Kept {
    up: Option<Child>,
    record: Value,
}

impl Drop for Kept {
    fn drop(&mut self) {
        if let Some(mut up) = self.up.take() {
            // SAFETY: signalling our own child, which has not been reaped.
            unsafe { libc::kill(up.id() as i32, libc::SIGTERM) };
            let sent = Instant::now();
            while up.try_wait().ok().flatten().is_none() && sent.elapsed() < Duration::from_secs(60) {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = up.kill();
            let _ = up.wait();
        }
    }
}

fn stack_up(run: &Run, extra: &[&str]) -> Kept {
    let log = run.log_file("stack-up.log");
    let up = Command::new(BIN)
        .args(["stack", "up"])
        .args(extra)
        .arg("--report-dir")
        .arg(run.dir.path().join("stack"))
        .current_dir(run.dir.path())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let record_path = run.dir.path().join("reports/stack-up.json");
    let record = wait_for(Duration::from_secs(180), "stack up is ready", || {
        let text = std::fs::read_to_string(&record_path).ok()?;
        serde_json::from_str::<Value>(&text).ok()
    });
    Kept { up: Some(up), record }
}

impl Kept {
    fn field(&self, key: &str) -> String {
        self.record[key].as_str().unwrap().to_owned()
    }

    fn flags(&self) -> Vec<String> {
        self.record["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect()
    }

    fn backend_pid(&self) -> u32 {
        let flags = self.flags();
        let at = flags.iter().position(|f| f == "--backend-pid").unwrap();
        flags[at + 1].parse().unwrap()
    }

    /// `stack down` from the same folder ends it: the `stack up` process exits 0 and
    /// the backend it kept is gone.
    fn down(mut self, run: &Run) {
        let backend = self.backend_pid();
        self.stop(run);
        assert!(!alive(backend), "the kept backend is stopped");
    }

    fn stop(&mut self, run: &Run) {
        let down = Command::new(BIN)
            .args(["stack", "down"])
            .current_dir(run.dir.path())
            .output()
            .unwrap();
        assert_exit(&down, 0);
        let mut up = self.up.take().unwrap();
        let status = wait_for(Duration::from_secs(60), "stack up exits", || {
            up.try_wait().unwrap()
        });
        assert_eq!(status.code(), Some(0), "{}", run.read_log("stack-up.log"));
        assert!(!run.dir.path().join("reports/stack-up.json").exists());
    }
}

fn args<'a>(fixed: &[&'a str], flags: &'a [String]) -> Vec<&'a str> {
    fixed
        .iter()
        .copied()
        .chain(flags.iter().map(String::as_str))
        .collect()
}

#[test]
fn a_kept_stack_is_measured_from_outside_and_its_failures_are_shown() {
    let run = Run::new();
    let kept = stack_up(&run, &[]);
    let flags = kept.flags();
    // Four users keep more than one pool connection busy at once; the latency SLOs are
    // roomy so that only the connection SLO can fail.
    let scenario = crate::common::harness::roomy_signup(&run);
    let output = run.run(&args(
        &[
            &scenario,
            "--duration",
            "5s",
            "--users",
            "4",
            "--slo",
            "db_connections.max <= 1",
        ],
        &flags,
    ));
    assert_exit(&output, 3);
    let summary = run.summary();
    let infra = &summary["infrastructure"];
    crate::common::harness::assert_stack_figures(infra);
    assert!(infra["db_connections_max"].as_f64().unwrap() >= 2.0, "{infra}");
    assert!(infra["hpa"]["peak_replicas"].as_u64().unwrap() >= 2, "{infra}");
    assert_eq!(infra["not_measured"], serde_json::json!([]), "{infra}");
    let failed: Vec<&Value> = summary["slos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["pass"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{}", summary["slos"]);
    assert_eq!(failed[0]["expr"], "db_connections.max <= 1");

    // The target alone: every figure it cannot reach says so.
    let bare = Run::new();
    let target = kept.field("backend");
    let scenario = roomy_scenario(&bare, "signup");
    let output = bare.run(&[&scenario, "--target", &target, "--duration", "2s", "--users", "1"]);
    assert_exit(&output, 0);
    let console = stdout(&output);
    assert!(
        !console.contains("-%") && !console.contains("peak 0 replicas"),
        "{console}"
    );
    assert!(console.contains("backend cpu      not measured"), "{console}");
    let missing = bare.summary()["infrastructure"]["not_measured"].to_string();
    for figure in ["db_connections", "backend_cpu", "backend_memory", "redis", "hpa"] {
        assert!(missing.contains(figure), "{figure}: {missing}");
    }
    assert!(bare.summary()["infrastructure"]["hpa"].is_null());
    for file in ["summary.md", "report.html"] {
        let text = std::fs::read_to_string(bare.report_dir().join(file)).unwrap();
        assert!(
            text.contains("not measured") || text.contains("Not measured"),
            "{file}"
        );
    }

    // A route that does not exist: the 404 and what the server said.
    let missing_route = Run::new();
    let scenario = missing_route.dir.path().join("missing.toml");
    std::fs::write(
        &scenario,
        "name = \"missing\"\n[[steps]]\nname = \"nowhere\"\npath = \"/api/v1/nowhere\"\n",
    )
    .unwrap();
    let output = missing_route.run(&[
        scenario.to_str().unwrap(),
        "--target",
        &target,
        "--duration",
        "2s",
        "--users",
        "2",
        // Failures merge across generators.
        "--generators",
        "2",
    ]);
    assert_exit(&output, 0);
    let failure = &missing_route.summary()["steps"][0]["failures"]["kinds"][0];
    assert_eq!(failure["kind"], "status 404", "{failure}");
    assert!(
        failure["snippet"].as_str().unwrap().contains("not found"),
        "{failure}"
    );
    assert!(failure["count"].as_u64().unwrap() > 10, "{failure}");
    assert!(
        stdout(&output).contains("nowhere: status 404 x"),
        "{}",
        stdout(&output)
    );
    for file in ["summary.md", "report.html"] {
        let text = std::fs::read_to_string(missing_route.report_dir().join(file)).unwrap();
        assert!(
            text.contains("status 404") && text.contains("not found"),
            "{file}"
        );
    }
    crate::reports::assert_matches_schema(&missing_route.summary());
    crate::reports::assert_matches_schema(&bare.summary());
    kept.down(&run);
}

#[test]
fn a_kept_docker_stack_is_measured_through_its_containers() {
    if !crate::common::docker::ready() {
        return;
    }
    let run = Run::new();
    let mut kept = stack_up(&run, &["--stack", "docker", "--profile", "dev"]);
    let flags = kept.flags();
    assert!(flags.iter().any(|f| f == "--backend-container"), "{flags:?}");
    let scenario = roomy_scenario(&run, "signup");
    let output = run.run(&args(&[&scenario, "--duration", "5s", "--users", "2"], &flags));
    assert_exit(&output, 0);
    let infra = &run.summary()["infrastructure"];
    crate::common::harness::assert_stack_figures(infra);
    assert_eq!(infra["not_measured"], serde_json::json!([]), "{infra}");
    assert_eq!(
        infra["cpu_limit_cores"], 0.5,
        "the dev profile's container limit: {infra}"
    );
    kept.stop(&run);
    let label = format!("label=dev.karigar-perf.run={}", kept.field("run_id"));
    let left = Command::new("docker")
        .args(["ps", "-aq", "--filter", &label])
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "no container of the kept stack left");
}

/// Instant query: the result vector.
fn query(prometheus: &str, promql: &str) -> Vec<Value> {
    let url =
        reqwest::Url::parse_with_params(&format!("{prometheus}/api/v1/query"), [("query", promql)]).unwrap();
    let Some((200, body)) = get(url.as_str()) else {
        return Vec::new();
    };
    let answer: Value = serde_json::from_str(&body).unwrap();
    answer["data"]["result"].as_array().cloned().unwrap_or_default()
}

fn value_of(series: &Value) -> f64 {
    series["value"][1].as_str().unwrap().parse().unwrap()
}

/// Prometheus with the Postgres, Redis and process exporters pointed at the kept stack,
/// scraping them (and the harness's `/metrics` at `harness`) every second, and judging
/// the alerting rules of `rules` (files) every second.
struct Monitoring {
    url: String,
    _daemons: Vec<Daemon>,
}

fn monitoring(run: &Run, kept: &Kept, harness: u16, rules: &[std::path::PathBuf]) -> Monitoring {
    let dir = run.dir.path();
    let port = || karigar_perf::stack::free_port().unwrap();
    let (postgres, redis, process, prometheus) = (port(), port(), port(), port());
    std::fs::write(
        dir.join("process.yml"),
        "process_names:\n  - name: backend\n    cmdline:\n      - 'backend$'\n",
    )
    .unwrap();
    let job = |name: &str, port: u16| {
        format!("  - job_name: {name}\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n")
    };
    let rule_files: Vec<String> = rules
        .iter()
        .map(|path| format!("{:?}", path.display().to_string()))
        .collect();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [{}]\nscrape_configs:\n{}{}{}{}",
        rule_files.join(", "),
        job("postgres", postgres),
        job("redis", redis),
        job("process", process),
        job("harness", harness)
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let listen = |port: u16| format!("127.0.0.1:{port}");
    let daemons = vec![
        daemon(
            Command::new("prometheus-postgres-exporter")
                .arg(format!("--web.listen-address={}", listen(postgres)))
                .env(
                    "DATA_SOURCE_NAME",
                    format!("{}?sslmode=disable", kept.field("postgres_url")),
                ),
            run.log_file("postgres-exporter.log"),
        ),
        daemon(
            Command::new("prometheus-redis-exporter")
                .args([
                    "-redis.addr",
                    &kept.field("redis_url"),
                    "-web.listen-address",
                    &listen(redis),
                ])
                .stdin(Stdio::null()),
            run.log_file("redis-exporter.log"),
        ),
        daemon(
            Command::new("prometheus-process-exporter")
                .arg("-config.path")
                .arg(dir.join("process.yml"))
                .args(["-web.listen-address", &listen(process)]),
            run.log_file("process-exporter.log"),
        ),
        daemon(
            Command::new("prometheus")
                .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
                .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
                .arg(format!("--web.listen-address={}", listen(prometheus)))
                .arg("--web.enable-remote-write-receiver"),
            run.log_file("prometheus.log"),
        ),
    ];
    let url = format!("http://127.0.0.1:{prometheus}");
    wait_for(
        Duration::from_secs(90),
        "Prometheus scrapes the three exporters",
        || {
            let up = query(&url, "sum(up{job=~\"postgres|redis|process\"})");
            up.first().filter(|s| value_of(s) == 3.0).map(|_| ())
        },
    );
    Monitoring {
        url,
        _daemons: daemons,
    }
}

/// The (roomy) signup scenario reading the backend's CPU and memory from process-exporter, and
/// (with no Kubernetes here) a replica count of 2 from the two store exporters' `up`.
fn signup_with_process_queries(run: &Run) -> String {
    let path = roomy_scenario(run, "signup");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        "\n[stack.prometheus]\n\
         backend_cpu = 'sum by (groupname) (rate(namedprocess_namegroup_cpu_seconds_total{groupname=\"backend\"}[5s]))'\n\
         backend_memory = 'sum by (groupname) (namedprocess_namegroup_memory_bytes{groupname=\"backend\",memtype=\"resident\"})'\n\
         replicas = 'count(up{job=~\"postgres|redis\"} == 1)'\n",
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn prometheus_gives_the_figures_and_receives_the_runs_series() {
    let run = Run::new();
    let kept = stack_up(&run, &[]);
    let harness = karigar_perf::stack::free_port().unwrap();
    let prometheus = monitoring(&run, &kept, harness, &[]);
    let scenario = signup_with_process_queries(&run);
    let target = kept.field("backend");
    let remote_write = format!("{}/api/v1/write", prometheus.url);
    let listen = format!("127.0.0.1:{harness}");
    let output = run.run(&[
        &scenario,
        "--target",
        &target,
        "--prometheus",
        &prometheus.url,
        "--remote-write",
        &remote_write,
        "--prometheus-listen",
        &listen,
        "--duration",
        "12s",
        "--users",
        "2",
        // The live view reads the coordinator's merged collector.
        "--generators",
        "2",
    ]);
    assert_exit(&output, 0);
    let summary = run.summary();
    let infra = &summary["infrastructure"];
    assert_eq!(infra["not_measured"], serde_json::json!([]), "{infra}");
    crate::common::harness::assert_stack_figures(infra);
    assert_eq!(infra["db_connections_all_instances"], true, "{infra}");
    assert_eq!(infra["redis_aof_ok"], true, "{infra}");
    let observed = infra["replicas_observed"].as_array().unwrap();
    assert!(
        // A scrape that times out on a loaded machine counts an exporter down for a second.
        observed.len() >= 5
            && observed.iter().all(|p| p[1].as_u64() <= Some(2))
            && observed.iter().filter(|p| p[1] == 2).count() * 2 >= observed.len(),
        "{infra}"
    );
    assert!(
        stdout(&output).contains("replicas         observed "),
        "{}",
        stdout(&output)
    );
    let html = std::fs::read_to_string(run.report_dir().join("report.html")).unwrap();
    assert!(
        html.contains("observed") && html.contains("simulated"),
        "both replica lines drawn"
    );

    crate::reports::assert_matches_schema(&summary);
    let run_id = summary["run_id"].as_str().unwrap();
    let pushed = query(
        &prometheus.url,
        &format!("karigar_perf_requests_total{{run_id=\"{run_id}\",job=\"karigar-perf\"}}"),
    );
    let quantiles = query(
        &prometheus.url,
        &format!("karigar_perf_latency_quantile_seconds{{run_id=\"{run_id}\",quantile=\"0.95\",job=\"karigar-perf\"}}"),
    );
    for step in summary["steps"].as_array().unwrap() {
        let name = &step["name"];
        let count = pushed.iter().find(|s| &s["metric"]["step"] == name);
        assert_eq!(
            count.map(value_of),
            step["count"].as_f64(),
            "{name}: the last push holds the final count: {pushed:?}"
        );
        let p95 = quantiles
            .iter()
            .find(|s| &s["metric"]["step"] == name)
            .map(value_of);
        let expected = step["latency_us"]["p95"].as_f64().unwrap() / 1e6;
        assert!(
            p95.is_some_and(|v| (v - expected).abs() <= expected * 1e-3),
            "{name}: p95 {p95:?} s pushed, {expected} s reported"
        );
    }
    // Scraped series go stale once the run (the target) is gone: look back over the run.
    let scraped = query(
        &prometheus.url,
        &format!("last_over_time(karigar_perf_requests_total{{run_id=\"{run_id}\",job=\"harness\"}}[5m])"),
    );
    assert_eq!(
        scraped.len(),
        4,
        "Prometheus scraped /metrics during the run: {scraped:?}"
    );
    kept.down(&run);
}

#[test]
fn the_dashboard_draws_the_run_live_then_shows_its_final_report() {
    let run = Run::new();
    let port = karigar_perf::stack::free_port().unwrap();
    let listen = format!("127.0.0.1:{port}");
    let mut child = run
        .command(&[
            "signup",
            "--duration",
            "20s",
            "--users",
            "2",
            "--dashboard",
            &listen,
            "--dashboard-linger",
            "30s",
        ])
        .stdout(Stdio::null())
        .stderr(run.log_file("run.log"))
        .spawn()
        .unwrap();
    let base = format!("http://{listen}");
    let points = |since: usize| -> Option<Value> {
        let (status, body) = get(&format!("{base}/data?since={since}"))?;
        (status == 200).then(|| serde_json::from_str(&body).unwrap())
    };
    wait_for(
        Duration::from_secs(120),
        "the dashboard has 4 seconds to draw",
        || points(0).filter(|d| d["points"].as_array().unwrap().len() >= 4),
    );
    let (_, page) = get(&format!("{base}/")).unwrap();
    for external in ["<link", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(
            !page.contains(external),
            "the page loads nothing else: {external}"
        );
    }
    let shots: Vec<std::path::PathBuf> = (0..2)
        .map(|i| {
            if i > 0 {
                std::thread::sleep(Duration::from_secs(4));
            }
            let png = run.dir.path().join(format!("dashboard-{i}.png"));
            crate::common::browser::screenshot(&base, &png, &run.dir.path().join(format!("chromium-{i}")));
            png
        })
        .collect();
    for shot in &shots {
        let (inked, total) = crate::common::browser::inked_pixels(shot);
        assert!(
            inked * 100 > total,
            "{}: {inked} of {total} pixels drawn",
            shot.display()
        );
    }
    assert_ne!(
        std::fs::read(&shots[0]).unwrap(),
        std::fs::read(&shots[1]).unwrap(),
        "two screenshots 4 s apart show different data"
    );
    let finished = wait_for(Duration::from_secs(90), "the run ends on the dashboard", || {
        points(0).filter(|d| d["finished"] == true)
    });
    assert!(
        finished["points"].as_array().unwrap().len() >= 15,
        "a point a second"
    );
    assert!(!finished["slos"].as_array().unwrap().is_empty());
    let (status, report) = get(&format!("{base}/report")).unwrap();
    assert_eq!(status, 200);
    assert!(
        report.contains("<svg") && report.contains("signup"),
        "the final report"
    );
    assert!(run.read_log("run.log").contains(&format!("dashboard at {base}/")));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn bad_telemetry_sources_exit_2_before_anything_starts() {
    let run = Run::new();
    let target = "http://127.0.0.1:9";
    for (flags, said) in [
        (
            &["--postgres-url", "http://db"][..],
            "--postgres-url needs a postgres:// URL",
        ),
        (
            &["--redis-url", "db:6379"][..],
            "--redis-url needs a redis:// URL",
        ),
        (
            &["--backend-pid", "4000000000"][..],
            "--backend-pid 4000000000: no such process",
        ),
        (&["--prometheus", "prom:9090"][..], "--prometheus"),
        (&["--remote-write", "nowhere"][..], "--remote-write"),
    ] {
        let output = run.run(&[&["signup", "--target", target][..], flags].concat());
        assert_exit(&output, 2);
        let message = crate::common::harness::stderr(&output);
        assert!(message.contains(said), "{flags:?}: {message}");
    }
    let scenario = run.dir.path().join("typo.toml");
    std::fs::write(
        &scenario,
        "name = \"typo\"\n[[steps]]\nname = \"get\"\npath = \"/\"\n\n[stack.prometheus]\ndb_conections = \"sum(x)\"\n",
    )
    .unwrap();
    let output = run.run(&[scenario.to_str().unwrap(), "--target", target]);
    assert_exit(&output, 2);
    let message = crate::common::harness::stderr(&output);
    assert!(
        message.contains("typo.toml:7") && message.contains("db_connections"),
        "{message}"
    );
}

/// `slo rules` for a scenario whose one SLO is `slo`, written into the run's folder with
/// alerts that fire at once (`--for 0s`); the rules file.
fn rules_for(run: &Run, name: &str, slo: &str) -> (String, std::path::PathBuf) {
    let scenario = roomy_scenario(run, "signup");
    let text = std::fs::read_to_string(&scenario).unwrap();
    let text = text.replacen("name = \"signup\"", &format!("name = \"{name}\""), 1);
    let at = text.find("slos = [").expect("the scenario's SLOs");
    let end = at + text[at..].find(']').unwrap() + 1;
    let text = format!("{}slos = [\"{slo}\"]{}", &text[..at], &text[end..]);
    let path = run.scenario_file(name, &text);
    let out = run.dir.path().join(format!("rules-{name}.yml"));
    let written = Command::new(BIN)
        .args([
            "slo",
            "rules",
            &path,
            "--for",
            "0s",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_exit(&written, 0);
    (path, out)
}

/// Whether Prometheus fired `alert` of `scenario`'s rules in the last 5 minutes.
fn fired(prometheus: &str, alert: &str, scenario: &str) -> bool {
    let promql = format!(
        "max_over_time(ALERTS{{alertname=\"{alert}\",scenario=\"{scenario}\",alertstate=\"firing\"}}[5m])"
    );
    !query(prometheus, &promql).is_empty()
}

/// The connection SLO as an alert in a real Prometheus, over a kept stack measured by
/// postgres_exporter: a run breaching `db_connections.max < 4` (the backend keeps 5
/// connections open) fires its alert; a run holding `db_connections.max < 25` does not.
#[test]
fn the_connection_slos_alert_fires_in_prometheus_during_a_breaching_run_and_not_a_passing_one() {
    let run = Run::new();
    let (tight, tight_rules) = rules_for(&run, "tight", "db_connections.max < 4");
    let (roomy, roomy_rules) = rules_for(&run, "roomy", "db_connections.max < 25");
    let kept = stack_up(&run, &[]);
    let harness = karigar_perf::stack::free_port().unwrap();
    let prometheus = monitoring(&run, &kept, harness, &[tight_rules, roomy_rules]);
    let flags = kept.flags();
    let alert = "KarigarDbConnectionsPerBackend";

    let passing = run.run(&args(&[&roomy, "--duration", "6s", "--users", "2"], &flags));
    assert_exit(&passing, 0);
    assert!(
        !fired(&prometheus.url, alert, "roomy"),
        "silent while the SLO holds"
    );

    let breaching = run.run(&args(&[&tight, "--duration", "6s", "--users", "2"], &flags));
    assert_exit(&breaching, 3);
    let slo = &run.summary()["slos"][0];
    assert_eq!(
        (&slo["expr"], &slo["pass"]),
        (&Value::from("db_connections.max < 4"), &Value::Bool(false))
    );
    wait_for(Duration::from_secs(30), "the alert fires", || {
        fired(&prometheus.url, alert, "tight").then_some(())
    });
    assert!(!fired(&prometheus.url, alert, "roomy"), "still silent at 25");
    kept.down(&run);
}
