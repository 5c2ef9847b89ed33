//! Email verification and password reset. There is no mail server: tokens are stored
//! on the user row, where tests (and an operator) read them.

use axum::extract::State;
use axum::Json;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{password, validate, JsonBody};
use crate::error::ApiError;
use crate::state::AppState;

/// How long a password reset token stays valid.
const RESET_TOKEN_TTL_HOURS: i32 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgotRequest {
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    token: Option<String>,
    password: Option<String>,
}

/// 32 random bytes, hex-encoded.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn verify_email(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<TokenRequest>,
) -> Result<Json<Value>, ApiError> {
    let token = validate::required(&req.token, "token")?;
    let verified = sqlx::query(
        "UPDATE users SET is_email_verified = true, email_verify_token = NULL,
                email_verify_expires_at = NULL, updated_at = now()
         WHERE email_verify_token = $1 AND email_verify_expires_at > now()",
    )
    .bind(token)
    .execute(&state.db)
    .await?
    .rows_affected();
    if verified == 0 {
        return Err(invalid_token());
    }
    Ok(Json(json!({ "message": "email verified" })))
}

/// Always 200, whether or not the account exists.
pub async fn forgot_password(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<ForgotRequest>,
) -> Result<Json<Value>, ApiError> {
    let email = validate::email(&req.email)?;
    sqlx::query(
        "UPDATE users SET password_reset_token = $2,
                password_reset_expires_at = now() + make_interval(hours => $3), updated_at = now()
         WHERE email = $1",
    )
    .bind(&email)
    .bind(new_token())
    .bind(RESET_TOKEN_TTL_HOURS)
    .execute(&state.db)
    .await?;
    Ok(Json(json!({
        "message": "if an account exists for that email, a reset link has been sent"
    })))
}

pub async fn reset_password(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<ResetRequest>,
) -> Result<Json<Value>, ApiError> {
    let token = validate::required(&req.token, "token")?;
    let new_password = validate::password(&req.password, "password")?;
    let hash = password::hash(new_password, state.settings.bcrypt_cost).await?;
    let reset = sqlx::query(
        "UPDATE users SET password_hash = $2, password_reset_token = NULL,
                password_reset_expires_at = NULL, updated_at = now()
         WHERE password_reset_token = $1 AND password_reset_expires_at > now()",
    )
    .bind(token)
    .bind(hash)
    .execute(&state.db)
    .await?
    .rows_affected();
    if reset == 0 {
        return Err(invalid_token());
    }
    Ok(Json(json!({ "message": "password has been reset" })))
}

fn invalid_token() -> ApiError {
    ApiError::Unauthorized("invalid or expired token".into())
}
