//! The Karigar routes as server-rendered HTML pages. Each is rendered per request with
//! the API base URL and the render time in its data block, linking to every asset.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::assets::{self, ASSETS};

/// Pages are never cached: they are rendered for each request, as Next.js does for
/// dynamic routes.
const NO_STORE: &str = "private, no-cache, no-store, max-age=0, must-revalidate";

/// A route: its path, title and body.
struct Page {
    path: &'static str,
    title: &'static str,
    body: &'static str,
}

const PAGES: &[Page] = &[
    Page {
        path: "/",
        title: "Local services you can trust",
        body: include_str!("pages/home.html"),
    },
    Page {
        path: "/auth",
        title: "Join Karigar",
        body: include_str!("pages/auth.html"),
    },
    Page {
        path: "/auth/login",
        title: "Log in",
        body: include_str!("pages/login.html"),
    },
    Page {
        path: "/auth/email",
        title: "Sign up with email",
        body: include_str!("pages/email.html"),
    },
    Page {
        path: "/auth/forgot-password",
        title: "Forgot your password?",
        body: include_str!("pages/forgot.html"),
    },
    Page {
        path: "/dashboard",
        title: "Your dashboard",
        body: include_str!("pages/dashboard.html"),
    },
];

/// The paths of every page, for tests and scenarios.
pub fn paths() -> impl Iterator<Item = &'static str> {
    PAGES.iter().map(|p| p.path)
}

pub fn routes(api_url: String) -> Router {
    let mut router = Router::new();
    for page in PAGES {
        let api_url = api_url.clone();
        router = router.route(page.path, get(move || async move { render(page, &api_url) }));
    }
    router.fallback(|| async { (StatusCode::NOT_FOUND, "This page could not be found.") })
}

fn render(page: &Page, api_url: &str) -> Response {
    let rendered_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let html = format!(
        include_str!("pages/layout.html"),
        title = page.title,
        styles = stylesheets(),
        body = page.body,
        data = page_data(page.path, api_url, rendered_at),
        scripts = scripts(),
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, NO_STORE),
        ],
        html,
    )
        .into_response()
}

fn stylesheets() -> String {
    links(".css", |url| format!("<link rel=\"stylesheet\" href=\"{url}\">"))
}

fn scripts() -> String {
    links(".js", |url| format!("<script src=\"{url}\" defer></script>"))
}

fn links(suffix: &str, tag: impl Fn(&str) -> String) -> String {
    ASSETS
        .iter()
        .filter(|a| a.path.ends_with(suffix))
        .map(|a| tag(&assets::url(a)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The JSON the client scripts read; `<` is escaped so it cannot close the tag.
fn page_data(path: &str, api_url: &str, rendered_at: u128) -> String {
    let json = format!(
        "{{\"page\":{},\"apiUrl\":{},\"renderedAt\":{rendered_at}}}",
        quote(path),
        quote(api_url)
    );
    json.replace('<', "\\u003c")
}

fn quote(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_data_cannot_close_its_script_tag() {
        let data = page_data("/", "http://x/</script>", 1);
        assert!(!data.contains("</script>"), "{data}");
        assert!(data.contains("\"renderedAt\":1"));
    }
}
