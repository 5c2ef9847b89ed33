//! The contract's rate limits, counted in Redis in fixed one-minute windows so that
//! every backend instance shares them: auth routes per client, search per client, the
//! rest of the API per user. Off unless `RATE_LIMIT_ENABLED=true`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::error_body;
use crate::log;
use crate::state::AppState;

const WINDOW_SECS: u64 = 60;

/// A window's count and when it ends.
struct Window {
    limit: u32,
    used: u64,
    resets_at: u64,
}

pub async fn auth(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.settings.rate_limit.auth_per_minute;
    let client = client_id(&request);
    limited(&state, "auth", limit, &client, request, next).await
}

pub async fn search(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.settings.rate_limit.search_per_minute;
    let client = client_id(&request);
    limited(&state, "search", limit, &client, request, next).await
}

/// Per user when the request carries a valid access token, else per client.
pub async fn api(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.settings.rate_limit.api_per_minute;
    let user = crate::auth::bearer_token(request.headers())
        .and_then(|token| {
            state
                .keys
                .verify(token, crate::auth::tokens::TokenKind::Access)
                .ok()
        })
        .map(|claims| format!("user:{}", claims.user_id));
    let who = user.unwrap_or_else(|| client_id(&request));
    limited(&state, "api", limit, &who, request, next).await
}

async fn limited(
    state: &AppState,
    bucket: &str,
    limit: u32,
    who: &str,
    request: Request,
    next: Next,
) -> Response {
    if !state.settings.rate_limit.enabled {
        return next.run(request).await;
    }
    let window = match count(state, bucket, who, limit).await {
        Ok(window) => window,
        Err(e) => {
            // Fail open: a limiter outage must not take the API down with it.
            log::error(&format!("rate limit check failed, request let through: {e}"));
            return next.run(request).await;
        }
    };
    let mut response = if window.used > u64::from(window.limit) {
        (
            StatusCode::TOO_MANY_REQUESTS,
            error_body("Rate limit exceeded. Please try again later."),
        )
            .into_response()
    } else {
        next.run(request).await
    };
    set_headers(response.headers_mut(), &window);
    response
}

/// The first `X-Forwarded-For` address (as behind a load balancer), else the peer.
fn client_id(request: &Request) -> String {
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let peer = || {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    forwarded.map(str::to_owned).unwrap_or_else(peer)
}

async fn count(state: &AppState, bucket: &str, who: &str, limit: u32) -> redis::RedisResult<Window> {
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let window_start = now - now % WINDOW_SECS;
    let key = format!("ratelimit:{bucket}:{who}:{window_start}");
    let mut redis = state.redis.clone();
    let (used,): (u64,) = redis::pipe()
        .atomic()
        .incr(&key, 1)
        .expire(&key, (2 * WINDOW_SECS) as i64)
        .ignore()
        .query_async(&mut redis)
        .await?;
    Ok(Window {
        limit,
        used,
        resets_at: window_start + WINDOW_SECS,
    })
}

fn set_headers(headers: &mut HeaderMap, window: &Window) {
    let remaining = u64::from(window.limit).saturating_sub(window.used);
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(window.limit)),
        ("x-ratelimit-remaining", remaining),
        ("x-ratelimit-reset", window.resets_at),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}
