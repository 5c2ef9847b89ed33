//! Deployments behind TLS, reached as a user would: a real nginx (Debian's) with a CA,
//! a server certificate and a client-certificate check made here with `rcgen`, and the
//! harness's `--ca-cert`, `--insecure`, `--client-cert`/`--client-key`, `--resolve`,
//! `--header`, `--basic-auth` and `--http2` against it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

use serde_json::Value;

use crate::common::harness::{assert_exit, stderr, stdout, Run};
use crate::compose::free_port;

/// A CA, a server certificate for `localhost`, `karigar.test` and 127.0.0.1 signed by
/// it, and a client certificate signed by it, as PEM files in `dir`.
pub(crate) struct Pki {
    dir: PathBuf,
}

impl Pki {
    pub(crate) fn make(dir: &Path) -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        // Distinct subjects: OpenSSL takes a leaf named like its issuer for self-signed.
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "karigar-perf test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf = |names: &[&str], usage: ExtendedKeyUsagePurpose, name: &str| {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            let mut params = CertificateParams::new(names).unwrap();
            params.extended_key_usages = vec![usage];
            params.distinguished_name.push(rcgen::DnType::CommonName, name);
            let key = KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, &issuer).unwrap();
            std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
            std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
        };
        leaf(
            &["localhost", "karigar.test", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
            "server",
        );
        leaf(&["load-generator"], ExtendedKeyUsagePurpose::ClientAuth, "client");
        std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
        Self {
            dir: dir.to_path_buf(),
        }
    }

    pub(crate) fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// `--ca-cert`, `--client-cert` and `--client-key` with this PKI's files.
    pub(crate) fn client_flags(&self) -> Vec<String> {
        [
            ("--ca-cert", "ca.pem"),
            ("--client-cert", "client.pem"),
            ("--client-key", "client.key"),
        ]
        .iter()
        .flat_map(|(flag, file)| [flag.to_string(), self.path(file)])
        .collect()
    }
}

/// Puts `table` (an `[http]` table) into the scenario `file`, before its `[load]`.
fn add_table(file: &str, table: &str) {
    let text = std::fs::read_to_string(file)
        .unwrap()
        .replace("[load]", &format!("{table}[load]"));
    std::fs::write(file, text).unwrap();
}

/// nginx on two loopback ports: `tls` (HTTP/1.1 and h2, a `karigar.test` server that
/// checks the TLS server name, header and basic-auth locations), `mtls` (a client
/// certificate signed by the CA required, and the same guarded location), each request logged with its protocol,
/// server name and Host.
pub(crate) struct Nginx {
    _process: crate::common::nginx::Nginx,
    pub(crate) tls: u16,
    pub(crate) mtls: u16,
    log: PathBuf,
}

pub(crate) const GATEWAY_KEY: &str = "s3cret-gateway-key";
/// The basic-auth user and password the guarded locations let in.
pub(crate) const GATE_USER: &str = "gate";
pub(crate) const GATE_PASSWORD: &str = "hunter2-basic";
/// What `/issue` gives in a header and a cookie, and `/redeem` wants back.
const CSRF: &str = "csrf-7f6e5d4c";
const SID: &str = "s1d-0a9b8c7d";
/// `gate:hunter2-basic`, base64.
const BASIC: &str = "Basic Z2F0ZTpodW50ZXIyLWJhc2lj";

impl Nginx {
    fn start(pki: &Pki, dir: &Path) -> Self {
        let (tls, mtls) = (free_port(), free_port());
        let log = dir.join("access.log");
        let cert = format!(
            "ssl_certificate {}; ssl_certificate_key {};",
            pki.path("server.pem"),
            pki.path("server.key")
        );
        let http = format!(
            r#"  log_format seen '$server_protocol $ssl_server_name $host $uri $status';
  server {{
    listen 127.0.0.1:{tls} ssl http2 default_server; {cert}
    server_name _;
    access_log {log} seen;
    location / {{ return 200 "any name\n"; }}
    location /named {{ return 421; }}
    location /issue {{
      add_header X-Csrf-Token "{CSRF}";
      add_header Set-Cookie "sid={SID}; Path=/; HttpOnly";
      return 200 "issued\n";
    }}
    location /redeem {{
      if ($http_x_csrf_token != "{CSRF}") {{ return 403; }}
      if ($cookie_sid != "{SID}") {{ return 403; }}
      return 200 "redeemed\n";
    }}
  }}
  server {{
    listen 127.0.0.1:{tls} ssl http2; {cert}
    server_name karigar.test;
    access_log {log} seen;
    location / {{ return 200 "ok\n"; }}
    location /named {{
      if ($ssl_server_name != "karigar.test") {{ return 421; }}
      return 200 "karigar.test\n";
    }}
    location /guarded {{
      if ($http_x_gateway_key != "{GATEWAY_KEY}") {{ return 401; }}
      if ($http_authorization != "{BASIC}") {{ return 401; }}
      return 200 "let in\n";
    }}
    location /health {{
      if ($http_x_gateway_key != "{GATEWAY_KEY}") {{ return 401; }}
      return 200 "healthy\n";
    }}
  }}
  server {{
    listen 127.0.0.1:{mtls} ssl; {cert}
    ssl_client_certificate {ca}; ssl_verify_client on;
    access_log {log} seen;
    location / {{ return 200 "client known\n"; }}
    location /guarded {{
      if ($http_x_gateway_key != "{GATEWAY_KEY}") {{ return 401; }}
      if ($http_authorization != "{BASIC}") {{ return 401; }}
      return 200 "client known, let in\n";
    }}
  }}
"#,
            log = log.display(),
            ca = pki.path("ca.pem"),
        );
        let config = crate::common::nginx::config(dir, &http);
        Self {
            _process: crate::common::nginx::Nginx::start(dir, &config, &[tls, mtls]),
            tls,
            mtls,
            log,
        }
    }

    fn seen(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A scenario of one GET of `path`, checked for a 200, 2 users for 2 s.
pub(crate) fn scenario(run: &Run, path: &str) -> String {
    let file = run.dir.path().join("tls.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"tls\"\nslos = [\"error_rate < 1%\"]\n[load]\nusers = 2\nduration = \"2s\"\n\
             [[steps]]\nname = \"get\"\npath = \"{path}\"\nexpect = [200]\n"
        ),
    )
    .unwrap();
    file.display().to_string()
}

pub(crate) struct Lab {
    _dir: tempfile::TempDir,
    pub(crate) pki: Pki,
    pub(crate) nginx: Nginx,
}

pub(crate) fn lab() -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::make(dir.path());
    let nginx = Nginx::start(&pki, dir.path());
    Lab {
        _dir: dir,
        pki,
        nginx,
    }
}

fn requests(run: &Run) -> (u64, u64) {
    let summary = run.summary();
    let totals = &summary["totals"];
    (
        totals["count"].as_u64().unwrap(),
        totals["errors"].as_u64().unwrap(),
    )
}

fn assert_clean_run(output: &Output, run: &Run) {
    assert_exit(output, 0);
    let (count, errors) = requests(run);
    assert!(count > 0 && errors == 0, "{count} requests, {errors} errors");
}

#[test]
fn an_untrusted_certificate_is_refused_with_a_clear_message_and_trusted_with_its_ca() {
    let lab = lab();
    let target = format!("https://localhost:{}", lab.nginx.tls);
    let run = Run::new();
    let refused = run.run(&[&scenario(&run, "/"), "--target", &target]);
    assert_exit(&refused, 5);
    let message = stderr(&refused);
    assert!(
        message.contains("not trusted") && message.contains("--ca-cert"),
        "{message}"
    );

    let run = Run::new();
    let ca = lab.pki.path("ca.pem");
    let trusted = run.run(&[&scenario(&run, "/"), "--target", &target, "--ca-cert", &ca]);
    assert_clean_run(&trusted, &run);
    let http = run.summary()["target"]["http"].to_string();
    assert!(http.contains("trusts the CA in"), "{http}");

    // The system's roots are trusted as they were found (read once for every client):
    // the CA as the system's only root, no --ca-cert.
    let empty = tempfile::tempdir().unwrap();
    let with_roots = |file: &Path| {
        let run = Run::new();
        let output = run
            .command(&[&scenario(&run, "/"), "--target", &target])
            .env("SSL_CERT_FILE", file)
            .env("SSL_CERT_DIR", empty.path())
            .output()
            .unwrap();
        (run, output)
    };
    let (run, system) = with_roots(Path::new(&ca));
    assert_clean_run(&system, &run);
    // A system with no roots at all trusts nothing, and says so.
    let none = empty.path().join("none.pem");
    std::fs::write(&none, "").unwrap();
    let (_, untrusted) = with_roots(&none);
    assert_exit(&untrusted, 5);
    assert!(
        stderr(&untrusted).contains("not trusted"),
        "{}",
        stderr(&untrusted)
    );

    let run = Run::new();
    let insecure = run.run(&[&scenario(&run, "/"), "--target", &target, "--insecure"]);
    assert_clean_run(&insecure, &run);
    assert!(
        run.summary()["target"]["http"][0]
            .as_str()
            .unwrap()
            .starts_with("INSECURE"),
        "the report says so first"
    );

    // A table that says insecure is overruled by --no-insecure: refused again.
    let run = Run::new();
    let file = scenario(&run, "/");
    add_table(&file, "[http]\ninsecure = true\n");
    assert_clean_run(&run.run(&[&file, "--target", &target]), &run);
    let run = Run::new();
    let verified = run.run(&[&file, "--target", &target, "--no-insecure"]);
    assert_exit(&verified, 5);
    assert!(stderr(&verified).contains("not trusted"), "{}", stderr(&verified));
    assert!(
        stdout(&insecure).contains("http: INSECURE"),
        "{}",
        stdout(&insecure)
    );
}

#[test]
fn a_server_that_requires_a_client_certificate_gets_one() {
    let lab = lab();
    let target = format!("https://localhost:{}", lab.nginx.mtls);
    let ca = lab.pki.path("ca.pem");
    let run = Run::new();
    let without = run.run(&[&scenario(&run, "/"), "--target", &target, "--ca-cert", &ca]);
    // nginx answers 400 to a TLS client without a certificate: reachable, every
    // request an error.
    let (count, errors) = match without.status.code() {
        Some(5) => (0, 0),
        _ => requests(&run),
    };
    assert!(
        without.status.code() == Some(5) || (count > 0 && errors == count),
        "without a client certificate nothing passes: {}",
        stderr(&without)
    );

    let run = Run::new();
    let scenario = scenario(&run, "/");
    let mut args = vec![scenario.as_str(), "--target", &target];
    let flags = lab.pki.client_flags();
    args.extend(flags.iter().map(String::as_str));
    let with = run.run(&args);
    assert_clean_run(&with, &run);
}

/// `header:NAME` and `cookie:NAME` captures take what an answer gave, and a later step
/// sends it back: nginx answers 403 to anything else.
#[test]
fn a_header_and_a_cookie_an_answer_gave_are_captured_and_sent_back() {
    let lab = lab();
    let run = Run::new();
    let file = run.dir.path().join("captures.toml");
    std::fs::write(
        &file,
        "name = \"captures\"\n[load]\nusers = 2\nduration = \"2s\"\n\
         [[steps]]\nname = \"issue\"\npath = \"/issue\"\nexpect = [200]\n\
         capture = { csrf = \"header:x-csrf-token\", sid = \"cookie:sid\" }\n\
         [[steps]]\nname = \"redeem\"\npath = \"/redeem\"\nexpect = [200]\n\
         headers = { \"X-Csrf-Token\" = \"{{csrf}}\", Cookie = \"sid={{sid}}\" }\n",
    )
    .unwrap();
    let output = run.run(&[
        file.to_str().unwrap(),
        "--target",
        &format!("https://localhost:{}", lab.nginx.tls),
        "--ca-cert",
        &lab.pki.path("ca.pem"),
    ]);
    assert_clean_run(&output, &run);
    let steps = run.summary()["steps"].clone();
    let redeemed = steps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "redeem")
        .unwrap()["count"]
        .as_u64()
        .unwrap();
    assert!(redeemed > 0, "{steps}");
}

/// A server that refuses a TLS client without a certificate in the handshake (OpenSSL's
/// `s_server -Verify 1 -verify_return_error`): the run stops before the load, and says
/// what to give.
#[test]
fn a_server_that_refuses_the_handshake_without_a_client_certificate_says_what_to_give() {
    let lab = lab();
    let port = free_port();
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            "-www",
            "-accept",
            &format!("127.0.0.1:{port}"),
        ])
        .args([
            "-cert",
            &lab.pki.path("server.pem"),
            "-key",
            &lab.pki.path("server.key"),
        ])
        .args([
            "-CAfile",
            &lab.pki.path("ca.pem"),
            "-Verify",
            "1",
            "-verify_return_error",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl runs");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        && started.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let run = Run::new();
    let output = run.run(&[
        &scenario(&run, "/"),
        "--target",
        &format!("https://localhost:{port}"),
        "--ca-cert",
        &lab.pki.path("ca.pem"),
    ]);
    let _ = server.kill();
    let _ = server.wait();
    assert_exit(&output, 5);
    assert!(
        stderr(&output)
            .contains("the server asks for a client certificate; give --client-cert FILE --client-key FILE"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn resolve_reaches_the_address_with_the_host_and_server_name_of_the_url() {
    let lab = lab();
    let port = lab.nginx.tls.to_string();
    let ca = lab.pki.path("ca.pem");
    let url = format!("https://karigar.test:{port}");
    let entry = format!("karigar.test:{port}:127.0.0.1");
    let resolved =
        |run: &Run, file: &str| run.run(&[file, "--target", &url, "--resolve", &entry, "--ca-cert", &ca]);
    let run = Run::new();
    let output = resolved(&run, &scenario(&run, "/named"));
    assert_clean_run(&output, &run);
    let seen = lab.nginx.seen();
    assert!(
        seen.lines()
            .any(|l| l.starts_with("HTTP/1.1 karigar.test karigar.test /named 200")),
        "SNI and Host are karigar.test: {seen}"
    );

    // The same from the scenario's [http] table, its CA file beside the scenario.
    let run = Run::new();
    let file = scenario(&run, "/named");
    std::fs::copy(lab.pki.path("ca.pem"), run.dir.path().join("ca.pem")).unwrap();
    let table = format!("[http]\nca_cert = \"ca.pem\"\nresolve = [\"karigar.test:{port}:127.0.0.1\"]\n");
    add_table(&file, &table);
    let output = run.run(&[&file, "--target", &format!("https://karigar.test:{port}")]);
    assert_clean_run(&output, &run);

    // The flag's entry for the same host and port beats the table's (which sends it
    // nowhere); an entry for another port of that host stays beside it, unused.
    let run = Run::new();
    let file = scenario(&run, "/named");
    let table =
        format!("[http]\nresolve = [\"karigar.test:{port}:127.0.0.9\", \"karigar.test:1:127.0.0.9\"]\n");
    add_table(&file, &table);
    let output = resolved(&run, &file);
    assert_clean_run(&output, &run);

    // An entry for the host on another port than the URL's is not for it, as curl's:
    // said, before anything is sent.
    let run = Run::new();
    let other_port = run.run(&[
        &scenario(&run, "/named"),
        "--target",
        &format!("https://karigar.test:{port}"),
        "--resolve",
        "karigar.test:443:127.0.0.1",
        "--ca-cert",
        &ca,
    ]);
    assert_exit(&other_port, 2);
    assert!(
        stderr(&other_port).contains(&format!(
            "--resolve karigar.test:443:127.0.0.1 is for another port than {port}"
        )),
        "{}",
        stderr(&other_port)
    );

    // Without --resolve the name does not resolve: unreachable, exit 5.
    let run = Run::new();
    let unresolved = run.run(&[
        &scenario(&run, "/named"),
        "--target",
        &format!("https://karigar.test:{port}"),
        "--ca-cert",
        &ca,
    ]);
    assert_exit(&unresolved, 5);
}

#[test]
fn headers_and_basic_auth_come_from_the_environment_and_stay_out_of_reports() {
    let lab = lab();
    let port = lab.nginx.tls.to_string();
    let run = Run::new();
    let mut command = run.command(&[
        &scenario(&run, "/guarded"),
        "--target",
        &format!("https://karigar.test:{port}"),
        "--resolve",
        &format!("karigar.test:{port}:127.0.0.1"),
        "--ca-cert",
        &lab.pki.path("ca.pem"),
        "--header",
        "X-Gateway-Key: ${TEST_GATEWAY_KEY}",
        "--basic-auth",
        "gate:${TEST_GATE_PASSWORD}",
        "--http2",
    ]);
    let output = command
        .env("TEST_GATEWAY_KEY", GATEWAY_KEY)
        .env("TEST_GATE_PASSWORD", "hunter2-basic")
        .output()
        .unwrap();
    assert_clean_run(&output, &run);
    assert!(
        lab.nginx
            .seen()
            .lines()
            .any(|l| l.starts_with("HTTP/2.0 karigar.test")),
        "--http2 speaks h2: {}",
        lab.nginx.seen()
    );
    for file in walk(&run.report_dir()) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            !text.contains(GATEWAY_KEY) && !text.contains("hunter2") && !text.contains(BASIC),
            "a secret in {}",
            file.display()
        );
    }
    let summary = run.summary();
    let health: Vec<&Value> = summary["telemetry"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.get("health_ms").filter(|ms| ms.is_number()))
        .collect();
    assert!(
        !health.is_empty(),
        "the health probe reaches /health through the CA, --resolve and the header: {}",
        summary["telemetry"]
    );
    let http = summary["target"]["http"].to_string();
    assert!(
        http.contains("X-Gateway-Key") && http.contains("basic auth as gate"),
        "{http}"
    );

    // An unset variable is a configuration error, before anything is sent.
    let run = Run::new();
    let unset = run.run(&[
        &scenario(&run, "/guarded"),
        "--target",
        &format!("https://karigar.test:{port}"),
        "--header",
        "X-Gateway-Key: ${KARIGAR_PERF_TEST_NOT_SET}",
    ]);
    assert_exit(&unset, 2);
    assert!(stderr(&unset).contains("${KARIGAR_PERF_TEST_NOT_SET} is not set"));
}

pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
