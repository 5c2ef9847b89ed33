//! nginx in front of several backend replicas: round robin over keep-alive
//! connections, passive health checks (a replica that fails is left out for a few
//! seconds and its requests go to the next one), and an access log line per request
//! naming when it ended, every replica it was tried on and how each answered: from it
//! per-instance throughput is counted, and how long the balancer kept sending to a
//! replica that had died.

/// What every configuration here starts with: workers, pid and log where an
/// unprivileged container can write them.
const PREAMBLE: &str = "worker_processes auto;
pid /tmp/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
";

/// `nginx.conf` for `backends` (container names) listening on `port`.
pub(super) fn nginx_config(backends: &[String], port: u16) -> String {
    let servers: String = backends
        .iter()
        .map(|name| format!("    server {name}:{port} max_fails=1 fail_timeout=5s;\n"))
        .collect();
    format!(
        r#"{PREAMBLE}http {{
  log_format upstream '$msec|$upstream_addr|$upstream_status|$status';
  access_log /dev/stdout upstream;
  client_body_temp_path /tmp/nginx-body;
  proxy_temp_path /tmp/nginx-proxy;
  upstream backend {{
{servers}    keepalive 128;
  }}
  server {{
    listen {port};
    location / {{
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_connect_timeout 2s;
      proxy_read_timeout 30s;
      proxy_next_upstream error timeout http_502 http_503;
    }}
  }}
}}
"#
    )
}

/// `nginx.conf` of the edge: the address the load goes to when deploys are planned,
/// never reloaded, passing every request over a connection of its own to the balancer
/// (`router`) that deploys reconfigure.
///
/// Why: when nginx reloads, its old workers close their idle keep-alive connections at
/// once, and a client that sent its next request on one at that instant gets a
/// connection reset (1 in about 6 reloads under 20 users here). The edge keeps the
/// clients' connections; towards the balancer it holds none idle, so a reload has none
/// to close, and new connections go to the new workers.
pub(super) fn edge_config(router: &str, port: u16) -> String {
    format!(
        r#"{PREAMBLE}http {{
  access_log off;
  client_body_temp_path /tmp/nginx-body;
  proxy_temp_path /tmp/nginx-proxy;
  server {{
    listen {port};
    location / {{
      proxy_pass http://{router}:{port};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_connect_timeout 2s;
      proxy_read_timeout 30s;
    }}
  }}
}}
"#
    )
}

/// One access log line: a request that ended at `at_unix_s`, tried on `tried` in turn,
/// each of which answered `answers` (`502`, `504`, or `200` for the last one).
#[derive(Clone, Debug, PartialEq)]
pub struct Attempts {
    pub at_unix_s: f64,
    pub tried: Vec<String>,
    pub answers: Vec<String>,
}

/// The access log's lines; others (nginx's own messages) are left out.
pub fn access_log(log: &str) -> Vec<Attempts> {
    log.lines()
        .filter_map(|line| {
            let mut fields = line.trim().split('|');
            let at_unix_s = fields.next()?.parse().ok()?;
            let tried = fields.next()?.split(", ").map(|a| a.trim().to_owned()).collect();
            let answers = fields
                .next()?
                .split([',', ':', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            Some(Attempts {
                at_unix_s,
                tried,
                answers,
            })
        })
        .collect()
}

/// Requests per upstream address: a request retried on another replica counts for the
/// last one, which served it.
pub(super) fn requests_per_upstream(log: &str) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    for line in access_log(log) {
        if let Some(served_by) = line.tried.last().filter(|a| a.contains(':')) {
            *counts.entry(served_by.clone()).or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_replica_is_an_upstream_server() {
        let config = nginx_config(&["run-backend-1".into(), "run-backend-2".into()], 8080);
        assert!(config.contains("server run-backend-1:8080 max_fails=1"));
        assert!(config.contains("server run-backend-2:8080 max_fails=1"));
        assert!(config.contains("listen 8080;"));
    }

    #[test]
    fn a_retried_request_counts_for_the_replica_that_served_it() {
        let log = "1.5|172.18.0.4:8080|201|201\n2.25|172.18.0.4:8080, 172.18.0.5:8080|502, 200|200\n\
                   noise\n3.0|-|-|502\n";
        let counts = requests_per_upstream(log);
        assert_eq!(counts.get("172.18.0.4:8080"), Some(&1));
        assert_eq!(counts.get("172.18.0.5:8080"), Some(&1));
        assert_eq!(counts.len(), 2);
        let lines = access_log(log);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].at_unix_s, 2.25);
        assert_eq!(lines[1].answers, vec!["502", "200"]);
    }
}
