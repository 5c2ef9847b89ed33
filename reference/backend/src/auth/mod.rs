//! The seven `/api/v1/auth/*` routes.
//!
//! - `account`: register, login, refresh, me (the signup flow's hot path)
//! - `recovery`: verify-email, forgot-password, reset-password
//! - `tokens`, `password`, `validate`: the pieces they share

mod account;
pub mod password;
mod recovery;
pub mod tokens;
pub mod validate;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;
use tokens::{Claims, TokenKind};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/register", post(account::register))
        .route("/login", post(account::login))
        .route("/refresh", post(account::refresh))
        .route("/me", get(account::me))
        .route("/verify-email", post(recovery::verify_email))
        .route("/forgot-password", post(recovery::forgot_password))
        .route("/reset-password", post(recovery::reset_password))
}

/// A JSON body whose every rejection (bad syntax, wrong types, unknown fields, wrong
/// content type) is a 400 with the contract's error body.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(body)| Self(body))
            .map_err(|e: JsonRejection| ApiError::BadRequest(format!("invalid JSON body: {}", e.body_text())))
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The claims of a valid `Authorization: Bearer <access token>`.
pub struct Bearer(pub Claims);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
        state.keys.verify(token, TokenKind::Access).map(Self)
    }
}
