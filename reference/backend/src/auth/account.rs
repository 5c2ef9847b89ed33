//! Register, login, refresh and me.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::tokens::{Subject, TokenKind};
use super::{password, validate, Bearer, JsonBody};
use crate::error::ApiError;
use crate::log::ServedUser;
use crate::state::AppState;

/// How long an email verification token stays valid.
const VERIFY_TOKEN_TTL_HOURS: i32 = 24;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    email: Option<String>,
    password: Option<String>,
    name: Option<String>,
    role: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: Option<String>,
}

/// The contract's `AuthResponse`.
#[derive(Serialize)]
pub struct AuthResponse {
    access_token: String,
    refresh_token: String,
    user: AuthUser,
}

#[derive(Serialize, sqlx::FromRow)]
pub struct AuthUser {
    id: Uuid,
    email: String,
    role: String,
    is_email_verified: bool,
}

/// `GET /auth/me`'s body.
#[derive(Serialize, sqlx::FromRow)]
pub struct Profile {
    id: Uuid,
    email: String,
    role: String,
    name: String,
    is_email_verified: bool,
}

pub async fn register(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<RegisterRequest>,
) -> Result<Response, ApiError> {
    let email = validate::email(&req.email)?;
    let password = validate::password(&req.password, "password")?;
    let name = validate::name(&req.name)?;
    let role = validate::role(&req.role)?;
    if email_taken(&state, &email).await? {
        return Err(email_conflict());
    }
    let hash = password::hash(password, state.settings.bcrypt_cost).await?;
    let user = insert_user(&state, &email, &hash, name, role).await?;
    respond(&state, StatusCode::CREATED, user).await
}

pub async fn login(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Response, ApiError> {
    let email = validate::email(&req.email)?;
    let password = validate::required(&req.password, "password")?;
    let row: Option<(Uuid, String, String, bool, String)> = sqlx::query_as(
        "SELECT id, email, role, is_email_verified, password_hash FROM users WHERE email = $1",
    )
    .bind(&email)
    .fetch_optional(&state.db)
    .await?;
    let hash = row.as_ref().map(|r| r.4.clone());
    let matches = password::verify(password, hash, state.settings.bcrypt_cost).await?;
    match row {
        Some((id, email, role, is_email_verified, _)) if matches => {
            let user = AuthUser {
                id,
                email,
                role,
                is_email_verified,
            };
            respond(&state, StatusCode::OK, user).await
        }
        _ => Err(ApiError::Unauthorized("invalid email or password".into())),
    }
}

pub async fn refresh(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<RefreshRequest>,
) -> Result<Response, ApiError> {
    let token = validate::required(&req.refresh_token, "refresh_token")?;
    let claims = state.keys.verify(token, TokenKind::Refresh)?;
    let mut redis = state.redis.clone();
    state.keys.consume_refresh(&claims, &mut redis).await?;
    let user: AuthUser = sqlx::query_as("SELECT id, email, role, is_email_verified FROM users WHERE id = $1")
        .bind(claims.user_id)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("user no longer exists".into()))?;
    respond(&state, StatusCode::OK, user).await
}

pub async fn me(State(state): State<AppState>, Bearer(claims): Bearer) -> Result<Response, ApiError> {
    let profile: Profile =
        sqlx::query_as("SELECT id, email, role, name, is_email_verified FROM users WHERE id = $1")
            .bind(claims.user_id)
            .fetch_optional(&state.db)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("user no longer exists".into()))?;
    let id = profile.id;
    Ok((Extension(ServedUser(id)), Json(profile)).into_response())
}

async fn email_taken(state: &AppState, email: &str) -> Result<bool, ApiError> {
    let taken: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)")
        .bind(email)
        .fetch_one(&state.db)
        .await?;
    Ok(taken)
}

async fn insert_user(
    state: &AppState,
    email: &str,
    hash: &str,
    name: &str,
    role: &str,
) -> Result<AuthUser, ApiError> {
    let inserted = sqlx::query_as(
        // One statement: the user and its role's profile row exist together or not at all.
        "WITH new_user AS (
             INSERT INTO users (email, password_hash, name, role, email_verify_token, email_verify_expires_at)
             VALUES ($1, $2, $3, $4, $5, now() + make_interval(hours => $6))
             RETURNING id, email, role, is_email_verified
         ), customer AS (
             INSERT INTO customers (user_id) SELECT id FROM new_user WHERE role = 'customer'
         ), provider AS (
             INSERT INTO service_providers (user_id, business_name)
             SELECT id, $3 FROM new_user WHERE role = 'service_provider'
         )
         SELECT id, email, role, is_email_verified FROM new_user",
    )
    .bind(email)
    .bind(hash)
    .bind(name)
    .bind(role)
    .bind(super::recovery::new_token())
    .bind(VERIFY_TOKEN_TTL_HOURS)
    .fetch_one(&state.db)
    .await;
    match inserted {
        Ok(user) => Ok(user),
        // Two registrations of one email raced past the existence check.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(email_conflict()),
        Err(e) => Err(e.into()),
    }
}

fn email_conflict() -> ApiError {
    ApiError::Conflict("email is already registered".into())
}

/// Issues a token pair for `user` and answers with an `AuthResponse`.
async fn respond(state: &AppState, status: StatusCode, user: AuthUser) -> Result<Response, ApiError> {
    let subject = Subject {
        user_id: user.id,
        email: &user.email,
        role: &user.role,
    };
    let mut redis = state.redis.clone();
    let pair = state.keys.issue(&subject, &mut redis).await?;
    let served = ServedUser(user.id);
    let body = AuthResponse {
        access_token: pair.access,
        refresh_token: pair.refresh,
        user,
    };
    Ok((status, Extension(served), Json(body)).into_response())
}
