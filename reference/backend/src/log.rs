//! JSON log lines in the seed's format (`timestamp`, `level`, `service`, `message`,
//! `user_id`, `request_id`), one per line on stdout, and the middleware that gives
//! every request an id and logs its completion. `LOG_FORMAT=gin` writes plain text
//! instead, each request as Gin's default logger writes it (no request id), as a
//! backend that has not adopted the seed's format does.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{json, Value};
use uuid::Uuid;

const SERVICE: &str = "backend";

/// Lines below this level are dropped: 0 info, 1 error, 2 nothing (`LOG_LEVEL`).
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// Sets the lowest level written: `info` (default), `error` or `off`.
pub fn set_level(level: &str) {
    let value = match level {
        "error" => 1,
        "off" => 2,
        _ => 0,
    };
    LEVEL.store(value, Ordering::Relaxed);
}

/// Plain text as Gin's default logger writes it, instead of JSON lines (`LOG_FORMAT`).
static GIN: AtomicBool = AtomicBool::new(false);

/// Sets the format of the lines: `json` (default) or `gin`.
pub fn set_format(format: &str) {
    GIN.store(format == "gin", Ordering::Relaxed);
}

fn enabled(level: &str) -> bool {
    let rank = if level == "ERROR" { 1 } else { 0 };
    rank >= LEVEL.load(Ordering::Relaxed)
}
const REQUEST_ID_HEADER: &str = "x-request-id";

/// The authenticated user a handler served, put in the response's extensions so that
/// the request log line can name it.
#[derive(Clone, Copy, Debug)]
pub struct ServedUser(pub Uuid);

/// Writes one log line. `extra` holds fields beyond the seed's six.
pub fn emit(level: &str, message: &str, user_id: Option<Uuid>, request_id: Option<&str>, extra: Value) {
    if !enabled(level) {
        return;
    }
    if GIN.load(Ordering::Relaxed) {
        let now = chrono::Utc::now().format("%Y/%m/%d - %H:%M:%S");
        return write_line(&format!("[GIN-debug] {now} {level} {message}"));
    }
    let mut line = json!({
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "level": level,
        "service": SERVICE,
        "message": message,
        "user_id": user_id,
        "request_id": request_id,
    });
    if let (Some(line), Value::Object(extra)) = (line.as_object_mut(), extra) {
        line.extend(extra);
    }
    write_line(&line.to_string());
}

fn write_line(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout must not take the server down with it.
    let _ = writeln!(out, "{line}");
}

/// A request as Gin's default logger writes it:
/// `[GIN] 2026/12/05 - 12:00:00 | 200 |    1.234567ms |  127.0.0.1 | GET  "/health"`.
fn gin_request(status: u16, latency: std::time::Duration, method: &str, path: &str) {
    if !enabled(if status >= 500 { "ERROR" } else { "INFO" }) {
        return;
    }
    let now = chrono::Utc::now().format("%Y/%m/%d - %H:%M:%S");
    let latency = format!("{latency:?}");
    write_line(&format!(
        "[GIN] {now} | {status:>3} | {latency:>13} | {:>15} | {method:<7} {path:?}",
        "127.0.0.1"
    ));
}

pub fn info(message: &str) {
    emit("INFO", message, None, None, Value::Null);
}

pub fn error(message: &str) {
    emit("ERROR", message, None, None, Value::Null);
}

/// Middleware: reuses a client's `X-Request-ID` or makes one, echoes it in the
/// response and logs the request once it has been answered.
pub async fn requests(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        request.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let status = response.status();
    if GIN.load(Ordering::Relaxed) {
        gin_request(status.as_u16(), started.elapsed(), method.as_str(), &path);
        return response;
    }
    let level = if status.is_server_error() { "ERROR" } else { "INFO" };
    let user = response.extensions().get::<ServedUser>().map(|u| u.0);
    emit(
        level,
        "request completed",
        user,
        Some(&request_id),
        json!({
            "method": method.as_str(),
            "path": path,
            "status": status.as_u16(),
            "latency_ms": started.elapsed().as_secs_f64() * 1000.0,
        }),
    );
    response
}
