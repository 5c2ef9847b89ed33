//! A real headless Chromium driven over the Chrome DevTools Protocol: pages opened,
//! forms filled and sent as a user would, and every request of the session saved as a
//! HAR file from the Network domain's events (what DevTools' "Save all as HAR" writes).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::browser::{chromium, HEADLESS};

/// The longest wait for the browser to start, a page to load or a condition to hold.
const PATIENCE: Duration = Duration::from_secs(30);

pub struct Browser {
    child: Child,
    socket: tungstenite::WebSocket<TcpStream>,
    next_id: u64,
    /// Network events by request id, in the order they came.
    network: BTreeMap<String, Vec<(String, Value)>>,
    order: Vec<String>,
    /// Answers' bodies, asked for as soon as each finished: a page's are gone once the
    /// browser moves to the next one.
    bodies: BTreeMap<String, Value>,
    unread: Vec<String>,
    loaded: bool,
}

impl Browser {
    /// Starts Chromium with its own profile in `profile` and attaches to its blank page.
    pub fn launch(profile: &Path) -> Self {
        let child = Command::new(chromium())
            .args(HEADLESS)
            .arg("--remote-debugging-port=0")
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        let port = devtools_port(profile);
        let page = page_socket_path(port);
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let (socket, _) = tungstenite::client(format!("ws://127.0.0.1:{port}{page}"), stream).unwrap();
        let mut browser = Self {
            child,
            socket,
            next_id: 0,
            network: BTreeMap::new(),
            order: Vec::new(),
            bodies: BTreeMap::new(),
            unread: Vec::new(),
            loaded: false,
        };
        browser.call("Network.enable", json!({}));
        browser.call("Page.enable", json!({}));
        browser
    }

    /// Opens `url` and waits for its load event.
    pub fn open(&mut self, url: &str) {
        self.read_bodies();
        self.loaded = false;
        self.call("Page.navigate", json!({ "url": url }));
        let started = Instant::now();
        while !self.loaded {
            assert!(started.elapsed() < PATIENCE, "{url} did not load");
            self.read_one();
        }
    }

    /// The value of `expression` evaluated in the page (promises awaited).
    pub fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "awaitPromise": true, "returnByValue": true }),
        );
        assert!(result.get("exceptionDetails").is_none(), "{expression}: {result}");
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page; panics with `what` and its last
    /// value (`shown`) when it never is.
    pub fn wait_until(&mut self, expression: &str, shown: &str, what: &str) {
        let started = Instant::now();
        loop {
            if self.eval(expression) == Value::Bool(true) {
                return;
            }
            if started.elapsed() > PATIENCE {
                panic!("{what}: never happened; the page shows {}", self.eval(shown));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The session so far as HAR 1.2, answers' bodies included.
    pub fn har(&mut self) -> Value {
        self.read_bodies();
        let ids = self.order.clone();
        let mut entries = Vec::new();
        for id in ids {
            let events = self.network[&id].clone();
            let find = |name: &str| events.iter().find(|(n, _)| n == name).map(|(_, p)| p.clone());
            let (Some(sent), Some(answered)) = (
                find("Network.requestWillBeSent"),
                find("Network.responseReceived"),
            ) else {
                continue;
            };
            let finished = find("Network.loadingFinished");
            let body = self.bodies.get(&id).cloned().unwrap_or(Value::Null);
            entries.push(entry(&sent, &answered, finished.as_ref(), &body));
        }
        json!({ "log": {
            "version": "1.2",
            "creator": { "name": "karigar-perf tests (Chrome DevTools Protocol)", "version": "1" },
            "entries": entries,
        }})
    }

    fn read_bodies(&mut self) {
        while let Some(id) = self.unread.pop() {
            let body = self.call("Network.getResponseBody", json!({ "requestId": id }));
            self.bodies.insert(id, body);
        }
    }

    /// Sends a command and reads until its answer (events met on the way are kept).
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({ "id": id, "method": method, "params": params }).to_string();
        self.socket.send(tungstenite::Message::text(message)).unwrap();
        loop {
            let message = self.read_one();
            if message["id"].as_u64() == Some(id) {
                // An error (no body for a preflight, say) is an empty result.
                return message.get("result").cloned().unwrap_or(Value::Null);
            }
        }
    }

    fn read_one(&mut self) -> Value {
        let message = match self.socket.read().expect("the browser answers") {
            tungstenite::Message::Text(text) => serde_json::from_str::<Value>(&text).unwrap(),
            _ => return Value::Null,
        };
        let method = message["method"].as_str().unwrap_or_default().to_owned();
        if method == "Page.loadEventFired" {
            self.loaded = true;
        }
        if let Some(id) = message["params"]["requestId"]
            .as_str()
            .filter(|_| method.starts_with("Network."))
        {
            if method == "Network.loadingFinished" {
                self.unread.push(id.to_owned());
            }
            if !self.network.contains_key(id) {
                self.order.push(id.to_owned());
            }
            self.network
                .entry(id.to_owned())
                .or_default()
                .push((method, message["params"].clone()));
        }
        message
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port Chromium chose, from the `DevToolsActivePort` file it writes.
fn devtools_port(profile: &Path) -> u16 {
    let file = profile.join("DevToolsActivePort");
    let started = Instant::now();
    loop {
        if let Some(port) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| text.lines().next().and_then(|l| l.trim().parse().ok()))
        {
            return port;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "chromium wrote no {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The DevTools path of the browser's first page, from `/json/list` (asked again
/// until the page is listed).
fn page_socket_path(port: u16) -> String {
    let started = Instant::now();
    loop {
        let targets: Vec<Value> = serde_json::from_str(&http_get(port, "/json/list")).unwrap_or_default();
        if let Some(page) = targets.iter().find(|t| t["type"] == "page") {
            let url = page["webSocketDebuggerUrl"].as_str().unwrap();
            return url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap();
        }
        assert!(started.elapsed() < PATIENCE, "chromium lists no page");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The body of `GET path` from the DevTools server, read to its Content-Length.
fn http_get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0; 8192];
    loop {
        let n = stream.read(&mut buffer).unwrap_or(0);
        answer.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok());
            if n == 0 || length.is_some_and(|len| body.len() >= len) {
                return body.to_owned();
            }
        } else if n == 0 {
            return String::new();
        }
    }
}

fn entry(sent: &Value, answered: &Value, finished: Option<&Value>, body: &Value) -> Value {
    let request = &sent["request"];
    let response = &answered["response"];
    let started_s = sent["wallTime"].as_f64().unwrap();
    let took_ms = finished
        .and_then(|f| f["timestamp"].as_f64())
        .map_or(0.0, |end| (end - sent["timestamp"].as_f64().unwrap()) * 1000.0);
    let started = chrono::DateTime::from_timestamp_micros((started_s * 1e6) as i64).unwrap();
    let post = request["postData"].as_str().map(str::to_owned).or_else(|| {
        use base64::Engine as _;
        let parts = request["postDataEntries"].as_array()?;
        let bytes: Vec<u8> = parts
            .iter()
            .filter_map(|p| p["bytes"].as_str())
            .flat_map(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .unwrap_or_default()
            })
            .collect();
        String::from_utf8(bytes).ok()
    });
    let mime = |headers: &Value| {
        headers
            .as_object()
            .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")))
            .and_then(|(_, v)| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let mut har_request = json!({
        "method": request["method"],
        "url": request["url"],
        "headers": pairs(&request["headers"]),
    });
    if let Some(text) = post {
        har_request["postData"] = json!({ "mimeType": mime(&request["headers"]), "text": text });
    }
    let mut content = json!({ "mimeType": response["mimeType"] });
    if let Some(text) = body["body"].as_str() {
        content["text"] = json!(text);
        if body["base64Encoded"] == true {
            content["encoding"] = json!("base64");
        }
    }
    json!({
        "startedDateTime": started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "time": took_ms,
        "_resourceType": sent["type"].as_str().unwrap_or("other").to_ascii_lowercase(),
        "request": har_request,
        "response": { "status": response["status"], "headers": pairs(&response["headers"]), "content": content },
    })
}

/// CDP's `{name: value}` headers as HAR's `[{name, value}]`.
fn pairs(headers: &Value) -> Value {
    let pairs: Vec<Value> = headers
        .as_object()
        .map(|h| h.iter().map(|(k, v)| json!({ "name": k, "value": v })).collect())
        .unwrap_or_default();
    Value::Array(pairs)
}
