//! An existing deployment: checked for reachability, never provisioned or torn down.

use std::time::Duration;

use super::{Endpoints, Stack};
use crate::error::Context as _;
use crate::error::{error_chain, Error, Result};

/// A target that does not answer within this is reported as unreachable.
const REACH_TIMEOUT: Duration = Duration::from_secs(4);

/// Checks that `target` (and `frontend`, if given) answer HTTP at all.
pub async fn connect(target: &str, frontend: Option<&str>) -> Result<Stack> {
    let backend = normalise(target, "--target")?;
    check_reachable(&format!("{backend}/health"), "target").await?;
    let frontend = match frontend {
        Some(url) => {
            let url = normalise(url, "--frontend")?;
            check_reachable(&format!("{url}/"), "frontend").await?;
            Some(url)
        }
        None => None,
    };
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

/// Any HTTP answer counts as reachable; a refused or silent connection does not.
pub async fn check_reachable(url: &str, what: &str) -> Result<()> {
    let client = reqwest::Client::builder()
        .connect_timeout(REACH_TIMEOUT)
        .timeout(REACH_TIMEOUT)
        .build()
        .map_err(|e| Error::Internal(e.into()))?;
    match client.get(url).send().await {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::stack(format!(
            "{what} {url} is unreachable: {}",
            error_chain(&e)
        ))),
    }
}
