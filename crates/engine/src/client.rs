//! The HTTP clients the load and the reachability probes use, built from the run's
//! [`HttpSettings`](crate::http::HttpSettings): trusted CAs, the client certificate,
//! `--insecure`, `--resolve`, default headers and basic auth, HTTP/2.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::http::{Env, HttpOptions, HttpSettings};
use crate::tls::Alpn;

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
    let alpn = match settings.http2 {
        true => Alpn::Http2,
        false => Alpn::Http1,
    };
    let tls = crate::tls::config(settings, alpn)?;
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .default_headers(header_map(settings)?);
    for (host, addr) in crate::http::routes(&settings.resolve, origins)? {
        builder = builder.resolve(&host, addr);
    }
    builder = match settings.http2 {
        true => builder.http2_prior_knowledge(),
        false => builder.http1_only(),
    };
    Ok(builder)
}

/// reqwest's client builder trusting the system's CA roots, for the harness's own
/// calls (probes, generators to their coordinator, telemetry): every client shares the
/// roots, read and parsed once per process (see [`crate::tls`]).
pub fn base() -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder();
    match crate::tls::config(&HttpSettings::default(), Alpn::Any) {
        Ok(tls) => builder.tls_backend_preconfigured(tls),
        Err(_) => builder,
    }
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
