//! nginx in front of several backend replicas: round robin over keep-alive
//! connections, passive health checks (a replica that fails is left out for a few
//! seconds and its requests go to the next one), and an access log line per request
//! naming the replica that served it, from which per-instance throughput is counted.

/// `nginx.conf` for `backends` (container names) listening on `port`.
pub fn nginx_config(backends: &[String], port: u16) -> String {
    let servers: String = backends
        .iter()
        .map(|name| format!("    server {name}:{port} max_fails=1 fail_timeout=5s;\n"))
        .collect();
    format!(
        r#"worker_processes auto;
pid /tmp/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
  log_format upstream '$upstream_addr $status';
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

/// Requests per upstream address, from the access log (`ADDR STATUS` lines; a
/// request retried on another replica names both, `A, B`: the last one served it).
pub fn requests_per_upstream(log: &str) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    for line in log.lines() {
        let Some((addresses, _status)) = line.rsplit_once(' ') else {
            continue;
        };
        let served_by = addresses.rsplit(", ").next().unwrap_or(addresses).trim();
        if served_by.contains(':') {
            *counts.entry(served_by.to_owned()).or_insert(0) += 1;
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
        let log = "172.18.0.4:8080 201\n172.18.0.4:8080, 172.18.0.5:8080 200\nnoise\n- 502\n";
        let counts = requests_per_upstream(log);
        assert_eq!(counts.get("172.18.0.4:8080"), Some(&1));
        assert_eq!(counts.get("172.18.0.5:8080"), Some(&1));
        assert_eq!(counts.len(), 2);
    }
}
