//! The hidden `backend` and `frontend` subcommands: the reference stack's servers, so
//! that the local stack needs one build only.

use crate::error::{Error, Result};

/// The reference backend.
pub async fn backend() -> Result<u8> {
    karigar_backend::run(crate::config::backend_settings()?)
        .await
        .map_err(|e| Error::Internal(e.context("reference backend")))?;
    Ok(crate::exit::PASS)
}

/// The reference frontend.
pub async fn frontend() -> Result<u8> {
    karigar_frontend::run(crate::config::frontend_settings()?)
        .await
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("reference frontend")))?;
    Ok(crate::exit::PASS)
}
