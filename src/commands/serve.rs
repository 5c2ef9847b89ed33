//! The hidden `backend` and `frontend` subcommands: the reference stack's servers,
//! configured from the environment, so that the local stack needs one build only.

use crate::error::Context as _;
use crate::error::{Error, Result};

/// The reference backend.
pub async fn backend() -> Result<u8> {
    let settings = karigar_backend::Settings::from_env().config_context(|| "backend configuration")?;
    karigar_backend::run(settings)
        .await
        .map_err(|e| Error::Internal(e.context("reference backend")))?;
    Ok(crate::exit::PASS)
}

/// The reference frontend.
pub async fn frontend() -> Result<u8> {
    let settings = karigar_frontend::Settings::from_env()
        .map_err(|e| Error::config(format!("frontend configuration: {e}")))?;
    karigar_frontend::run(settings)
        .await
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("reference frontend")))?;
    Ok(crate::exit::PASS)
}
