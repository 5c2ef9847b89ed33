//! The one error type handlers return, mapped to the contract's status codes and its
//! `{"error": "<message>"}` body. Internal causes are logged, never sent to clients.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::log;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or fails validation.
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing, invalid or expired credentials or tokens.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: authenticated, but not allowed (a provider booking a service).
    #[error("{0}")]
    Forbidden(String),
    /// 404: the resource does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 409: the resource exists already (an email taken).
    #[error("{0}")]
    Conflict(String),
    /// 503: a dependency (Postgres, Redis) did not answer.
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// 500: anything else; the cause goes to the log only.
    #[error("internal server error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Body of every error response.
pub fn error_body(message: &str) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "error": message }))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) | Self::Unavailable(cause) = &self {
            log::error(&format!("{self}: {cause:#}"));
        }
        (self.status(), error_body(&self.to_string())).into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => Self::Unavailable(e.into()),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<redis::RedisError> for ApiError {
    fn from(e: redis::RedisError) -> Self {
        Self::Unavailable(e.into())
    }
}
