//! How a virtual user's request reaches the server and its whole answer comes back,
//! whichever client carries it: the step runner builds a [`Request`] and gets a
//! [`Response`] or a [`Failure`] classified as the report counts it.
//!
//! Two carriers: [`direct`] sends plain HTTP/1.1 over connections each user owns, as
//! wrk does (one parse of a path, no pool to look up); a `reqwest` client carries the
//! rest (TLS, HTTP/2, proxies) and whatever the direct one does not reach.

pub mod connection;
pub mod direct;

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::Method;

pub use direct::{Connections, Direct, Fallback, UserClient};

/// One request of a step, rendered.
pub struct Request<'a> {
    pub method: Method,
    pub url: Url<'a>,
    /// The step's own headers and the request's id; the client adds its defaults (user
    /// agent, the run's headers, basic auth) where the step sets no header of that name.
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// For the whole exchange, redirects and the body included.
    pub timeout: Duration,
}

/// Where a request goes: a step's URL made once, or one rendered for this request.
pub enum Url<'a> {
    Static(&'a StaticUrl),
    Rendered(String),
}

impl Url<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Static(url) => &url.text,
            Self::Rendered(text) => text,
        }
    }
}

/// A step URL without placeholders: its text (as the base URL was written, which the
/// direct client's origins match) and its parse, which `reqwest` takes.
#[derive(Clone, Debug)]
pub struct StaticUrl {
    pub text: String,
    pub parsed: reqwest::Url,
}

impl StaticUrl {
    /// `text` if it parses; `None` leaves the URL to fail per request, as it would
    /// rendered.
    pub fn new(text: String) -> Option<Self> {
        let parsed = reqwest::Url::parse(&text).ok()?;
        Some(Self { text, parsed })
    }
}

/// A whole answer: the body read to its end (an unread body makes the client drop the
/// connection) and decoded when it came gzipped.
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A request that got no complete answer, classified as the report counts it.
#[derive(Debug)]
pub struct Failure {
    pub kind: FailureKind,
    /// What went wrong, each cause after the last (`a: b: c`).
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// No answer within the step's timeout.
    Timeout,
    /// No connection: refused, unreachable, the name not found.
    Connect,
    /// Anything else between sending and the last byte: a reset, a malformed answer.
    Transport,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    fn timeout(after: Duration) -> Self {
        Self::new(
            FailureKind::Timeout,
            format!("no complete answer within {}", humantime::format_duration(after)),
        )
    }
}

/// The client a user's requests go through.
pub enum Client<'a> {
    Reqwest(reqwest::Client),
    /// Plain HTTP/1.1 on the user's own connections.
    Direct(&'a Direct, &'a mut Connections),
}

impl Client<'_> {
    /// Sends `request` and reads its whole answer, within its timeout.
    pub async fn send(&mut self, request: Request<'_>) -> Result<Response, Failure> {
        match self {
            Self::Reqwest(client) => send_reqwest(client, request).await,
            Self::Direct(direct, connections) => direct.send(connections, request).await,
        }
    }
}

/// `request` through a `reqwest` client, which follows redirects and decodes gzip itself.
pub async fn send_reqwest(client: &reqwest::Client, request: Request<'_>) -> Result<Response, Failure> {
    let builder = match request.url {
        Url::Static(url) => client.request(request.method, url.parsed.clone()),
        Url::Rendered(text) => client.request(request.method, text),
    };
    let mut builder = builder.headers(request.headers).timeout(request.timeout);
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    let mut response = builder.send().await.map_err(reqwest_failure)?;
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    let body = response.bytes().await.map_err(reqwest_failure)?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn reqwest_failure(error: reqwest::Error) -> Failure {
    let kind = if error.is_timeout() {
        FailureKind::Timeout
    } else if error.is_connect() {
        FailureKind::Connect
    } else {
        FailureKind::Transport
    };
    Failure::new(kind, crate::error::error_chain(&error))
}
