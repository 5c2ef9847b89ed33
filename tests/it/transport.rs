//! HTTP/1.1 as the load sends it on each user's own connections, plain and over TLS,
//! against a real nginx (Debian's): redirects in and out of the target's origin, gzipped
//! answers captured from, and a server that closes kept-alive connections every few
//! requests (over TLS, the reconnecting users resume their sessions); and each user's
//! cookies with `--clients per-user`.

use std::path::{Path, PathBuf};

use crate::common::harness::{assert_exit, Run};
use crate::compose::free_port;
use crate::tls::Pki;

/// nginx on two loopback ports: `main` (redirects, gzipped JSON, a kept-alive connection
/// closed after every 3 requests) and `other` (where one redirect leads), over TLS with
/// `pki`'s server certificate when given; each request logged with its port,
/// connection, method, path, status, encoding and whether its TLS session was resumed.
struct Nginx {
    _process: crate::common::nginx::Nginx,
    main: u16,
    other: u16,
    log: PathBuf,
    scheme: &'static str,
}

impl Nginx {
    fn start(dir: &Path, pki: Option<&Pki>) -> Self {
        let (main, other) = (free_port(), free_port());
        let log = dir.join("access.log");
        let (scheme, tls) = match pki {
            Some(pki) => (
                "https",
                format!(
                    " ssl; ssl_certificate {}; ssl_certificate_key {};",
                    pki.path("server.pem"),
                    pki.path("server.key")
                ),
            ),
            None => ("http", ";".to_owned()),
        };
        let http = format!(
            r#"  log_format seen '$server_port $connection $request_method $uri $status $sent_http_content_encoding $ssl_session_reused';
  default_type application/json;
  gzip on; gzip_min_length 1; gzip_types application/json;
  keepalive_requests 3;
  absolute_redirect off;
  server {{
    listen 127.0.0.1:{main}{tls}
    access_log {log} seen;
    location = /start {{ return 302 /landing; }}
    location = /landing {{ return 200 '{{"landed":"yes"}}'; }}
    location = /submit {{ return 307 /accept; }}
    location = /accept {{
      if ($request_method != POST) {{ return 405; }}
      return 200 '{{"accepted":"yes"}}';
    }}
    location = /away {{ return 302 {scheme}://127.0.0.1:{other}/elsewhere; }}
    location = /token {{ return 200 '{{"token":"t-{padding}"}}'; }}
    location = /idle {{ keepalive_timeout 300ms; return 200 '{{"idle":"yes"}}'; }}
  }}
  server {{
    listen 127.0.0.1:{other}{tls}
    access_log {log} seen;
    location = /elsewhere {{ return 200 '{{"elsewhere":"yes"}}'; }}
  }}
"#,
            log = log.display(),
            padding = "abc".repeat(100),
        );
        let config = crate::common::nginx::config(dir, &http);
        Self {
            _process: crate::common::nginx::Nginx::start(dir, &config, &[main, other]),
            main,
            other,
            log,
            scheme,
        }
    }

    /// `scenario` run against `main` with `flags`.
    fn run(&self, run: &Run, scenario: &str, flags: &[&str]) -> std::process::Output {
        let target = format!("{}://127.0.0.1:{}", self.scheme, self.main);
        let mut args = vec![scenario, "--target", &target];
        args.extend_from_slice(flags);
        run.run(&args)
    }

    /// The access log's lines, each split into its fields.
    fn seen(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| line.split(' ').map(str::to_owned).collect())
            .collect()
    }
}

#[test]
fn redirects_gzip_and_closed_connections_reach_every_step_as_a_browser_would() {
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path(), None);
    redirects_gzip_and_closed_connections(&nginx, &[]);
}

#[test]
fn over_tls_too_and_reconnecting_users_resume_their_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::make(dir.path());
    let nginx = Nginx::start(dir.path(), Some(&pki));
    let ca = ["--ca-cert", &pki.path("ca.pem")];
    idle_connections_the_server_closed_lose_no_request(&nginx, &ca);
    let seen = redirects_gzip_and_closed_connections(&nginx, &ca);
    // A connection's requests all log its session as resumed ("r") or not ("."). Each
    // user's first handshake may be a full one; every reconnection resumes (a shared
    // client's pool resumed about 3 in 4 here). The probes' connections are not the load's.
    let mut connections: Vec<(&str, &str)> = seen
        .iter()
        .filter(|f| f[0] == nginx.main.to_string() && !f[3].starts_with("/health") && f[3] != "/idle")
        .map(|f| (f[1].as_str(), f[6].as_str()))
        .collect();
    connections.sort_unstable();
    connections.dedup();
    let full: Vec<&str> = connections
        .iter()
        .filter(|(_, reused)| *reused != "r")
        .map(|(c, _)| *c)
        .collect();
    assert!(
        connections.len() >= 6 && full.len() <= 2 * 2,
        "connections {full:?} of {} did not resume their TLS session",
        connections.len()
    );
}

#[test]
fn idle_connections_the_server_closed_lose_no_request_over_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path(), None);
    idle_connections_the_server_closed_lose_no_request(&nginx, &[]);
}

/// 2 users pausing 600 ms between requests to a server that closes a connection idle
/// for 300 ms: each request finds its connection closed, too soon after its last
/// answer to be checked first (a server's close and a request may cross on the wire),
/// and is sent again on a new one.
fn idle_connections_the_server_closed_lose_no_request(nginx: &Nginx, flags: &[&str]) {
    let run = Run::new();
    let scenario = run.scenario_file(
        "idle",
        "name = \"idle\"\n[load]\nusers = 2\nduration = \"2s\"\n\
         [[steps]]\nname = \"idle\"\npath = \"/idle\"\nexpect = [200]\nthink_time = \"600ms\"\n",
    );
    assert_exit(&nginx.run(&run, &scenario, flags), 0);
    let totals = &run.summary()["totals"];
    assert!(
        totals["count"].as_u64().unwrap() >= 4 && totals["errors"] == 0,
        "{totals}"
    );
    let idle: Vec<Vec<String>> = nginx.seen().into_iter().filter(|f| f[3] == "/idle").collect();
    let mut connections: Vec<&str> = idle.iter().map(|f| f[1].as_str()).collect();
    connections.sort_unstable();
    connections.dedup();
    assert!(
        connections.len() > 2,
        "{} connections for {} requests",
        connections.len(),
        idle.len()
    );
}

/// A run of 2 users through redirects, gzipped answers and connections the server
/// closes after 3 requests, with `flags`: each request answered as a browser would
/// have it. Returns what nginx saw.
fn redirects_gzip_and_closed_connections(nginx: &Nginx, flags: &[&str]) -> Vec<Vec<String>> {
    let run = Run::new();
    let scenario = run.scenario_file(
        "plain",
        "name = \"plain\"\n[load]\nusers = 2\nduration = \"2s\"\n\
         [[steps]]\nname = \"token\"\npath = \"/token\"\nexpect = [200]\ncapture = { token = \"/token\" }\n\
         [[steps]]\nname = \"start\"\npath = \"/start?t={{token}}\"\nexpect = [200]\ncapture = { landed = \"/landed\" }\n\
         [[steps]]\nname = \"submit\"\nmethod = \"POST\"\npath = \"/submit\"\njson = { t = \"{{token}}\" }\n\
         expect = [200]\ncapture = { accepted = \"/accepted\" }\n\
         [[steps]]\nname = \"away\"\npath = \"/away\"\nexpect = [200]\ncapture = { elsewhere = \"/elsewhere\" }\n",
    );
    let output = nginx.run(&run, &scenario, flags);
    assert_exit(&output, 0);
    let totals = &run.summary()["totals"];
    let requests = totals["count"].as_u64().unwrap();
    assert!(requests >= 8 && totals["errors"] == 0, "{totals}");

    let seen = nginx.seen();
    let count = |port: u16, method: &str, path: &str| {
        seen.iter()
            .filter(|f| f[0] == port.to_string() && f[2] == method && f[3] == path)
            .count()
    };
    // Each redirect is followed (a request the run's end cut short excepted): in the
    // target's origin, a 307 repeating the POST, and out of the origin.
    let followed = |from: usize, to: usize| from > 0 && to <= from && from - to <= 2;
    let (start, landing) = (
        count(nginx.main, "GET", "/start"),
        count(nginx.main, "GET", "/landing"),
    );
    assert!(followed(start, landing), "{start} /start, {landing} /landing");
    let (submit, accept) = (
        count(nginx.main, "POST", "/submit"),
        count(nginx.main, "POST", "/accept"),
    );
    assert!(
        followed(submit, accept),
        "{submit} /submit, {accept} POST /accept"
    );
    let (away, elsewhere) = (
        count(nginx.main, "GET", "/away"),
        count(nginx.other, "GET", "/elsewhere"),
    );
    assert!(followed(away, elsewhere), "{away} /away, {elsewhere} /elsewhere");
    // Every token came gzipped, and was captured from the decoded body.
    let tokens: Vec<&Vec<String>> = seen.iter().filter(|f| f[3] == "/token").collect();
    assert!(
        !tokens.is_empty() && tokens.iter().all(|f| f[5] == "gzip"),
        "{tokens:?}"
    );
    // nginx closes a connection after 3 requests: every request still got through
    // (no errors above), and connections were kept for their 3.
    let scenario_paths = ["/token", "/start", "/landing", "/submit", "/accept", "/away"];
    let main: Vec<&Vec<String>> = seen
        .iter()
        .filter(|f| f[0] == nginx.main.to_string() && scenario_paths.contains(&f[3].as_str()))
        .collect();
    let mut connections: Vec<&str> = main.iter().map(|f| f[1].as_str()).collect();
    connections.sort_unstable();
    connections.dedup();
    assert!(
        connections.len() * 3 <= main.len() + 2 * 2,
        "{} connections for {} requests",
        connections.len(),
        main.len()
    );
    seen
}

/// nginx where `/login` sets cookie `session` (the request's id), `/enter` sets it and
/// redirects to `/me`, `/away` redirects to `/me` on a second port (another origin), and
/// `/me` answers 401 without the cookie; each request logged with its port, connection,
/// path, status, the request's id and the session cookie it carried.
fn session_server(dir: &Path) -> (crate::common::nginx::Nginx, u16, PathBuf) {
    let (port, other) = (free_port(), free_port());
    let log = dir.join("sessions.log");
    let http = format!(
        r#"  log_format sessions '$server_port $connection $uri $status $request_id $cookie_session';
  keepalive_requests 100000;
  absolute_redirect off;
  server {{
    listen 127.0.0.1:{port};
    access_log {log} sessions;
    location = /login {{ add_header Set-Cookie "session=$request_id"; return 200 "in\n"; }}
    location = /enter {{ add_header Set-Cookie "session=$request_id"; return 302 /me; }}
    location = /away {{ return 302 http://127.0.0.1:{other}/me; }}
    location = /me {{ if ($cookie_session = "") {{ return 401; }} return 200 "me\n"; }}
  }}
  server {{
    listen 127.0.0.1:{other};
    access_log {log} sessions;
    location = /me {{ if ($cookie_session = "") {{ return 401; }} return 200 "me\n"; }}
  }}
"#,
        log = log.display(),
    );
    let config = crate::common::nginx::config(dir, &http);
    let nginx = crate::common::nginx::Nginx::start(dir, &config, &[port, other]);
    (nginx, port, log)
}

#[test]
fn per_user_clients_keep_each_users_cookies_and_the_shared_client_none() {
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, port, log) = session_server(dir.path());
    let target = format!("http://127.0.0.1:{port}");
    let text = "name = \"session\"\n[load]\nusers = 3\nduration = \"2s\"\n\
                [[steps]]\nname = \"login\"\npath = \"/login\"\nexpect = [200]\n\
                [[steps]]\nname = \"me\"\npath = \"/me\"\nexpect = [200]\n\
                [[steps]]\nname = \"enter\"\npath = \"/enter\"\nexpect = [200]\n\
                [[steps]]\nname = \"away\"\npath = \"/away\"\nexpect = [200]\n";
    let step = |run: &Run, name: &str| {
        let summary = run.summary();
        let step = summary["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
            .clone();
        (step["count"].as_u64().unwrap(), step["errors"].as_u64().unwrap())
    };

    let run = Run::new();
    let scenario = run.scenario_file("session", text);
    assert_exit(
        &run.run(&[&scenario, "--target", &target, "--clients", "per-user"]),
        0,
    );
    for name in ["login", "me", "enter", "away"] {
        let (count, errors) = step(&run, name);
        assert!(count > 0 && errors == 0, "{name}: {errors} of {count} failed");
    }
    // On the target, each /me carried the session its own user's last /login or
    // /enter set (the redirect of /enter carried the cookie its answer set): users, each
    // on its own connection, never see each other's cookies. On the other origin (a
    // redirect there goes through the user's own client) a session was carried too.
    let lines = std::fs::read_to_string(&log).unwrap();
    let mut last_set = std::collections::HashMap::new();
    let (mut checked, mut elsewhere) = (0, 0);
    for fields in lines.lines().map(|l| l.split(' ').collect::<Vec<_>>()) {
        let here = fields[0] == port.to_string();
        match fields[2] {
            "/login" | "/enter" => {
                last_set.insert(fields[1], fields[4]);
            }
            "/me" if here => {
                assert_eq!(last_set.get(fields[1]), Some(&fields[5]), "{fields:?}");
                checked += 1;
            }
            "/me" => {
                assert!(fields[3] == "200" && fields[5] != "-", "{fields:?}");
                elsewhere += 1;
            }
            _ => {} // /away, and the reachability check's
        }
    }
    let (me, _) = step(&run, "me");
    let (enter, _) = step(&run, "enter");
    assert!(
        checked as u64 >= me + enter,
        "{checked} /me lines for {me} + {enter} requests"
    );
    assert!(elsewhere > 0, "no request reached the other origin");

    // The shared client keeps no cookies: every /me is refused.
    let run = Run::new();
    let scenario = run.scenario_file("session", text);
    assert_exit(&run.run(&[&scenario, "--target", &target]), 0);
    let (count, errors) = step(&run, "me");
    assert!(count > 0 && errors == count, "{errors} of {count} /me refused");
}
