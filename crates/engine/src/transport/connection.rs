//! One kept-alive HTTP/1.1 connection of one virtual user, plain or over TLS: a request
//! written whole, its response read whole, framed by its length, its chunks or the
//! connection's end.
//!
//! Written for the load's shape, as wrk's client is: one request at a time, so no
//! channel, no task of its own and no buffer but the read buffer, which holds a
//! response until it is read. A connection costs its socket and that buffer (about
//! 4 KB); hyper's cost about 35 KB (its request channel's first block, its write and
//! read buffers, its task).

use std::io::ErrorKind;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf as _, Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// What a read asks the kernel for at least; a response's head fits in one.
const READ_SIZE: usize = 4096;
/// A response head larger than this is refused (hyper's default limit is 400 KB for
/// the whole buffer; heads of a few KB are the rule).
const MAX_HEAD: usize = 64 * 1024;
/// Response headers parsed at most.
const MAX_HEADERS: usize = 100;
/// A connection idle longer than this is checked before use: the server may have
/// closed it (its keep-alive timeout), and a request written into it would be lost.
const CHECK_IDLE: Duration = Duration::from_secs(1);
/// A read buffer grown past this by a large response is let go of afterwards.
const KEEP_BUFFER: usize = 64 * 1024;

pub struct Connection {
    stream: Stream,
    buffer: BytesMut,
    idle_since: Instant,
}

/// The bytes a connection carries: over TCP as they are, or through TLS.
pub enum Stream {
    Plain(TcpStream),
    /// Boxed: a TLS session's state is about 1 KB beside the socket's few bytes.
    Tls(Box<TlsStream<TcpStream>>),
}

/// A response read whole, and whether its connection may carry another request.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub reusable: bool,
}

/// Why an exchange failed.
#[derive(Debug)]
pub enum ExchangeError {
    /// The connection ended before any byte of the response: a kept-alive connection
    /// the server had closed. Another connection may be tried for a request that is
    /// safe to repeat.
    ClosedBeforeAnswer,
    Io(std::io::Error),
    /// The response is no HTTP/1.x a client can read.
    Malformed(String),
}

impl std::fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ClosedBeforeAnswer => write!(f, "the connection closed before any response"),
            Self::Io(e) => write!(f, "{e}"),
            Self::Malformed(what) => write!(f, "malformed response: {what}"),
        }
    }
}

impl From<std::io::Error> for ExchangeError {
    fn from(error: std::io::Error) -> Self {
        Self::Io(error)
    }
}

/// A request's parts as they go on the wire.
pub struct Outgoing<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub host: &'a HeaderValue,
    /// The request's own headers, then defaults for the names it does not set.
    pub headers: &'a HeaderMap,
    pub defaults: &'a HeaderMap,
    pub body: &'a [u8],
}

impl Connection {
    /// A connection on `stream`, with no delay before small writes (requests are
    /// answered one at a time: nothing would join them).
    pub fn new(stream: Stream) -> Self {
        let _ = stream.tcp().set_nodelay(true);
        Self {
            stream,
            buffer: BytesMut::new(),
            idle_since: Instant::now(),
        }
    }

    /// Whether the connection can take a request: one idle a while is checked for the
    /// server's close (or stray bytes) without waiting.
    pub fn usable(&mut self) -> bool {
        if self.idle_since.elapsed() < CHECK_IDLE {
            return true;
        }
        let mut probe = [0u8; 1];
        match &mut self.stream {
            Stream::Plain(tcp) => {
                matches!(tcp.try_read(&mut probe), Err(e) if e.kind() == ErrorKind::WouldBlock)
            }
            // The socket's bytes are TLS records only the session may read: a read that
            // does not wait, through it. Nothing to read yet is a connection still open
            // (a session ticket or a close alert is taken in by the session itself).
            Stream::Tls(tls) => {
                let mut context = Context::from_waker(std::task::Waker::noop());
                let mut buffer = ReadBuf::new(&mut probe);
                Pin::new(tls).poll_read(&mut context, &mut buffer).is_pending()
            }
        }
    }

    /// Writes `request` and reads its whole response.
    pub async fn exchange(&mut self, request: &Outgoing<'_>) -> Result<Answer, ExchangeError> {
        self.stream.write_all(&encode(request)).await?;
        // TLS may hold records back that the socket did not take yet.
        self.stream.flush().await?;
        let answer = self.read_answer(*request.method == Method::HEAD).await?;
        if self.buffer.capacity() > KEEP_BUFFER {
            self.buffer = BytesMut::new();
        }
        self.idle_since = Instant::now();
        Ok(answer)
    }

    /// The next final response (1xx ones skipped), its body framed as RFC 9112 says.
    async fn read_answer(&mut self, head_only: bool) -> Result<Answer, ExchangeError> {
        let mut first = true;
        loop {
            let head = self.read_head(first).await?;
            first = false;
            if (100..200).contains(&head.status) {
                continue;
            }
            let bodiless = head_only || head.status == 204 || head.status == 304;
            let (body, delimited) = match framing(&head.headers, bodiless)? {
                Framing::Empty => (Bytes::new(), true),
                Framing::Length(length) => (self.read_exact(length).await?, true),
                Framing::Chunked => (self.read_chunked().await?, true),
                Framing::UntilClose => (self.read_to_end().await?, false),
            };
            return Ok(Answer {
                status: head.status,
                reusable: delimited && head.keep_alive && self.buffer.is_empty(),
                headers: head.headers,
                body,
            });
        }
    }

    /// Reads until a whole response head is in the buffer and takes it out.
    async fn read_head(&mut self, first: bool) -> Result<Head, ExchangeError> {
        loop {
            if let Some(head) = parse_head(&mut self.buffer)? {
                return Ok(head);
            }
            if self.buffer.len() > MAX_HEAD {
                return Err(ExchangeError::Malformed(format!("a head over {MAX_HEAD} bytes")));
            }
            let nothing_yet = first && self.buffer.is_empty();
            match self.fill().await {
                Ok(0) if nothing_yet => return Err(ExchangeError::ClosedBeforeAnswer),
                Ok(0) => return Err(closed_early()),
                Ok(_) => {}
                // TLS's word for a connection closed without its close alert.
                Err(e) if nothing_yet && e.kind() == ErrorKind::UnexpectedEof => {
                    return Err(ExchangeError::ClosedBeforeAnswer)
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// More bytes into the buffer; 0 at the connection's end.
    async fn fill(&mut self) -> std::io::Result<usize> {
        if self.buffer.capacity() - self.buffer.len() < READ_SIZE / 4 {
            self.buffer.reserve(READ_SIZE);
        }
        self.stream.read_buf(&mut self.buffer).await
    }

    async fn read_exact(&mut self, length: usize) -> Result<Bytes, ExchangeError> {
        if self.buffer.len() < length {
            self.buffer.reserve(length - self.buffer.len());
        }
        while self.buffer.len() < length {
            if self.fill().await? == 0 {
                return Err(closed_early());
            }
        }
        Ok(self.buffer.split_to(length).freeze())
    }

    async fn read_chunked(&mut self) -> Result<Bytes, ExchangeError> {
        let mut body = BytesMut::new();
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.buffer) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.buffer.advance(used);
                        break usize::try_from(size).map_err(|_| malformed("a chunk too large"))?;
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(_) => return Err(malformed("a chunk size that is no hex number")),
                }
                if self.fill().await? == 0 {
                    return Err(closed_early());
                }
            };
            if size == 0 {
                self.skip_trailers().await?;
                return Ok(body.freeze());
            }
            let chunk = self.read_exact(size + 2).await?;
            if &chunk[size..] != b"\r\n" {
                return Err(malformed("a chunk not ended by CRLF"));
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }

    /// The trailer section after the last chunk, up to its empty line.
    async fn skip_trailers(&mut self) -> Result<(), ExchangeError> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                self.buffer.advance(end + 2);
                if end == 0 {
                    return Ok(());
                }
                continue;
            }
            if self.buffer.len() > MAX_HEAD {
                return Err(malformed("trailers too large"));
            }
            if self.fill().await? == 0 {
                return Err(closed_early());
            }
        }
    }

    async fn read_to_end(&mut self) -> Result<Bytes, ExchangeError> {
        while self.fill().await? > 0 {}
        Ok(self.buffer.split().freeze())
    }
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(tcp) => tcp,
            Self::Tls(tls) => tls.get_ref().0,
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Self::Tls(tls) => Pin::new(tls).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Self::Tls(tls) => Pin::new(tls).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Self::Tls(tls) => Pin::new(tls).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Self::Tls(tls) => Pin::new(tls).poll_shutdown(cx),
        }
    }
}

/// A response's status line and headers.
struct Head {
    status: u16,
    headers: HeaderMap,
    keep_alive: bool,
}

/// How a response's body is delimited.
#[derive(Debug, PartialEq)]
enum Framing {
    Empty,
    Length(usize),
    Chunked,
    UntilClose,
}

/// The head at the buffer's start, taken out of it; `None` while it is incomplete.
fn parse_head(buffer: &mut BytesMut) -> Result<Option<Head>, ExchangeError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    let used = match response.parse(buffer) {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(malformed(&e.to_string())),
    };
    let mut headers = HeaderMap::with_capacity(response.headers.len());
    for header in response.headers.iter() {
        let name =
            HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| malformed("a bad header name"))?;
        let value = HeaderValue::from_bytes(header.value).map_err(|_| malformed("a bad header value"))?;
        headers.append(name, value);
    }
    let status = response.code.unwrap_or_default();
    let keep_alive = match response.version {
        Some(1) => !has_token(&headers, reqwest::header::CONNECTION, "close"),
        _ => has_token(&headers, reqwest::header::CONNECTION, "keep-alive"),
    };
    buffer.advance(used);
    Ok(Some(Head {
        status,
        headers,
        keep_alive,
    }))
}

/// The body's framing: none, chunked (the last transfer coding), a length, or the
/// connection's end.
fn framing(headers: &HeaderMap, bodiless: bool) -> Result<Framing, ExchangeError> {
    if bodiless {
        return Ok(Framing::Empty);
    }
    if let Some(codings) = headers.get(reqwest::header::TRANSFER_ENCODING) {
        let last = codings
            .to_str()
            .unwrap_or_default()
            .rsplit(',')
            .next()
            .unwrap_or_default();
        return Ok(match last.trim().eq_ignore_ascii_case("chunked") {
            true => Framing::Chunked,
            false => Framing::UntilClose,
        });
    }
    let mut lengths = headers.get_all(reqwest::header::CONTENT_LENGTH).iter();
    match (lengths.next(), lengths.next()) {
        (None, _) => Ok(Framing::UntilClose),
        (Some(length), None) => length
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .map(Framing::Length)
            .ok_or_else(|| malformed("a content-length that is no number")),
        (Some(_), Some(_)) => Err(malformed("two content-lengths")),
    }
}

/// Whether header `name` lists `token` (case-insensitive, comma-separated).
fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .to_str()
            .unwrap_or_default()
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    })
}

/// The request's bytes: its line, its headers, the defaults it does not override, a
/// length when it has a body (or is a method that carries one), the body.
fn encode(request: &Outgoing<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + request.body.len());
    out.extend_from_slice(request.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(request.path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let mut header = |name: &HeaderName, value: &HeaderValue| {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    if !request.headers.contains_key(reqwest::header::HOST) {
        header(&reqwest::header::HOST, request.host);
    }
    for (name, value) in request.headers {
        header(name, value);
    }
    for (name, value) in request.defaults {
        if !request.headers.contains_key(name) {
            header(name, value);
        }
    }
    let carries_body = matches!(*request.method, Method::POST | Method::PUT | Method::PATCH);
    if !request.body.is_empty() || carries_body {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(request.body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(request.body);
    out
}

fn malformed(what: &str) -> ExchangeError {
    ExchangeError::Malformed(what.to_owned())
}

fn closed_early() -> ExchangeError {
    ExchangeError::Io(std::io::Error::new(
        ErrorKind::UnexpectedEof,
        "the connection closed before the response was complete",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        let mut buffer = BytesMut::from(text.as_bytes());
        parse_head(&mut buffer).unwrap().unwrap()
    }

    #[test]
    fn a_request_is_written_with_its_host_length_and_defaults_it_does_not_override() {
        let headers = HeaderMap::from_iter([(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        )]);
        let defaults = HeaderMap::from_iter([
            (reqwest::header::ACCEPT, HeaderValue::from_static("*/*")),
            (reqwest::header::USER_AGENT, HeaderValue::from_static("k/1")),
        ]);
        let host = HeaderValue::from_static("127.0.0.1:8080");
        let request = |method: &'static Method, body: &'static [u8]| {
            let outgoing = Outgoing {
                method,
                path: "/api/x?y=1",
                host: &host,
                headers: &headers,
                defaults: &defaults,
                body,
            };
            String::from_utf8(encode(&outgoing)).unwrap()
        };
        assert_eq!(
            request(&Method::POST, b"{}"),
            "POST /api/x?y=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\naccept: application/json\r\n\
             user-agent: k/1\r\ncontent-length: 2\r\n\r\n{}"
        );
        assert!(request(&Method::GET, b"").ends_with("user-agent: k/1\r\n\r\n"));
        assert!(request(&Method::PUT, b"").ends_with("content-length: 0\r\n\r\n"));
    }

    #[test]
    fn a_head_says_its_status_framing_and_whether_the_connection_stays() {
        let ok = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!((ok.status, ok.keep_alive), (200, true));
        assert_eq!(framing(&ok.headers, false).unwrap(), Framing::Length(5));
        assert_eq!(framing(&ok.headers, true).unwrap(), Framing::Empty);
        let closing =
            head("HTTP/1.1 200 OK\r\nConnection: Close\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert!(!closing.keep_alive);
        assert_eq!(framing(&closing.headers, false).unwrap(), Framing::Chunked);
        let old = head("HTTP/1.0 200 OK\r\n\r\n");
        assert!(!old.keep_alive);
        assert_eq!(framing(&old.headers, false).unwrap(), Framing::UntilClose);
        let kept = head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        assert!(kept.keep_alive);
        let twice = head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
        assert!(framing(&twice.headers, false).is_err());
        let mut partial = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Le"[..]);
        assert!(parse_head(&mut partial).unwrap().is_none());
        assert!(parse_head(&mut BytesMut::from(&b"SMTP ready\r\n\r\n"[..])).is_err());
    }

    /// A server written here byte by byte: whatever `script` says, to each connection.
    async fn serve(script: &'static [&'static [u8]]) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    for answer in script {
                        if stream.read(&mut request).await.unwrap_or(0) == 0 {
                            return;
                        }
                        for piece in answer.split(|b| *b == b'|') {
                            stream.write_all(piece).await.unwrap();
                            stream.flush().await.unwrap();
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        if answer.windows(17).any(|w| w == b"Connection: close") {
                            return;
                        }
                    }
                });
            }
        });
        address
    }

    async fn exchange(connection: &mut Connection, method: &Method) -> Result<Answer, ExchangeError> {
        let (headers, defaults) = (HeaderMap::new(), HeaderMap::new());
        let host = HeaderValue::from_static("test");
        let outgoing = Outgoing {
            method,
            path: "/",
            host: &host,
            headers: &headers,
            defaults: &defaults,
            body: b"",
        };
        connection.exchange(&outgoing).await
    }

    #[tokio::test]
    async fn responses_in_pieces_chunked_with_interim_answers_and_heads_are_read_whole() {
        let address = serve(&[
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-|Encoding: chunked\r\n\r\n5\r\nhel|lo\r\n6;x=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n",
            b"HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\n01234|56789",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
        ])
        .await;
        let mut connection = Connection::new(Stream::Plain(TcpStream::connect(address).await.unwrap()));
        let chunked = exchange(&mut connection, &Method::GET).await.unwrap();
        assert_eq!(
            (chunked.status, &chunked.body[..], chunked.reusable),
            (200, &b"hello world"[..], true)
        );
        let sized = exchange(&mut connection, &Method::POST).await.unwrap();
        assert_eq!((sized.status, &sized.body[..]), (201, &b"0123456789"[..]));
        // A HEAD's answer has a length but no body.
        let head = exchange(&mut connection, &Method::HEAD).await.unwrap();
        assert_eq!((head.status, head.body.len(), head.reusable), (200, 0, true));
        let empty = exchange(&mut connection, &Method::GET).await.unwrap();
        assert_eq!((empty.status, empty.body.len()), (204, 0));
        let last = exchange(&mut connection, &Method::GET).await.unwrap();
        assert_eq!((&last.body[..], last.reusable), (&b"until the end"[..], false));
        // The server closed: the next request gets no answer at all.
        assert!(matches!(
            exchange(&mut connection, &Method::GET).await,
            Err(ExchangeError::ClosedBeforeAnswer | ExchangeError::Io(_))
        ));
    }

    #[tokio::test]
    async fn a_response_cut_short_is_an_error_not_a_short_body() {
        let address = serve(&[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"]).await;
        let mut connection = Connection::new(Stream::Plain(TcpStream::connect(address).await.unwrap()));
        let error = exchange(&mut connection, &Method::GET).await.err().unwrap();
        assert!(
            error.to_string().contains("before the response was complete"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_tls_connection_closed_without_its_alert_is_closed_before_any_answer() {
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
        use std::sync::Arc;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(tcp).await.unwrap();
            let mut request = [0u8; 4096];
            let _ = tls.read(&mut request).await;
            tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .await
                .unwrap();
            tls.flush().await.unwrap();
            // The next request finds the socket closed without TLS's close alert, as a
            // server's idle timeout and that request may cross.
            let _ = tls.read(&mut request).await;
            drop(tls.into_inner().0);
        });
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der().clone()).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = TcpStream::connect(address).await.unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(client))
            .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
            .await
            .unwrap();
        let mut connection = Connection::new(Stream::Tls(Box::new(tls)));
        let first = exchange(&mut connection, &Method::GET).await.unwrap();
        assert_eq!(
            (first.status, &first.body[..], first.reusable),
            (200, &b"ok"[..], true)
        );
        let second = exchange(&mut connection, &Method::GET).await;
        assert!(
            matches!(second, Err(ExchangeError::ClosedBeforeAnswer)),
            "{:?}",
            second.err()
        );
    }
}
