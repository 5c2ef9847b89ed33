//! The contract's rate limits, kept in Redis so that every backend instance shares
//! them: auth routes per client, search per client, the
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

/// One request's verdict and what the headers say.
struct Window {
    limit: u32,
    allowed: bool,
    remaining: u64,
    /// Unix time (s) when the next request is allowed (refused) or the bucket is full.
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
    let mut response = if !window.allowed {
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

/// GCRA (a token bucket, as Go's `x/time/rate`): `limit` requests at once, refilled
/// evenly over a minute. Unlike fixed windows it never resets mid-burst, so "the 11th
/// request in a minute" is refused wherever the minute boundary falls. Atomic in Redis.
const GCRA: &str = r"
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local next_tat = tat + interval
if next_tat - window > now then
  return {0, 0, tat - window + interval}
end
redis.call('SET', KEYS[1], next_tat, 'PX', window)
return {1, math.floor((now - (next_tat - window)) / interval), next_tat}
";

async fn count(state: &AppState, bucket: &str, who: &str, limit: u32) -> redis::RedisResult<Window> {
    let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
    let window_ms = WINDOW_SECS * 1000;
    let interval_ms = window_ms / u64::from(limit.max(1));
    let mut redis = state.redis.clone();
    let (allowed, remaining, reset_ms): (u8, u64, u64) = redis::Script::new(GCRA)
        .key(format!("ratelimit:{bucket}:{who}"))
        .arg(now_ms)
        .arg(interval_ms)
        .arg(window_ms)
        .invoke_async(&mut redis)
        .await?;
    Ok(Window {
        limit,
        allowed: allowed == 1,
        remaining,
        resets_at: reset_ms.div_ceil(1000),
    })
}

fn set_headers(headers: &mut HeaderMap, window: &Window) {
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(window.limit)),
        ("x-ratelimit-remaining", window.remaining),
        ("x-ratelimit-reset", window.resets_at),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}
