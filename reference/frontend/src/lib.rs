//! Reference frontend: the Karigar routes of `karigar-api.md` as server-rendered HTML,
//! with static assets under `/_next/static/` cached for a year, as a Next.js standalone
//! server serves them. The pages are rendered per request (they name the API base URL
//! and the time of rendering), so a page load costs the server real work while the
//! assets cost it almost none: the same split a browsing load sees in production.
//!
//! # Layout
//! - `pages`: the routes and their HTML
//! - `assets`: the static files and their cache headers

mod assets;
mod pages;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

pub use assets::BUILD_ID;
pub use pages::paths as page_paths;

/// Where to listen and what the pages link to, from the environment a Next.js
/// standalone server reads.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `HOSTNAME` (default `0.0.0.0`).
    pub host: String,
    /// `PORT` (default 3000, the seed's).
    pub port: u16,
    /// `NEXT_PUBLIC_API_URL`: the backend the browser talks to.
    pub api_url: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, String> {
        let port = match std::env::var("PORT") {
            Ok(value) => value
                .parse()
                .map_err(|_| format!("PORT={value:?} is not a port number"))?,
            Err(_) => 3000,
        };
        Ok(Self {
            host: std::env::var("HOSTNAME").unwrap_or_else(|_| "0.0.0.0".into()),
            port,
            api_url: std::env::var("NEXT_PUBLIC_API_URL")
                .unwrap_or_else(|_| "http://localhost:8080/api/v1".into()),
        })
    }
}

/// Every route: the pages, the static assets and a 404 page.
pub fn router(settings: &Settings) -> Router {
    pages::routes(settings.api_url.clone()).merge(assets::routes())
}

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(&settings))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds the configured address and serves until SIGTERM or SIGINT.
pub async fn run(settings: Settings) -> std::io::Result<()> {
    let listener = TcpListener::bind((settings.host.as_str(), settings.port)).await?;
    eprintln!("karigar-frontend listening on {}", listener.local_addr()?);
    serve(settings, listener, shutdown_signal()).await
}

/// Completes on SIGTERM (how containers and the harness stop us) or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
