//! A recorded session as the importers read it, whatever it came from: each request
//! in the order it was sent, with its answer when the recording has one.

use url::Url;

/// One request and, from a HAR, what came back.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    pub url: Url,
    /// As recorded, names in any case.
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// What the browser said it was (`document`, `script`, `fetch`, ...), when it did.
    pub resource: Option<String>,
    /// When it was sent, in milliseconds since the epoch, and how long it took.
    pub timing: Option<Timing>,
    pub answer: Option<Answer>,
}

#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub started_ms: f64,
    pub took_ms: f64,
}

impl Timing {
    pub fn ended_ms(&self) -> f64 {
        self.started_ms + self.took_ms.max(0.0)
    }
}

#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub mime: String,
    pub body: Option<String>,
}

impl Exchange {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// `scheme://host:port`, the port always written, so that two spellings of one
    /// origin compare equal.
    pub fn origin(&self) -> String {
        origin_of(&self.url)
    }

    /// The path and query, as a step's `path`.
    pub fn path(&self) -> String {
        match self.url.query() {
            Some(query) => format!("{}?{query}", self.url.path()),
            None => self.url.path().to_owned(),
        }
    }
}

pub fn origin_of(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    )
}

pub(super) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
