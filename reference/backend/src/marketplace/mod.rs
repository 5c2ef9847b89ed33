//! The marketplace routes: search services and providers (cached), book a service,
//! list one's own requests.
//!
//! - `params`: the search parameters, parsed strictly
//! - `search`: `GET /services`, `GET /providers` and the Redis result cache
//! - `requests`: `POST /requests`, `GET /customers/requests`

mod params;
mod requests;
mod search;

pub use search::explain_services;

use std::sync::atomic::AtomicU64;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// Result-cache hits and misses of this instance, shown in `/health/detailed`.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

/// Search routes (rate-limited as search) and the others (rate-limited as API).
pub fn search_routes() -> Router<AppState> {
    Router::new()
        .route("/services", get(search::services))
        .route("/providers", get(search::providers))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/requests", post(requests::create))
        .route("/customers/requests", get(requests::list))
}
