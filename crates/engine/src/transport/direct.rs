//! HTTP/1.1, plain or over TLS, on connections each virtual user owns, kept alive
//! between its requests, as wrk does. A user sends one request at a time, so it needs
//! no pool: its connection to each origin is a slot, reopened when the server closed it.
//!
//! Measured against nginx `return 200` (callgrind, instructions per request): a bare
//! `reqwest` loop costs about 58,000, one on hyper's connection about 17,500; `reqwest`
//! parses each URL twice more, hashes its pool's key and checks out a connection per
//! request. The connection itself is [`super::connection`].
//!
//! It carries the run's HTTP/1.1 traffic whatever the settings (headers, basic auth,
//! `--resolve`, and over TLS the trusted CAs, the client certificate and `--insecure`,
//! through the one rustls configuration of [`crate::tls`], whose session cache lets a
//! reconnecting user resume) and, with `--clients per-user`, each user's cookies (in a
//! jar of the user's, which its `reqwest` client for other URLs shares); HTTP/2 and
//! proxies stay with `reqwest` ([`Direct::new`] says which). Redirects are followed as
//! `reqwest` follows them; one that leaves the run's origins, and any URL outside them,
//! goes through `reqwest`.

use std::borrow::Cow;
use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::cookie::{CookieStore as _, Jar};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::connection::{Connection, ExchangeError, Outgoing, Stream};
use super::{send_reqwest, Failure, FailureKind, Request, Response, Url};
use crate::http::HttpSettings;
use crate::tls::Alpn;

/// Redirects followed before a request fails, as `reqwest`'s default policy.
const MAX_REDIRECTS: usize = 10;

/// Environment variables through which `reqwest` sends plain HTTP through a proxy.
const PROXY_VARIABLES: [&str; 4] = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];
/// And HTTPS.
const TLS_PROXY_VARIABLES: [&str; 4] = ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"];

/// What every user's direct requests share: the origins, the headers every request
/// gets, and the `reqwest` client for URLs outside the origins.
pub struct Direct {
    origins: Vec<Origin>,
    defaults: HeaderMap,
    fallback: Fallback,
    /// For `https://` origins: the run's TLS settings, offering HTTP/1.1.
    tls: Option<TlsConnector>,
}

/// The `reqwest` client for URLs outside the origins.
#[derive(Clone)]
pub enum Fallback {
    /// One for every user, keeping no cookies.
    Shared(reqwest::Client),
    /// Each user's own, built on its first such URL with the user's cookie jar: users
    /// keep the cookies their answers set, as browsers do.
    PerUser(UserClient),
}

/// Builds a user's own client around its cookie jar.
pub type UserClient = Arc<dyn Fn(Arc<Jar>) -> reqwest::Client + Send + Sync>;

/// One base URL's server: how its URLs start, its `Host`, where to connect.
struct Origin {
    /// `http[s]://host[:port]` exactly as the base URL spells it (the step runner builds
    /// every URL from that text).
    prefix: String,
    host: HeaderValue,
    address: Address,
    /// For `https://`: the name the server's certificate must carry (the URL's host,
    /// wherever `--resolve` sends the connection).
    server_name: Option<ServerName<'static>>,
}

enum Address {
    /// An IP literal, or the address `--resolve` gives.
    Socket(SocketAddr),
    /// A name, resolved when a connection opens.
    Name(String, u16),
}

/// A user's open connections, one slot per origin; with per-user clients, its cookies
/// and its own `reqwest` client.
#[derive(Default)]
pub struct Connections {
    open: Vec<Option<Connection>>,
    jar: Option<Arc<Jar>>,
    client: Option<reqwest::Client>,
}

/// Goose keeps session data cloneable; a connection is one user's alone, so a copy
/// opens its own.
impl Clone for Connections {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = self.open.iter().filter(|slot| slot.is_some()).count();
        write!(f, "Connections {{ open: {open} }}")
    }
}

impl Direct {
    /// The direct client for `origins` (base URLs), or `None` where `reqwest` must carry
    /// the load: an origin with a user in it, HTTP/2, or a proxy in the environment for
    /// the origins' schemes. `fallback` carries URLs outside the origins, and says
    /// whether users keep cookies; `user_agent` goes with every request, beside the
    /// settings' headers and basic auth.
    pub fn new(
        settings: &HttpSettings,
        origins: &[String],
        user_agent: &str,
        fallback: Fallback,
    ) -> Result<Option<Self>, String> {
        if settings.http2 {
            return Ok(None);
        }
        let names: Vec<&str> = origins.iter().map(String::as_str).collect();
        let routes = crate::http::routes(&settings.resolve, &names)?;
        let mut parsed = Vec::with_capacity(origins.len());
        for base in origins {
            match Origin::of(base, &routes) {
                Some(origin) => parsed.push(origin),
                None => return Ok(None),
            }
        }
        let tls = parsed.iter().any(|origin| origin.server_name.is_some());
        if proxy_in_environment(&PROXY_VARIABLES) || (tls && proxy_in_environment(&TLS_PROXY_VARIABLES)) {
            return Ok(None);
        }
        let tls = match tls {
            true => Some(TlsConnector::from(Arc::new(crate::tls::config(
                settings,
                Alpn::Http1,
            )?))),
            false => None,
        };
        let mut defaults = crate::client::header_map(settings)?;
        for (name, value) in [
            (header::USER_AGENT, user_agent),
            (header::ACCEPT, "*/*"),
            (header::ACCEPT_ENCODING, "gzip"),
        ] {
            let value =
                HeaderValue::from_str(value).map_err(|_| format!("{value:?} is not a header value"))?;
            defaults.entry(name).or_insert(value);
        }
        Ok(Some(Self {
            origins: parsed,
            defaults,
            fallback,
            tls,
        }))
    }

    /// Sends `request` on the user's `connections`, follows its redirects and reads the
    /// whole answer, all within the request's timeout.
    pub async fn send(
        &self,
        connections: &mut Connections,
        request: Request<'_>,
    ) -> Result<Response, Failure> {
        let timeout = request.timeout;
        match tokio::time::timeout(timeout, self.follow(connections, request)).await {
            Ok(answer) => answer,
            Err(_) => {
                // The connection in use is somewhere in a request: no other may follow.
                connections.open.clear();
                Err(Failure::timeout(timeout))
            }
        }
    }

    /// The request, then each redirect's, until an answer that is no redirect.
    async fn follow(
        &self,
        connections: &mut Connections,
        mut request: Request<'_>,
    ) -> Result<Response, Failure> {
        for _ in 0..=MAX_REDIRECTS {
            let Some((origin, path)) = self.route(request.url.as_str()) else {
                return send_reqwest(&self.fallback_of(connections), request).await;
            };
            let url = self.keeps_cookies().then(|| cookie_url(&request)).flatten();
            let cookie = url.as_ref().and_then(|url| user_jar(connections).cookies(url));
            let response = self
                .exchange(connections, origin, &path, &request, cookie)
                .await?;
            if let Some(url) = &url {
                let mut set = response.headers.get_all(header::SET_COOKIE).iter();
                user_jar(connections).set_cookies(&mut set, url);
            }
            match redirected(request, &response) {
                Some(next) => request = next,
                None => return Ok(response),
            }
        }
        Err(Failure::new(
            FailureKind::Transport,
            format!("more than {MAX_REDIRECTS} redirects"),
        ))
    }

    /// Whether each user keeps its cookies (`--clients per-user`).
    fn keeps_cookies(&self) -> bool {
        matches!(self.fallback, Fallback::PerUser(_))
    }

    /// The client for a URL outside the origins: the shared one, or the user's own
    /// (sharing its jar with its direct requests).
    fn fallback_of(&self, connections: &mut Connections) -> reqwest::Client {
        match &self.fallback {
            Fallback::Shared(client) => client.clone(),
            Fallback::PerUser(build) => {
                let jar = user_jar(connections).clone();
                connections.client.get_or_insert_with(|| build(jar)).clone()
            }
        }
    }

    /// The origin `url` belongs to, and its path as a request line takes it; `None` for
    /// a URL of another origin or a path only `reqwest` would encode (spaces, controls,
    /// anything not ASCII).
    fn route<'u>(&self, url: &'u str) -> Option<(usize, Cow<'u, str>)> {
        self.origins.iter().enumerate().find_map(|(index, origin)| {
            let rest = url.strip_prefix(origin.prefix.as_str())?;
            let rest = rest.split('#').next().unwrap_or_default();
            if !rest.bytes().all(|b| b.is_ascii_graphic()) {
                return None;
            }
            let path = match rest.as_bytes().first() {
                None => Cow::Borrowed("/"),
                Some(b'/') => Cow::Borrowed(rest),
                Some(b'?') => Cow::Owned(format!("/{rest}")),
                Some(_) => return None,
            };
            Some((index, path))
        })
    }

    /// One request and its answer on the user's connection to `origin`, with the
    /// user's `cookie` unless the step sets its own.
    async fn exchange(
        &self,
        connections: &mut Connections,
        origin: usize,
        path: &str,
        request: &Request<'_>,
        cookie: Option<HeaderValue>,
    ) -> Result<Response, Failure> {
        let url = request.url.as_str();
        let with_cookie;
        let headers = match cookie {
            Some(cookie) if !request.headers.contains_key(header::COOKIE) => {
                let mut headers = request.headers.clone();
                headers.insert(header::COOKIE, cookie);
                with_cookie = headers;
                &with_cookie
            }
            _ => &request.headers,
        };
        let outgoing = Outgoing {
            method: &request.method,
            path,
            host: &self.origins[origin].host,
            headers,
            defaults: &self.defaults,
            body: request.body.as_deref().unwrap_or_default(),
        };
        let (connection, reused) = self.ready(connections, origin, url).await?;
        let answer = match connection.exchange(&outgoing).await {
            // A kept-alive connection the server had closed: once more on a new one,
            // for a request that is safe to repeat.
            Err(ExchangeError::ClosedBeforeAnswer) if reused && request.method.is_idempotent() => {
                connections.open[origin] = None;
                let (connection, _) = self.ready(connections, origin, url).await?;
                connection.exchange(&outgoing).await
            }
            answer => answer,
        };
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                connections.open[origin] = None;
                return Err(Failure::new(FailureKind::Transport, format!("{url}: {error}")));
            }
        };
        if !answer.reusable {
            connections.open[origin] = None;
        }
        let mut headers = answer.headers;
        let body = decoded(&mut headers, answer.body)
            .map_err(|e| Failure::new(FailureKind::Transport, format!("{url}: {e}")))?;
        Ok(Response {
            status: answer.status,
            headers,
            body,
        })
    }

    /// The user's open connection to `origin`, or a new one; and whether it was open.
    async fn ready<'c>(
        &self,
        connections: &'c mut Connections,
        origin: usize,
        url: &str,
    ) -> Result<(&'c mut Connection, bool), Failure> {
        if connections.open.len() <= origin {
            connections
                .open
                .resize_with(self.origins.len().max(origin + 1), || None);
        }
        let slot = &mut connections.open[origin];
        let reused = slot.as_mut().is_some_and(Connection::usable);
        if !reused {
            *slot = Some(connect(&self.origins[origin], self.tls.as_ref(), url).await?);
        }
        Ok((slot.as_mut().expect("filled above"), reused))
    }
}

/// The user's cookie jar, made on its first use.
fn user_jar(connections: &mut Connections) -> &Arc<Jar> {
    connections.jar.get_or_insert_with(Default::default)
}

/// `request`'s URL as the cookie jar takes it.
fn cookie_url(request: &Request<'_>) -> Option<reqwest::Url> {
    match &request.url {
        Url::Static(url) => Some(url.parsed.clone()),
        Url::Rendered(text) => reqwest::Url::parse(text).ok(),
    }
}

impl Origin {
    /// `base`'s origin when it is HTTP or HTTPS without a user; `routes` are
    /// `--resolve`'s.
    fn of(base: &str, routes: &[(String, SocketAddr)]) -> Option<Self> {
        let scheme_end = base.find("://")? + 3;
        let tls = match &base[..scheme_end] {
            scheme if scheme.eq_ignore_ascii_case("http://") => false,
            scheme if scheme.eq_ignore_ascii_case("https://") => true,
            _ => return None,
        };
        let authority_end = base[scheme_end..]
            .find(['/', '?', '#'])
            .map_or(base.len(), |at| scheme_end + at);
        let authority = &base[scheme_end..authority_end];
        if authority.contains('@') || authority.is_empty() {
            return None;
        }
        let url = reqwest::Url::parse(base).ok()?;
        let host = url.host_str()?.to_owned();
        let port = url.port_or_known_default()?;
        let address = match routes.iter().find(|(name, _)| *name == host) {
            Some((_, address)) => Address::Socket(*address),
            None => match url.host()? {
                url::Host::Ipv4(ip) => Address::Socket(SocketAddr::new(ip.into(), port)),
                url::Host::Ipv6(ip) => Address::Socket(SocketAddr::new(ip.into(), port)),
                url::Host::Domain(name) => Address::Name(name.to_owned(), port),
            },
        };
        let server_name = match tls {
            true => Some(match url.host()? {
                url::Host::Ipv4(ip) => ServerName::IpAddress(std::net::IpAddr::from(ip).into()),
                url::Host::Ipv6(ip) => ServerName::IpAddress(std::net::IpAddr::from(ip).into()),
                url::Host::Domain(name) => ServerName::try_from(name.to_owned()).ok()?,
            }),
            false => None,
        };
        Some(Self {
            prefix: base[..authority_end].to_owned(),
            host: HeaderValue::from_str(authority).ok()?,
            address,
            server_name,
        })
    }
}

/// A new connection to `origin`, through TLS for an `https://` one.
async fn connect(origin: &Origin, tls: Option<&TlsConnector>, url: &str) -> Result<Connection, Failure> {
    let tcp = match &origin.address {
        Address::Socket(address) => tokio::net::TcpStream::connect(address).await,
        Address::Name(name, port) => tokio::net::TcpStream::connect((name.as_str(), *port)).await,
    }
    .map_err(|e| {
        Failure::new(
            FailureKind::Connect,
            format!("{url}: connect to {}: {e}", origin.prefix),
        )
    })?;
    let (Some(tls), Some(name)) = (tls, &origin.server_name) else {
        return Ok(Connection::new(Stream::Plain(tcp)));
    };
    let stream = tls.connect(name.clone(), tcp).await.map_err(|e| {
        Failure::new(
            FailureKind::Connect,
            format!("{url}: TLS handshake with {}: {e}", origin.prefix),
        )
    })?;
    Ok(Connection::new(Stream::Tls(Box::new(stream))))
}

/// The request a redirect asks for, as `reqwest` makes it: 301, 302 and 303 become a
/// GET without a body (HEAD stays), 307 and 308 repeat the request; credentials stay
/// behind when the host changes. `None` for an answer that is no redirect.
fn redirected<'a>(request: Request<'a>, response: &Response) -> Option<Request<'a>> {
    let status = StatusCode::from_u16(response.status).ok()?;
    let keeps_method = match status {
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER => false,
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => true,
        _ => return None,
    };
    let location = response.headers.get(header::LOCATION)?.to_str().ok()?;
    let here = reqwest::Url::parse(request.url.as_str()).ok()?;
    let next = here.join(location).ok()?;
    let mut headers = request.headers;
    if next.host_str() != here.host_str() || next.port_or_known_default() != here.port_or_known_default() {
        for name in [
            header::AUTHORIZATION,
            header::COOKIE,
            header::PROXY_AUTHORIZATION,
            header::WWW_AUTHENTICATE,
        ] {
            headers.remove(name);
        }
    }
    let (method, body) = match keeps_method || request.method == Method::HEAD {
        true => (request.method, request.body),
        false => {
            for name in [
                header::CONTENT_TYPE,
                header::CONTENT_LENGTH,
                header::CONTENT_ENCODING,
                header::TRANSFER_ENCODING,
            ] {
                headers.remove(name);
            }
            (Method::GET, None)
        }
    };
    Some(Request {
        method,
        url: Url::Rendered(next.into()),
        headers,
        body,
        timeout: request.timeout,
    })
}

/// `body` decoded when the server gzipped it (the request said it may), its encoding
/// and length headers then dropped, as `reqwest` does.
fn decoded(headers: &mut HeaderMap, body: Bytes) -> Result<Bytes, String> {
    let gzipped = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"gzip"));
    if !gzipped {
        return Ok(body);
    }
    let mut plain = Vec::with_capacity(body.len() * 4);
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut plain)
        .map_err(|e| format!("the gzipped body does not decode: {e}"))?;
    headers.remove(header::CONTENT_ENCODING);
    headers.remove(header::CONTENT_LENGTH);
    Ok(plain.into())
}

/// A proxy `reqwest` would send requests through (it reads these itself).
fn proxy_in_environment(variables: &[&str]) -> bool {
    variables
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(origins: &[&str], settings: &HttpSettings) -> Option<Direct> {
        let origins: Vec<String> = origins.iter().map(|o| (*o).to_owned()).collect();
        Direct::new(
            settings,
            &origins,
            "k/1",
            Fallback::Shared(reqwest::Client::new()),
        )
        .unwrap()
    }

    #[test]
    fn http_1_origins_go_direct_and_the_rest_to_reqwest() {
        let settings = HttpSettings::default();
        assert!(direct(
            &["http://127.0.0.1:8080", "http://localhost:3000/app/"],
            &settings
        )
        .is_some());
        let tls = direct(
            &[
                "http://127.0.0.1:8080",
                "https://example.test:8443",
                "HTTPS://[::1]",
            ],
            &settings,
        )
        .unwrap();
        assert!(tls.origins[0].server_name.is_none());
        assert_eq!(
            tls.origins[1].server_name,
            Some(ServerName::try_from("example.test").unwrap())
        );
        assert_eq!(
            tls.origins[2].server_name,
            Some(ServerName::try_from("::1").unwrap())
        );
        assert!(matches!(tls.origins[2].address, Address::Socket(a) if a.port() == 443));
        assert!(direct(&["ftp://127.0.0.1:8080"], &settings).is_none());
        assert!(direct(&["http://user:pw@127.0.0.1:8080"], &settings).is_none());
        let http2 = HttpSettings {
            http2: true,
            ..Default::default()
        };
        assert!(direct(&["http://127.0.0.1:8080"], &http2).is_none());
    }

    #[test]
    fn a_url_is_routed_to_its_origin_with_its_path() {
        let direct = direct(
            &["http://127.0.0.1:8080", "http://LOCALHOST:3000/app"],
            &HttpSettings::default(),
        )
        .unwrap();
        let route = |url: &str| {
            direct
                .route(url)
                .map(|(origin, path)| (origin, path.into_owned()))
        };
        assert_eq!(
            route("http://127.0.0.1:8080/api/x?y=1#top"),
            Some((0, "/api/x?y=1".into()))
        );
        assert_eq!(route("http://127.0.0.1:8080"), Some((0, "/".into())));
        assert_eq!(route("http://127.0.0.1:8080?q"), Some((0, "/?q".into())));
        assert_eq!(
            route("http://LOCALHOST:3000/app/login"),
            Some((1, "/app/login".into()))
        );
        // Another port of the same host, another host, a path only reqwest would encode.
        assert_eq!(route("http://127.0.0.1:80801/"), None);
        assert_eq!(route("http://example.test/"), None);
        assert_eq!(route("http://127.0.0.1:8080/a b"), None);
        assert_eq!(direct.origins[1].host, "LOCALHOST:3000");
    }

    #[test]
    fn redirects_change_the_method_as_reqwest_does() {
        let request = |method: Method| Request {
            method,
            url: Url::Rendered("http://127.0.0.1:8080/form".into()),
            headers: HeaderMap::from_iter([
                (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
                (header::AUTHORIZATION, HeaderValue::from_static("Bearer t")),
            ]),
            body: Some(Bytes::from_static(b"{}")),
            timeout: std::time::Duration::from_secs(1),
        };
        let answer = |status: u16, location: &str| Response {
            status,
            headers: HeaderMap::from_iter([(header::LOCATION, HeaderValue::from_str(location).unwrap())]),
            body: Bytes::new(),
        };
        let next = redirected(request(Method::POST), &answer(303, "/done?x=1")).unwrap();
        assert_eq!(
            (next.method.as_str(), next.url.as_str()),
            ("GET", "http://127.0.0.1:8080/done?x=1")
        );
        assert!(next.body.is_none() && !next.headers.contains_key(header::CONTENT_TYPE));
        assert!(next.headers.contains_key(header::AUTHORIZATION));
        let next = redirected(request(Method::POST), &answer(307, "http://other.test/form")).unwrap();
        assert_eq!(next.method, Method::POST);
        assert_eq!(next.body.as_deref(), Some(&b"{}"[..]));
        assert!(!next.headers.contains_key(header::AUTHORIZATION));
        assert!(redirected(request(Method::GET), &answer(200, "/elsewhere")).is_none());
        assert!(redirected(request(Method::GET), &answer(304, "/elsewhere")).is_none());
    }

    #[test]
    fn a_gzipped_body_is_decoded_and_its_encoding_dropped() {
        use std::io::Write as _;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(b"{\"token\":\"t\"}").unwrap();
        let mut headers = HeaderMap::from_iter([
            (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            (header::CONTENT_LENGTH, HeaderValue::from_static("33")),
        ]);
        let body = decoded(&mut headers, gzip.finish().unwrap().into()).unwrap();
        assert_eq!(&body[..], b"{\"token\":\"t\"}");
        assert!(headers.is_empty());
        let mut broken = HeaderMap::from_iter([(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))]);
        assert!(decoded(&mut broken, Bytes::from_static(b"not gzip")).is_err());
    }
}
