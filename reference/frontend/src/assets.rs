//! Static assets under `/_next/static/`, named by content hash as a Next.js build
//! names them, so they are cached for a year (`immutable`), plus `/favicon.ico`.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The build id every asset path carries.
pub const BUILD_ID: &str = "k4r1g4r-ref";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// An asset: its path below `/_next/static/`, content type and body.
pub struct Asset {
    pub path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

/// Every asset a page links to.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "css/app-3f9a1c.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("static/app.css"),
    },
    Asset {
        path: "chunks/main-8d2e4b.js",
        content_type: "application/javascript; charset=utf-8",
        body: include_str!("static/main.js"),
    },
    Asset {
        path: "chunks/pages-5b7c90.js",
        content_type: "application/javascript; charset=utf-8",
        body: include_str!("static/pages.js"),
    },
];

/// The favicon: a 16x16 one-colour icon as SVG (browsers accept it under .ico).
const FAVICON: &str = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>\
<rect width='16' height='16' rx='3' fill='#0b7a5a'/></svg>";

pub fn routes() -> Router {
    Router::new()
        .route("/_next/static/{build}/{*path}", get(asset))
        .route("/favicon.ico", get(favicon))
}

/// The URL of an asset, as pages link to it.
pub fn url(asset: &Asset) -> String {
    format!("/_next/static/{BUILD_ID}/{}", asset.path)
}

async fn asset(Path((build, path)): Path<(String, String)>) -> Response {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(asset) if build == BUILD_ID => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, IMMUTABLE),
            ],
            asset.body,
        )
            .into_response(),
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}
