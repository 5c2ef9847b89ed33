//! Reference implementation of the Karigar backend contract (`karigar-api.md`): the
//! same routes, validation, status codes, pool limits, password cost and Redis use as
//! the production Go/Gin service, so that load numbers measured against it mean
//! something. Configuration comes from the seed's environment variables.
//!
//! # Layout
//! - [`config`]: `Settings` from the environment
//! - `state`: the shared pool, Redis connection and token keys
//! - `db`: the Postgres pool (25 open / 5 idle / 5 min) and migrations
//! - `health`: `/health` and `/health/detailed`
//! - `auth`: the seven `/api/v1/auth/*` routes
//! - `marketplace`: service and provider search (cached in Redis), booking, own requests
//! - `ratelimit`: Redis-counted limits: auth and search per client, the API per user
//! - [`log`]: JSON log lines and the request-id middleware
//! - `error`: `ApiError`, mapped to status codes and `{"error": ...}` bodies
//!
//! Browsers on other origins may call it (CORS, see `cors`): the frontend's pages do.

pub mod config;
pub mod log;

mod auth;
mod db;
mod error;
mod health;
pub mod marketplace;
mod ratelimit;
mod state;

use std::future::Future;
use std::net::SocketAddr;

use axum::routing::get;
use axum::{middleware, Router};
use tokio::net::TcpListener;

pub use config::Settings;
pub use state::AppState;

/// The whole HTTP surface, ready to serve.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .nest(
            "/auth",
            auth::routes().route_layer(middleware::from_fn_with_state(state.clone(), ratelimit::auth)),
        )
        .merge(
            marketplace::search_routes()
                .route_layer(middleware::from_fn_with_state(state.clone(), ratelimit::search)),
        )
        .merge(
            marketplace::api_routes()
                .route_layer(middleware::from_fn_with_state(state.clone(), ratelimit::api)),
        );
    Router::new()
        .route("/health", get(health::health))
        .route("/health/detailed", get(health::detailed))
        .nest("/api/v1", api)
        .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, error::error_body("not found")) })
        .layer(middleware::from_fn(log::requests))
        .layer(cors())
        .with_state(state)
}

/// The frontend's pages call the API from their own origin (`NEXT_PUBLIC_API_URL`), as
/// a browser does: any origin may call with a bearer token (no cookies, so no
/// credentials), and read the rate-limit headers.
fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::{header, HeaderName, Method};
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers(
            ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"].map(HeaderName::from_static),
        )
}

/// Connects, migrates and serves on `listener` until `shutdown` completes, then
/// finishes the requests in flight.
pub async fn serve(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    log::set_level(&settings.log_level);
    log::set_format(&settings.log_format);
    let state = AppState::connect(settings).await?;
    db::migrate(&state.db).await?;
    let addr = listener.local_addr()?;
    log::info(&format!("listening on {addr}"));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    log::info("shut down");
    Ok(())
}

/// Binds the configured address and serves until SIGTERM or SIGINT.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let listener = TcpListener::bind((settings.host.as_str(), settings.port)).await?;
    serve(settings, listener, shutdown_signal()).await
}

/// Completes on SIGTERM (how containers and the harness stop us) or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    tokio::select! {
        _ = term.recv() => log::info("SIGTERM received, shutting down"),
        _ = tokio::signal::ctrl_c() => log::info("SIGINT received, shutting down"),
    }
}
