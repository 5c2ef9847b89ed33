//! The HTTP clients the load and the reachability probes use, built from the run's
//! [`HttpSettings`](crate::http::HttpSettings): trusted CAs, the client certificate,
//! `--insecure`, `--resolve`, default headers and basic auth, HTTP/2.

use std::sync::OnceLock;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::http::{Env, HttpOptions, HttpSettings};

/// `options` resolved (files read, `${VAR}`s replaced) and checked by building a client
/// from them, so that a file that is no certificate fails before any load starts.
pub fn settings(options: &HttpOptions) -> Result<HttpSettings, String> {
    settings_in(options, &Env::Process)
}

/// [`settings`], the `${VAR}`s read from `env` (a generator's, which its engine gave).
pub fn settings_in(options: &HttpOptions, env: &Env) -> Result<HttpSettings, String> {
    let settings = options.settings_in(env)?;
    builder(&settings, &[])?.build().map_err(|e| {
        format!(
            "the HTTP settings do not make a client: {}",
            crate::error::error_chain(&e)
        )
    })?;
    Ok(settings)
}

/// A client builder with every setting applied, for requests to `origins` (the URLs
/// whose `--resolve` entries apply); errors name the file or entry at fault.
pub fn builder(settings: &HttpSettings, origins: &[&str]) -> Result<reqwest::ClientBuilder, String> {
    let mut builder = base().default_headers(header_map(settings)?);
    if let Some(ca) = &settings.ca_cert {
        let certs = reqwest::Certificate::from_pem_bundle(&ca.bytes)
            .map_err(|e| format!("{}: not a PEM certificate: {e}", ca.path.display()))?;
        builder = builder.tls_certs_merge(certs);
    }
    if let Some(identity) = &settings.identity {
        let mut pem = identity.cert.bytes.clone();
        pem.push(b'\n');
        pem.extend_from_slice(&identity.key.bytes);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
            format!(
                "{} and {}: not a PEM certificate and private key: {e}",
                identity.cert.path.display(),
                identity.key.path.display()
            )
        })?;
        builder = builder.identity(identity);
    }
    if settings.insecure {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    for (host, addr) in crate::http::routes(&settings.resolve, origins)? {
        builder = builder.resolve(&host, addr);
    }
    builder = match settings.http2 {
        true => builder.http2_prior_knowledge(),
        false => builder.http1_only(),
    };
    Ok(builder)
}

/// reqwest's client builder trusting the system's CA roots, read once per process.
///
/// Left to itself, each client reqwest builds reads every root of the system again
/// (the bundle and each file of the certificates folder): about 3 ms a client, a run
/// builds several, and each generator process as many again. Every client the harness
/// builds starts here. A system without readable roots keeps reqwest's own handling.
pub fn base() -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder();
    match system_roots() {
        [] => builder,
        roots => builder.tls_certs_only(roots.iter().cloned()),
    }
}

/// The system's trusted roots that make trust anchors (those that do not are left out,
/// as reqwest's own verifier leaves them), read on first use.
fn system_roots() -> &'static [reqwest::Certificate] {
    static ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        rustls_native_certs::load_native_certs()
            .certs
            .iter()
            .filter(|der| webpki::anchor_from_trusted_cert(der).is_ok())
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
            .collect()
    })
}

pub(crate) fn header_map(settings: &HttpSettings) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in &settings.headers {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("{name:?} is not a header name"))?;
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| format!("the value of header {name} is not a header value"))?;
        value.set_sensitive(true);
        map.append(name, value);
    }
    if let Some((user, password)) = &settings.basic_auth {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut value = HeaderValue::from_str(&format!("Basic {token}"))
            .map_err(|_| "the basic-auth user or password is not a header value".to_owned())?;
        value.set_sensitive(true);
        map.insert(reqwest::header::AUTHORIZATION, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_basic_auth_reach_every_request_marked_sensitive() {
        let settings = HttpSettings {
            headers: vec![("X-Gateway-Key".into(), "s3cret".into())],
            basic_auth: Some(("gate".into(), "hunter2".into())),
            ..Default::default()
        };
        let map = header_map(&settings).unwrap();
        assert_eq!(map["x-gateway-key"], "s3cret");
        assert_eq!(map["authorization"], "Basic Z2F0ZTpodW50ZXIy");
        assert!(map.values().all(|value| value.is_sensitive()));
        assert!(builder(&settings, &[]).is_ok());
    }
}
