//! HAR 1.2 (what a browser's DevTools "Save all as HAR" writes, or a recording proxy)
//! -> exchanges. A malformed file is named with the entry and field at fault.

use base64::Engine as _;
use serde_json::Value;
use url::Url;

use super::recording::{Answer, Exchange, Timing};

/// The exchanges of `text`, read from `origin` (the file's name, for errors), in the
/// order they were sent.
pub fn read(origin: &str, text: &str) -> Result<Vec<Exchange>, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "{origin}:{}:{}: not a HAR file (not JSON: {e})",
            e.line(),
            e.column()
        )
    })?;
    let entries = json
        .pointer("/log/entries")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{origin}: not a HAR file: no log.entries array"))?;
    let mut exchanges = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| entry_of(entry).map_err(|why| format!("{origin}: log.entries[{i}].{why}")))
        .collect::<Result<Vec<_>, _>>()?;
    // Browsers write entries as requests finish; the flow is the order they were sent.
    exchanges.sort_by(|a, b| {
        let start = |e: &Exchange| e.timing.map_or(0.0, |t| t.started_ms);
        start(a).total_cmp(&start(b))
    });
    Ok(exchanges)
}

fn entry_of(entry: &Value) -> Result<Exchange, String> {
    let request = entry.get("request").ok_or("request: missing")?;
    let text = |value: &Value, field: &str| -> Result<String, String> {
        value
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("{field}: missing or not a string"))
    };
    let method = text(request, "method").map_err(|why| format!("request.{why}"))?;
    let url_text = text(request, "url").map_err(|why| format!("request.{why}"))?;
    let url = Url::parse(&url_text).map_err(|e| format!("request.url: {url_text:?} is not a URL ({e})"))?;
    let headers = headers_of(request).map_err(|why| format!("request.{why}"))?;
    let body = request
        .pointer("/postData/text")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let timing = entry
        .get("startedDateTime")
        .and_then(Value::as_str)
        .map(|started| {
            chrono::DateTime::parse_from_rfc3339(started)
                .map(|t| Timing {
                    started_ms: t.timestamp_micros() as f64 / 1000.0,
                    took_ms: entry.get("time").and_then(Value::as_f64).unwrap_or(0.0),
                })
                .map_err(|e| format!("startedDateTime: {started:?} is not an ISO 8601 time ({e})"))
        })
        .transpose()?;
    let answer = entry
        .get("response")
        .map(|r| answer_of(r).map_err(|why| format!("response.{why}")))
        .transpose()?
        // A request that got no answer (blocked, cancelled) is recorded with status 0.
        .filter(|a| a.status != 0);
    Ok(Exchange {
        method,
        url,
        headers,
        body,
        resource: entry
            .get("_resourceType")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase),
        timing,
        answer,
    })
}

fn answer_of(response: &Value) -> Result<Answer, String> {
    let status = response
        .get("status")
        .and_then(Value::as_u64)
        .ok_or("status: missing or not a number")?;
    let content = response.get("content");
    let mime = content
        .and_then(|c| c.get("mimeType"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let body = content
        .and_then(|c| c.get("text"))
        .and_then(Value::as_str)
        .and_then(
            |text| match content.and_then(|c| c.get("encoding")).and_then(Value::as_str) {
                Some("base64") => base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok()),
                _ => Some(text.to_owned()),
            },
        );
    Ok(Answer {
        status: u16::try_from(status).map_err(|_| format!("status: {status} is not an HTTP status"))?,
        headers: headers_of(response)?,
        mime,
        body,
    })
}

fn headers_of(message: &Value) -> Result<Vec<(String, String)>, String> {
    let Some(headers) = message.get("headers") else {
        return Ok(Vec::new());
    };
    let headers = headers.as_array().ok_or("headers: not an array")?;
    headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let field = |name: &str| {
                h.get(name)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| format!("headers[{i}].{name}: missing or not a string"))
            };
            Ok((field("name")?, field("value")?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_read_in_the_order_they_were_sent() {
        let har = r#"{"log": {"entries": [
            {"startedDateTime": "2026-12-03T10:00:01.500Z", "time": 20,
             "request": {"method": "GET", "url": "http://a.test/second", "headers": []},
             "response": {"status": 200, "headers": [], "content": {"mimeType": "text/html", "text": "aGk=", "encoding": "base64"}}},
            {"startedDateTime": "2026-12-03T10:00:00.000Z", "time": 5,
             "request": {"method": "POST", "url": "http://a.test/first", "headers": [{"name": "X-A", "value": "1"}],
                         "postData": {"mimeType": "application/json", "text": "{}"}},
             "response": {"status": 0, "headers": [], "content": {}}}
        ]}}"#;
        let exchanges = read("s.har", har).unwrap();
        assert_eq!(exchanges[0].url.path(), "/first");
        assert_eq!(exchanges[0].header("x-a"), Some("1"));
        assert!(exchanges[0].answer.is_none(), "status 0 is no answer");
        assert_eq!(exchanges[1].answer.as_ref().unwrap().body.as_deref(), Some("hi"));
        let gap = exchanges[1].timing.unwrap().started_ms - exchanges[0].timing.unwrap().ended_ms();
        assert_eq!(gap, 1495.0);
    }

    #[test]
    fn a_malformed_file_names_the_entry_and_field() {
        let err = read(
            "s.har",
            "{\"log\": {\"entries\": [{\"request\": {\"method\": \"GET\"}}]}}",
        )
        .unwrap_err();
        assert_eq!(err, "s.har: log.entries[0].request.url: missing or not a string");
        let err = read("s.har", "{\n  \"log\": [,]}").unwrap_err();
        assert!(err.starts_with("s.har:2:"), "{err}");
        let err = read("s.har", "{\"log\": {}}").unwrap_err();
        assert!(err.contains("no log.entries"), "{err}");
    }
}
