//! An existing deployment: checked for reachability, never provisioned or torn down.

use std::time::Duration;

use super::{Endpoints, Stack};
use crate::error::Context as _;
use crate::error::{error_chain, Error, Result};
use crate::http::HttpSettings;

/// A target that does not answer within this is reported as unreachable.
const REACH_TIMEOUT: Duration = Duration::from_secs(4);

/// Checks that `target` (and `frontend`, if given) answer HTTP at all, reached as the
/// load will reach them.
pub(super) async fn connect(target: &str, frontend: Option<&str>, http: &HttpSettings) -> Result<Stack> {
    let backend = normalise(target, "--target")?;
    let frontend = frontend.map(|url| normalise(url, "--frontend")).transpose()?;
    let origins: Vec<&str> = std::iter::once(backend.as_str())
        .chain(frontend.as_deref())
        .collect();
    crate::http::unmatched_resolve(&http.resolve, &origins).map_err(Error::config)?;
    check_reachable(&format!("{backend}/health"), "target", http, &origins).await?;
    if let Some(url) = &frontend {
        check_reachable(&format!("{url}/"), "frontend", http, &origins).await?;
    }
    Ok(Stack::external(Endpoints {
        backend,
        frontend,
        ..Endpoints::default()
    }))
}

/// An `http(s)://host[:port]` URL without its trailing slash.
pub fn normalise(url: &str, flag: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).config_context(|| format!("{flag} {url:?} is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(Error::config(format!(
            "{flag} {url:?} must be an http:// or https:// URL with a host"
        )));
    }
    Ok(trimmed.to_owned())
}

/// Any HTTP answer counts as reachable; a refused or silent connection does not. A
/// certificate the client does not trust, or a client certificate the server wants,
/// is said as such.
async fn check_reachable(url: &str, what: &str, http: &HttpSettings, origins: &[&str]) -> Result<()> {
    let client = crate::client::builder(http, origins)
        .map_err(Error::config)?
        .connect_timeout(REACH_TIMEOUT)
        .timeout(REACH_TIMEOUT)
        .build()
        .map_err(|e| Error::Internal(e.into()))?;
    match client.get(url).send().await {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::stack(unreachable(url, what, &error_chain(&e)))),
    }
}

/// Why `url` did not answer, with what to do about a TLS refusal.
fn unreachable(url: &str, what: &str, chain: &str) -> String {
    let lower = chain.to_ascii_lowercase();
    let hint = if lower.contains("certificate")
        && (lower.contains("unknownissuer") || lower.contains("invalid peer"))
    {
        ": its TLS certificate is not trusted; give --ca-cert FILE with the CA that signed it (or --insecure, for a lab)"
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        ": its TLS certificate is for another name; reach it by that name (--resolve NAME:PORT:ADDR)"
    } else if lower.contains("certificaterequired")
        || lower.contains("certificate required")
        || lower.contains("handshake failure")
    {
        ": the server asks for a client certificate; give --client-cert FILE --client-key FILE"
    } else {
        ""
    };
    format!("{what} {url} is unreachable{hint} ({chain})")
}
