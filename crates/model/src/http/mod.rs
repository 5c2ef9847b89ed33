//! How the harness speaks HTTP to a deployment: whom it trusts (`--ca-cert`,
//! `--insecure`), whom it says it is (`--client-cert`/`--client-key`), where names
//! go (`--resolve`), what every request carries (headers, basic auth), and HTTP/2.
//! The same settings make the load's clients and the reachability probes (the harness's
//! `client` builds them), so a deployment behind a TLS ingress is reached the same way
//! by both.

use std::path::{Path, PathBuf};

use http::HeaderName;

mod env;
mod resolve;

use env::{env_parts, EnvPart};
pub use env::{expand_env, names_a_variable, Env, Travelling};
pub use resolve::{parse_resolve, routes, unmatched_resolve, Resolve};

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
    /// The header each request's id goes in ([`DEFAULT_REQUEST_ID_HEADER`] when not given).
    pub request_id_header: Option<String>,
    /// `false`: no request id and no `traceparent` on any request.
    pub request_ids: Option<bool>,
}

/// Where a request's id goes unless told otherwise: the header the seed's backend logs
/// as `request_id` (and the reference backend echoes).
pub const DEFAULT_REQUEST_ID_HEADER: &str = "x-request-id";

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
            request_id_header: self.request_id_header.or(under.request_id_header),
            request_ids: self.request_ids.or(under.request_ids),
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
        if let Some(name) = &self.request_id_header {
            flag("--request-id-header", Some(name.clone()));
        }
        if self.request_ids == Some(false) {
            flag("--no-request-id", None);
        }
        args
    }

    /// Files read, `${VAR}`s replaced from the environment. Whether the files hold
    /// certificates and keys a client accepts is the client's to say (the harness's
    /// `client::settings` builds one to check).
    pub fn settings(&self) -> Result<HttpSettings, String> {
        self.settings_in(&Env::Process)
    }

    /// The header request ids go in, checked; `None` when they are off.
    fn request_id(&self) -> Result<Option<HeaderName>, String> {
        if self.request_ids == Some(false) {
            return Ok(None);
        }
        let name = self
            .request_id_header
            .as_deref()
            .unwrap_or(DEFAULT_REQUEST_ID_HEADER);
        HeaderName::from_bytes(name.as_bytes())
            .map(Some)
            .map_err(|_| format!("request id header {name:?} is not a header name"))
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
            request_id: self.request_id()?,
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
    /// The header each request's id goes in, beside a W3C `traceparent`; `None`: off.
    /// Not a client setting: the load adds both to each request.
    pub request_id: Option<HeaderName>,
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

/// `NAME: VALUE`, the value as written (`${VAR}` not yet replaced).
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not NAME: VALUE, e.g. 'X-Gateway-Key: ${{GATEWAY_KEY}}'"))?;
    let name = name.trim();
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("{name:?} is not a header name"))?;
    Ok((name.to_owned(), value.trim().to_owned()))
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
