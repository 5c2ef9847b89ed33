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
    let body = body_of(request, &headers).map_err(|why| format!("request.postData.{why}"))?;
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

/// The body a request sent: `postData.text`, or, where the recorder wrote a form's
/// fields instead (HAR's `params`, which some proxies write in place of the text), the
/// body those fields make in the form's own encoding: multipart with the boundary the
/// request was sent with, else `name=value&...`.
fn body_of(request: &Value, headers: &[(String, String)]) -> Result<Option<String>, String> {
    let Some(post) = request.get("postData") else {
        return Ok(None);
    };
    if let Some(text) = post.get("text").and_then(Value::as_str).filter(|t| !t.is_empty()) {
        return Ok(Some(text.to_owned()));
    }
    let Some(params) = post
        .get("params")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
    else {
        return Ok(None);
    };
    let params = params
        .iter()
        .enumerate()
        .map(|(i, param)| param_of(param).map_err(|why| format!("params[{i}].{why}")))
        .collect::<Result<Vec<_>, _>>()?;
    let sent_as = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.as_str())
        .or_else(|| post.get("mimeType").and_then(Value::as_str))
        .unwrap_or_default();
    if let Some(boundary) = super::fields::boundary(sent_as) {
        return Ok(Some(multipart(&params, &boundary)));
    }
    if sent_as.to_ascii_lowercase().starts_with("multipart/") {
        return Err(format!(
            "params: a multipart form ({sent_as:?}) without a boundary"
        ));
    }
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for param in &params {
        form.append_pair(&param.name, &param.value);
    }
    Ok(Some(form.finish()))
}

/// One of a form's fields as HAR writes it; a file's content is often left out.
struct Param {
    name: String,
    value: String,
    file_name: Option<String>,
    content_type: Option<String>,
}

fn param_of(param: &Value) -> Result<Param, String> {
    let optional = |field: &str| param.get(field).and_then(Value::as_str).map(str::to_owned);
    Ok(Param {
        name: optional("name").ok_or("name: missing or not a string")?,
        value: optional("value").unwrap_or_default(),
        file_name: optional("fileName"),
        content_type: optional("contentType"),
    })
}

/// A multipart/form-data body of `params` between `boundary` lines.
fn multipart(params: &[Param], boundary: &str) -> String {
    let mut body = String::new();
    for param in params {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"",
            param.name
        ));
        if let Some(file_name) = &param.file_name {
            body.push_str(&format!("; filename=\"{file_name}\""));
        }
        if let Some(content_type) = &param.content_type {
            body.push_str(&format!("\r\nContent-Type: {content_type}"));
        }
        body.push_str(&format!("\r\n\r\n{}\r\n", param.value));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
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

    /// One POST entry with `headers` and `postData`, read.
    fn posted(headers: &str, post_data: &str) -> Result<Vec<Exchange>, String> {
        let har = format!(
            r#"{{"log": {{"entries": [{{"request": {{"method": "POST", "url": "http://a.test/login",
               "headers": {headers}, "postData": {post_data}}}}}]}}}}"#
        );
        read("s.har", &har)
    }

    #[test]
    fn a_form_written_as_params_is_sent_as_the_form_it_was() {
        let form = posted(
            "[]",
            r#"{"mimeType": "application/x-www-form-urlencoded",
                "params": [{"name": "email", "value": "a+b@x.test"}, {"name": "password", "value": "p w&d"}]}"#,
        )
        .unwrap();
        assert_eq!(
            form[0].body.as_deref(),
            Some("email=a%2Bb%40x.test&password=p+w%26d")
        );

        let multipart = posted(
            r#"[{"name": "Content-Type", "value": "multipart/form-data; boundary=XyZ"}]"#,
            r#"{"mimeType": "multipart/form-data",
                "params": [{"name": "title", "value": "Lamp"},
                           {"name": "photo", "fileName": "l.png", "contentType": "image/png"}]}"#,
        )
        .unwrap();
        assert_eq!(
            multipart[0].body.as_deref(),
            Some(concat!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nLamp\r\n",
                "--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"l.png\"\r\n",
                "Content-Type: image/png\r\n\r\n\r\n--XyZ--\r\n"
            ))
        );

        let text_wins = posted(
            "[]",
            r#"{"mimeType": "text/plain", "text": "hi", "params": [{"name": "a", "value": "b"}]}"#,
        );
        assert_eq!(text_wins.unwrap()[0].body.as_deref(), Some("hi"));
        let err = posted(
            "[]",
            r#"{"mimeType": "multipart/form-data", "params": [{"name": "a"}]}"#,
        )
        .unwrap_err();
        assert!(
            err.starts_with("s.har: log.entries[0].request.postData.params: a multipart form"),
            "{err}"
        );
        let err = posted("[]", r#"{"params": [{"value": "a"}]}"#).unwrap_err();
        assert_eq!(
            err,
            "s.har: log.entries[0].request.postData.params[0].name: missing or not a string"
        );
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
