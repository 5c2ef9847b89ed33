//! How the harness speaks HTTP to a deployment: whom it trusts (`--ca-cert`,
//! `--insecure`), whom it says it is (`--client-cert`/`--client-key`), where names
//! go (`--resolve`), what every request carries (headers, basic auth), and HTTP/2.
//! The same settings make the load's clients and the reachability probes (the harness's
//! `client` builds them), so a deployment behind a TLS ingress is reached the same way
//! by both.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use http::HeaderName;

/// The settings as written, by flags or a scenario's `[http]` table: paths, and values
/// with their `${VAR}`s still in them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HttpOptions {
    pub ca_cert: Option<PathBuf>,
    pub insecure: Option<bool>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub resolve: Vec<Resolve>,
    pub headers: Vec<(String, String)>,
    /// `USER:PASSWORD`.
    pub basic_auth: Option<String>,
    pub http2: Option<bool>,
}

impl HttpOptions {
    /// `self` (the flags) over `under` (the scenario's table), setting by setting; a
    /// header, or a `--resolve` host and port, given in both takes the flag's value.
    pub fn over(self, under: HttpOptions) -> HttpOptions {
        let mut headers = self.headers;
        let unset: Vec<_> = under
            .headers
            .into_iter()
            .filter(|(name, _)| !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
            .collect();
        headers.extend(unset);
        let mut resolve = self.resolve;
        let unset: Vec<_> = under
            .resolve
            .into_iter()
            .filter(|entry| {
                !resolve
                    .iter()
                    .any(|r| r.host == entry.host && r.port == entry.port)
            })
            .collect();
        resolve.extend(unset);
        HttpOptions {
            ca_cert: self.ca_cert.or(under.ca_cert),
            insecure: self.insecure.or(under.insecure),
            client_cert: self.client_cert.or(under.client_cert),
            client_key: self.client_key.or(under.client_key),
            resolve,
            headers,
            basic_auth: self.basic_auth.or(under.basic_auth),
            http2: self.http2.or(under.http2),
        }
    }

    /// The environment variables the `${VAR}`s name, in order, each once.
    pub fn env_names(&self) -> Vec<String> {
        let written = self
            .headers
            .iter()
            .map(|(_, value)| value.as_str())
            .chain(self.basic_auth.as_deref());
        let mut names: Vec<String> = Vec::new();
        for part in written.flat_map(env_parts) {
            if let Ok(EnvPart::Var(name)) = part {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
        }
        names
    }

    /// The flags that say the same, for a process started elsewhere (the coordinator
    /// of a Kubernetes run).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let mut flag = |name: &str, value: Option<String>| {
            args.push(name.to_owned());
            args.extend(value);
        };
        for (name, path) in [
            ("--ca-cert", &self.ca_cert),
            ("--client-cert", &self.client_cert),
            ("--client-key", &self.client_key),
        ] {
            if let Some(path) = path {
                flag(name, Some(path.display().to_string()));
            }
        }
        match self.insecure {
            Some(true) => flag("--insecure", None),
            Some(false) => flag("--no-insecure", None),
            None => {}
        }
        for entry in &self.resolve {
            flag(
                "--resolve",
                Some(format!("{}:{}:{}", entry.host, entry.port, entry.addr)),
            );
        }
        for (name, value) in &self.headers {
            flag("--header", Some(format!("{name}: {value}")));
        }
        if let Some(basic) = &self.basic_auth {
            flag("--basic-auth", Some(basic.clone()));
        }
        match self.http2 {
            Some(true) => flag("--http2", None),
            Some(false) => flag("--no-http2", None),
            None => {}
        }
        args
    }

    /// Files read, `${VAR}`s replaced from the environment. Whether the files hold
    /// certificates and keys a client accepts is the client's to say (the harness's
    /// `client::settings` builds one to check).
    pub fn settings(&self) -> Result<HttpSettings, String> {
        self.settings_in(&Env::Process)
    }

    /// [`settings`](Self::settings), the `${VAR}`s read from `env`.
    pub fn settings_in(&self, env: &Env) -> Result<HttpSettings, String> {
        let identity = match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => Some(Identity {
                cert: read_pem(cert, "--client-cert")?,
                key: read_pem(key, "--client-key")?,
            }),
            (None, None) => None,
            _ => return Err("--client-cert and --client-key go together".to_owned()),
        };
        let headers = self
            .headers
            .iter()
            .map(|(name, value)| Ok((name.clone(), env.expand(value)?)))
            .collect::<Result<Vec<_>, String>>()?;
        let basic_auth = match &self.basic_auth {
            Some(written) => {
                let (user, password) = written
                    .split_once(':')
                    .ok_or_else(|| "basic auth is USER:PASSWORD, e.g. 'gate:${GATE_PASSWORD}'".to_owned())?;
                Some((env.expand(user)?, env.expand(password)?))
            }
            None => None,
        };
        let settings = HttpSettings {
            ca_cert: match &self.ca_cert {
                Some(path) => Some(read_pem(path, "--ca-cert")?),
                None => None,
            },
            insecure: self.insecure.unwrap_or(false),
            identity,
            resolve: self.resolve.clone(),
            headers,
            basic_auth,
            http2: self.http2.unwrap_or(false),
            written: self.clone(),
        };
        Ok(settings)
    }
}

/// The settings, resolved: files read, `${VAR}`s replaced. Header and password values
/// are secrets: [`HttpSettings::describe`] names them, never shows them.
#[derive(Clone, Debug, Default)]
pub struct HttpSettings {
    /// Certificates added to the roots, and the file they came from.
    pub ca_cert: Option<Pem>,
    /// No certificate or host name is checked (a lab's self-signed server).
    pub insecure: bool,
    /// The client certificate and its key, for servers that ask for one (mTLS).
    pub identity: Option<Identity>,
    pub resolve: Vec<Resolve>,
    /// Sent with every request that does not set the header itself.
    pub headers: Vec<(String, String)>,
    /// User and password, as `Authorization: Basic` on every request without one.
    pub basic_auth: Option<(String, String)>,
    /// HTTP/2 only: ALPN `h2` over TLS, prior knowledge over plain HTTP.
    pub http2: bool,
    /// As written: what generators are sent, to resolve in their own environment.
    pub written: HttpOptions,
}

/// A PEM file's bytes and where they came from.
#[derive(Clone, Debug)]
pub struct Pem {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// A client certificate and its private key.
#[derive(Clone, Debug)]
pub struct Identity {
    pub cert: Pem,
    pub key: Pem,
}

/// `HOST:PORT:ADDR`, as curl's `--resolve`: connections to HOST on PORT go to ADDR (on
/// that port) while the request keeps HOST in its URL, `Host` header and TLS server
/// name. Entries for one host on several ports are each for their own port.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resolve {
    pub host: String,
    pub port: u16,
    pub addr: IpAddr,
}

impl Resolve {
    /// curl's rule: an entry is for its host on its port, no other.
    pub fn applies_to(&self, host: &str, port: u16) -> bool {
        self.port == port && self.host.eq_ignore_ascii_case(host)
    }
}

/// Where each of `origins` (URLs) is reached by `resolve`'s entries, as `(host,
/// address)`; origins no entry is for are left to DNS. One client reaches one address
/// per host name, so two origins of one host sent to two addresses are an error.
pub fn routes(resolve: &[Resolve], origins: &[&str]) -> Result<Vec<(String, SocketAddr)>, String> {
    let mut routes: Vec<(String, SocketAddr, &str)> = Vec::new();
    for origin in origins {
        let Some((host, port)) = host_and_port(origin) else {
            continue;
        };
        let Some(entry) = resolve.iter().find(|e| e.applies_to(&host, port)) else {
            continue;
        };
        match routes.iter().find(|(h, _, _)| *h == host) {
            Some((_, addr, other)) if addr.ip() != entry.addr => {
                return Err(format!(
                "--resolve sends {host} to {} for {other} and to {} for {origin}: one client reaches a host \
                     name at one address; give the two a name each",
                addr.ip(),
                entry.addr
            ))
            }
            Some(_) => {}
            None => routes.push((host, SocketAddr::new(entry.addr, port), origin)),
        }
    }
    Ok(routes.into_iter().map(|(host, addr, _)| (host, addr)).collect())
}

/// An origin whose host has entries, none of them for its port: curl would leave it to
/// DNS, which is never what was meant. An error that says both ports.
pub fn unmatched_resolve(resolve: &[Resolve], origins: &[&str]) -> Result<(), String> {
    for (host, port) in origins.iter().filter_map(|o| host_and_port(o)) {
        let entries: Vec<String> = resolve
            .iter()
            .filter(|e| e.host.eq_ignore_ascii_case(&host))
            .map(|e| format!("{}:{}:{}", e.host, e.port, e.addr))
            .collect();
        if !entries.is_empty() && !resolve.iter().any(|e| e.applies_to(&host, port)) {
            return Err(format!(
                "--resolve {} is for another port than {port}, the one the run reaches {host} on \
                 (an entry is for its host and port, as curl's: add {host}:{port}:ADDR)",
                entries.join(", ")
            ));
        }
    }
    Ok(())
}

/// A URL's host (lower case) and port (the scheme's when none is written).
fn host_and_port(origin: &str) -> Option<(String, u16)> {
    let url = url::Url::parse(origin).ok()?;
    Some((url.host_str()?.to_ascii_lowercase(), url.port_or_known_default()?))
}

impl HttpSettings {
    /// Nothing asked for: the load keeps its default clients.
    pub fn is_default(&self) -> bool {
        self.ca_cert.is_none()
            && !self.insecure
            && self.identity.is_none()
            && self.resolve.is_empty()
            && self.headers.is_empty()
            && self.basic_auth.is_none()
            && !self.http2
    }

    /// One line per setting, secrets named but not shown, for the console and reports.
    /// `--insecure` comes first and says what it means.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.insecure {
            lines.push("INSECURE: TLS certificates and host names are NOT verified (--insecure)".to_owned());
        }
        if let Some(ca) = &self.ca_cert {
            lines.push(format!("trusts the CA in {}", ca.path.display()));
        }
        if let Some(identity) = &self.identity {
            lines.push(format!("client certificate {}", identity.cert.path.display()));
        }
        for entry in &self.resolve {
            lines.push(format!(
                "resolves {}:{} to {}",
                entry.host, entry.port, entry.addr
            ));
        }
        if !self.headers.is_empty() {
            let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
            lines.push(format!("sends headers {} on every request", names.join(", ")));
        }
        if let Some((user, _)) = &self.basic_auth {
            lines.push(format!("basic auth as {user}"));
        }
        if self.http2 {
            lines.push("HTTP/2".to_owned());
        }
        lines
    }
}

/// `HOST:PORT:ADDR` (ADDR an IPv4 or `[IPv6]` address).
pub fn parse_resolve(text: &str) -> Result<Resolve, String> {
    let bad = || format!("{text:?} is not HOST:PORT:ADDR, e.g. karigar.test:443:127.0.0.1");
    let (host, rest) = text.split_once(':').ok_or_else(bad)?;
    let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let host = host.trim().to_ascii_lowercase();
    if host.is_empty() {
        return Err(bad());
    }
    Ok(Resolve {
        host,
        port: port.trim().parse().map_err(|_| bad())?,
        addr: addr.trim().parse().map_err(|_| bad())?,
    })
}

/// `NAME: VALUE`, the value as written (`${VAR}` not yet replaced).
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not NAME: VALUE, e.g. 'X-Gateway-Key: ${{GATEWAY_KEY}}'"))?;
    let name = name.trim();
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("{name:?} is not a header name"))?;
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// `value` with each `${VAR}` replaced by the environment's VAR: secrets stay out of
/// scenario files, command lines and reports.
pub fn expand_env(value: &str) -> Result<String, String> {
    Env::Process.expand(value)
}

/// Where `${VAR}`s are read: this process's environment, or a generator's values (a
/// file its engine mounted) before it.
#[derive(Clone, Debug, Default)]
pub enum Env {
    #[default]
    Process,
    Given(BTreeMap<String, String>),
}

impl Env {
    pub fn var(&self, name: &str) -> Option<String> {
        match self {
            Env::Given(values) if values.contains_key(name) => values.get(name).cloned(),
            _ => std::env::var(name).ok(),
        }
    }

    /// `value` with each `${VAR}` replaced.
    pub fn expand(&self, value: &str) -> Result<String, String> {
        let mut out = String::new();
        for part in env_parts(value) {
            match part? {
                EnvPart::Text(text) => out.push_str(text),
                EnvPart::Var(name) => out.push_str(
                    &self
                        .var(name)
                        .ok_or_else(|| format!("${{{name}}} is not set in the environment"))?,
                ),
            }
        }
        Ok(out)
    }

    /// `NAME=VALUE` lines (an env file), before the process's environment.
    pub fn parse(text: &str) -> Result<Env, String> {
        let mut values = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (name, value) = line
                .split_once('=')
                .ok_or_else(|| format!("line {}: not NAME=VALUE", number + 1))?;
            values.insert(name.to_owned(), value.to_owned());
        }
        Ok(Env::Given(values))
    }
}

/// The settings as they travel to another process (a generator, a pod): every header
/// value and basic-auth password that is not one `${VAR}` in a variable of its own, and
/// the value of every variable they name. No value is in `options`: they go by the
/// environment (or a secret the engine mounts), never a command line or a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Travelling {
    pub options: HttpOptions,
    pub env: BTreeMap<String, String>,
}

/// Names of the variables a literal value travels in.
const HEADER_VAR: &str = "KARIGAR_PERF_HEADER_";
const PASSWORD_VAR: &str = "KARIGAR_PERF_BASIC_PASSWORD";

impl HttpOptions {
    /// [`Travelling`] options, the values read from `env` now.
    pub fn travelling(&self, env: &Env) -> Result<Travelling, String> {
        let mut options = self.clone();
        let mut literal = BTreeMap::new();
        for (index, (_, value)) in options.headers.iter_mut().enumerate() {
            if !is_one_var(value) {
                let name = format!("{HEADER_VAR}{}", index + 1);
                literal.insert(name.clone(), env.expand(value)?);
                *value = format!("${{{name}}}");
            }
        }
        if let Some(written) = &mut options.basic_auth {
            if let Some((user, password)) = written.split_once(':') {
                if !is_one_var(password) {
                    literal.insert(PASSWORD_VAR.to_owned(), env.expand(password)?);
                    *written = format!("{user}:${{{PASSWORD_VAR}}}");
                }
            }
        }
        let mut values = BTreeMap::new();
        for name in options.env_names() {
            let value = match literal.remove(&name) {
                Some(value) => value,
                None => env
                    .var(&name)
                    .ok_or_else(|| format!("${{{name}}} is not set in the environment"))?,
            };
            values.insert(name, value);
        }
        Ok(Travelling { options, env: values })
    }
}

/// Whether `value` reads a `${VAR}`: a value with none is written out in full.
pub fn names_a_variable(value: &str) -> bool {
    env_parts(value)
        .iter()
        .any(|part| matches!(part, Ok(EnvPart::Var(_))))
}

/// `${VAR}` and nothing else.
fn is_one_var(value: &str) -> bool {
    matches!(
        env_parts(value).as_slice(),
        [Ok(EnvPart::Text("")), Ok(EnvPart::Var(_)), Ok(EnvPart::Text(""))]
    )
}

/// A written value in pieces: text as written, and the `${VAR}`s in it.
enum EnvPart<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// `value`'s pieces in order; a `${` without its `}` is an error (and the last piece).
fn env_parts(value: &str) -> Vec<Result<EnvPart<'_>, String>> {
    let mut parts = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        parts.push(Ok(EnvPart::Text(&rest[..start])));
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            parts.push(Err(format!("{value:?}: a ${{ without its }}")));
            return parts;
        };
        parts.push(Ok(EnvPart::Var(&after[..end])));
        rest = &after[end + 1..];
    }
    parts.push(Ok(EnvPart::Text(rest)));
    parts
}

/// A PEM file, read now so that a wrong path fails before anything starts.
pub fn read_pem(path: &Path, what: &str) -> Result<Pem, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(format!("{what} {}: not a PEM file", path.display()));
    }
    Ok(Pem {
        path: path.to_path_buf(),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_values_travel_in_variables_of_their_own() {
        let options = HttpOptions {
            headers: vec![
                ("X-Gateway-Key".into(), "${TEST_TRAVEL_KEY}".into()),
                ("X-Tenant".into(), "lit3ral-tenant".into()),
                ("Authorization".into(), "Bearer ${TEST_TRAVEL_KEY}".into()),
            ],
            basic_auth: Some("gate:lit3ral-password".into()),
            ..Default::default()
        };
        let env = Env::Given(BTreeMap::from([("TEST_TRAVEL_KEY".to_owned(), "k3y".to_owned())]));
        let travelling = options.travelling(&env).unwrap();
        let written = format!("{:?}", travelling.options);
        assert!(
            !written.contains("lit3ral") && !written.contains("k3y"),
            "{written}"
        );
        assert_eq!(
            travelling.options.headers[..2],
            [
                ("X-Gateway-Key".to_owned(), "${TEST_TRAVEL_KEY}".to_owned()),
                ("X-Tenant".to_owned(), "${KARIGAR_PERF_HEADER_2}".to_owned())
            ]
        );
        assert_eq!(
            travelling.options.basic_auth.as_deref(),
            Some("gate:${KARIGAR_PERF_BASIC_PASSWORD}")
        );
        assert_eq!(travelling.env["KARIGAR_PERF_HEADER_3"], "Bearer k3y");
        assert_eq!(travelling.env["TEST_TRAVEL_KEY"], "k3y");
        // Where they arrive, the same settings.
        let arrived = travelling
            .options
            .settings_in(&Env::Given(travelling.env.clone()))
            .unwrap();
        let here = options.settings_in(&env).unwrap();
        assert_eq!(
            (arrived.headers, arrived.basic_auth),
            (here.headers, here.basic_auth)
        );
        assert!(Env::parse("A=1\nB=x=y\n").unwrap().var("B").as_deref() == Some("x=y"));
        assert!(Env::parse("oops").is_err());
    }

    #[test]
    fn resolve_entries_are_for_their_host_and_port_as_curls() {
        let entry = |text: &str| parse_resolve(text).unwrap();
        let entries = [
            entry("karigar.test:443:10.0.0.1"),
            entry("karigar.test:3000:10.0.0.2"),
        ];
        let origins = ["https://Karigar.test", "http://karigar.test:3000/"];
        assert_eq!(
            routes(&entries[..1], &origins).unwrap(),
            [("karigar.test".to_owned(), "10.0.0.1:443".parse().unwrap())],
            "only the origin on its port"
        );
        assert!(routes(&entries, &origins[1..]).unwrap()[0].1.to_string() == "10.0.0.2:3000");
        let both = routes(&entries, &origins).unwrap_err();
        assert!(both.contains("10.0.0.1") && both.contains("10.0.0.2"), "{both}");
        assert!(routes(&entries, &["https://other.test"]).unwrap().is_empty());
        let wrong_port = unmatched_resolve(
            &[entry("karigar.test:443:10.0.0.1")],
            &["https://karigar.test:8443"],
        );
        assert!(wrong_port
            .unwrap_err()
            .contains("--resolve karigar.test:443:10.0.0.1 is for another port than 8443"));
        assert!(unmatched_resolve(&entries, &origins).is_ok());
        assert!(
            unmatched_resolve(&entries, &origins[..1]).is_ok(),
            "an entry for another port beside one for this port"
        );
        assert!(
            unmatched_resolve(&entries, &["https://elsewhere.test"]).is_ok(),
            "another host's entry is left"
        );
        // The flag's entry for a host and port beats the table's; other ports stay.
        let flags = HttpOptions {
            resolve: vec![entry("karigar.test:443:10.0.0.9")],
            ..Default::default()
        };
        let table = HttpOptions {
            resolve: entries.to_vec(),
            ..Default::default()
        };
        assert_eq!(
            flags.over(table).resolve,
            [
                entry("karigar.test:443:10.0.0.9"),
                entry("karigar.test:3000:10.0.0.2")
            ]
        );
    }

    #[test]
    fn resolve_entries_parse_as_curl_writes_them() {
        assert_eq!(
            parse_resolve("Karigar.test:443:127.0.0.1").unwrap(),
            Resolve {
                host: "karigar.test".into(),
                port: 443,
                addr: "127.0.0.1".parse().unwrap()
            }
        );
        assert_eq!(
            parse_resolve("h:8443:[::1]").unwrap().addr,
            "::1".parse::<IpAddr>().unwrap()
        );
        for bad in ["h:443", "h:x:127.0.0.1", ":443:127.0.0.1", "h:443:nowhere"] {
            assert!(parse_resolve(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn header_values_come_from_the_environment_and_are_never_described() {
        std::env::set_var("KARIGAR_PERF_TEST_GATEWAY_KEY", "s3cret");
        let (name, value) = parse_header("X-Gateway-Key: k=${KARIGAR_PERF_TEST_GATEWAY_KEY}").unwrap();
        assert_eq!(expand_env(&value).unwrap(), "k=s3cret");
        assert!(expand_env("${KARIGAR_PERF_TEST_UNSET_VARIABLE}")
            .unwrap_err()
            .contains("${KARIGAR_PERF_TEST_UNSET_VARIABLE} is not set"));
        assert!(parse_header("no colon").is_err());
        let settings = HttpSettings {
            headers: vec![(name, "s3cret".into())],
            basic_auth: Some(("gate".into(), "hunter2".into())),
            insecure: true,
            ..Default::default()
        };
        let described = settings.describe().join("\n");
        assert!(described.starts_with("INSECURE"), "{described}");
        assert!(described.contains("X-Gateway-Key") && described.contains("basic auth as gate"));
        assert!(!described.contains("s3cret") && !described.contains("hunter2"));
        assert!(!settings.is_default() && HttpSettings::default().is_default());
    }
}
