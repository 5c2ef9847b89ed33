//! Which recorded requests become steps: pages (frontend steps), their static assets
//! (folded into the page's step: a browser fetches them once and caches them), API
//! calls (backend steps); CORS preflights and other hosts are dropped, and said.

use std::collections::BTreeMap;

use super::recording::{origin_of, Exchange};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Page,
    Asset,
    Api,
    /// A CORS preflight: the browser's, never sent by the harness's client.
    Preflight,
    /// A WebSocket or event stream: not a request/response a step can replay.
    Stream,
}

/// A recorded request that becomes a step.
#[derive(Debug)]
pub(super) struct Kept {
    /// Its index in the recording.
    pub index: usize,
    pub role: Role,
    /// Whether it goes to the frontend rather than the backend.
    pub frontend: bool,
    /// Static assets that followed this page, folded into its step.
    pub assets: usize,
}

#[derive(Debug, Default)]
pub(super) struct Sorted {
    pub kept: Vec<Kept>,
    pub frontend: Option<String>,
    pub backend: Option<String>,
    pub folded: usize,
    pub preflights: usize,
    pub streams: usize,
    /// Requests dropped by host (`host:port` -> count).
    pub other_hosts: BTreeMap<String, usize>,
}

const ASSET_TYPES: &[&str] = &[
    "stylesheet",
    "script",
    "image",
    "font",
    "media",
    "manifest",
    "texttrack",
];
const ASSET_EXTENSIONS: &[&str] = &[
    "css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif", "woff", "woff2",
    "ttf", "otf",
];

/// Sorts `exchanges`; `frontend` and `backend` are the origins the user named, else
/// the first page's and the first API call's.
pub(super) fn sort(exchanges: &[Exchange], frontend: Option<String>, backend: Option<String>) -> Sorted {
    let roles: Vec<Role> = exchanges.iter().map(role).collect();
    let first = |wanted: Role| {
        exchanges
            .iter()
            .zip(&roles)
            .find(|(_, r)| **r == wanted)
            .map(|(e, _)| e.origin())
    };
    let frontend = frontend.or_else(|| first(Role::Page));
    let backend = backend.or_else(|| first(Role::Api));
    let mut sorted = Sorted {
        frontend: frontend.clone(),
        backend: backend.clone(),
        ..Sorted::default()
    };
    for (index, (exchange, role)) in exchanges.iter().zip(roles).enumerate() {
        let origin = exchange.origin();
        let on_frontend = frontend.as_deref() == Some(origin.as_str());
        let on_backend = backend.as_deref() == Some(origin.as_str());
        match role {
            Role::Preflight => sorted.preflights += 1,
            Role::Stream => sorted.streams += 1,
            _ if !on_frontend && !on_backend => {
                *sorted.other_hosts.entry(host_of(exchange)).or_default() += 1;
            }
            Role::Asset => {
                sorted.folded += 1;
                if let Some(page) = sorted.kept.iter_mut().rev().find(|k| k.role == Role::Page) {
                    page.assets += 1;
                }
            }
            Role::Page | Role::Api => sorted.kept.push(Kept {
                index,
                role,
                // An API call on the frontend's origin goes to the backend when both are
                // one origin (an ingress routing by path), else it is the frontend's own.
                frontend: role == Role::Page || (on_frontend && !on_backend),
                assets: 0,
            }),
        }
    }
    sorted
}

fn host_of(exchange: &Exchange) -> String {
    let origin = origin_of(&exchange.url);
    origin
        .split_once("://")
        .map_or(origin.clone(), |(_, h)| h.to_owned())
}

/// What a request was, from what the browser said, else its answer, else its path.
pub(super) fn role(exchange: &Exchange) -> Role {
    if exchange.method.eq_ignore_ascii_case("OPTIONS")
        && (exchange.header("access-control-request-method").is_some()
            || exchange.resource.as_deref() == Some("preflight"))
    {
        return Role::Preflight;
    }
    if !matches!(exchange.url.scheme(), "http" | "https") {
        return Role::Stream;
    }
    match exchange.resource.as_deref() {
        Some("document") => return Role::Page,
        Some("websocket" | "eventsource") => return Role::Stream,
        Some(kind) if ASSET_TYPES.contains(&kind) => return Role::Asset,
        _ => {}
    }
    let mime = exchange
        .answer
        .as_ref()
        .map(|a| a.mime.to_ascii_lowercase())
        .unwrap_or_default();
    if mime.starts_with("text/html") && exchange.method.eq_ignore_ascii_case("GET") {
        return Role::Page;
    }
    if mime.starts_with("text/css")
        || mime.contains("javascript")
        || mime.starts_with("image/")
        || mime.starts_with("font/")
    {
        return Role::Asset;
    }
    let path = exchange.url.path();
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if path.contains("/_next/static/") || extension.is_some_and(|e| ASSET_EXTENSIONS.contains(&e.as_str())) {
        return Role::Asset;
    }
    Role::Api
}
