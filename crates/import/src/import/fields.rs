//! The named fields of a body the import keeps as text, whatever its kind: JSON sent as
//! text (what `fetch` sends by default, as `text/plain`), a form (`key=value&...`), a
//! multipart form, and in any other text what reads as a field (`<password>...`). Each is visited as `(key, value)`, the value as the server reads it,
//! and a value the visitor changes is written back in the body's own encoding, so that
//! a password or a token in any of them can become a template.

use serde_json::Value;

/// Visits the fields of `text`, a body sent with `content_type`; a body of none of
/// these kinds has no named fields.
pub(super) fn fields_mut(
    text: &mut String,
    content_type: Option<&str>,
    f: &mut impl FnMut(&str, &mut String),
) {
    let written = content_type.unwrap_or_default();
    let content_type = written.to_ascii_lowercase();
    if let Some(boundary) = boundary(written) {
        multipart_mut(text, &boundary, f);
    } else if let Some(json) = json_of(text) {
        json_text_mut(text, json, f);
    } else if content_type.contains("x-www-form-urlencoded") || looks_like_form(text) {
        form_mut(text, f);
    } else {
        pairs_mut(text, f);
    }
}

/// `name=value`, `name: value`, `"name": "value"` and `<name>value</name>` in a body of
/// no known kind (XML, a text protocol): what reads as a field is visited as one.
fn pairs_mut(text: &mut String, f: &mut impl FnMut(&str, &mut String)) {
    static PAIR: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"(?:<([A-Za-z_][\w.:-]*)>([^<]+)</([A-Za-z_][\w.:-]*)>)|(?:["']?([A-Za-z_][\w.-]*)["']?\s*[:=]\s*["']?([^\s"'&;,<>]+))"#,
        )
        .expect("a valid pattern")
    });
    let mut rewritten = String::new();
    let mut copied = 0;
    for found in PAIR.captures_iter(text) {
        let (key, value) = match (found.get(1), found.get(3), found.get(4)) {
            (Some(open), Some(close), _) if open.as_str() == close.as_str() => (open, found.get(2)),
            (_, _, Some(key)) => (key, found.get(5)),
            _ => continue,
        };
        let Some(value) = value else { continue };
        let mut changed = value.as_str().to_owned();
        f(key.as_str(), &mut changed);
        if changed != value.as_str() {
            rewritten.push_str(&text[copied..value.start()]);
            rewritten.push_str(&changed);
            copied = value.end();
        }
    }
    rewritten.push_str(&text[copied..]);
    *text = rewritten;
}

/// A body that parses as a JSON object or array.
fn json_of(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') && !trimmed.starts_with('[') {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// Each changed string field is replaced where the body has it, as JSON writes it,
/// so that the rest of the text stays as it was sent.
fn json_text_mut(text: &mut String, mut json: Value, f: &mut impl FnMut(&str, &mut String)) {
    let mut changed: Vec<(String, String)> = Vec::new();
    json_fields_mut(&mut json, None, &mut |key, value| {
        let before = value.clone();
        f(key, value);
        if *value != before {
            changed.push((before, value.clone()));
        }
    });
    for (before, after) in changed {
        *text = text.replace(&json_string(&before), &json_string(&after));
    }
}

/// The string leaves of `value` with the key of the field that holds them.
pub(super) fn json_fields_mut(value: &mut Value, key: Option<&str>, f: &mut impl FnMut(&str, &mut String)) {
    match value {
        Value::String(text) => {
            if let Some(key) = key {
                f(key, text);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| json_fields_mut(v, key, f)),
        Value::Object(fields) => fields
            .iter_mut()
            .for_each(|(k, v)| json_fields_mut(v, Some(k), f)),
        _ => {}
    }
}

fn json_string(value: &str) -> String {
    Value::String(value.to_owned()).to_string()
}

/// `key=value&key=value` and nothing else: no spaces, every piece a pair.
fn looks_like_form(text: &str) -> bool {
    !text.is_empty()
        && !text.contains(char::is_whitespace)
        && text
            .split('&')
            .all(|pair| pair.split_once('=').is_some_and(|(k, _)| !k.is_empty()))
}

/// A form's pairs, decoded for the visitor; a changed value is written as it is (a
/// template is substituted before the request is sent).
fn form_mut(text: &mut String, f: &mut impl FnMut(&str, &mut String)) {
    let pairs: Vec<String> = text
        .split('&')
        .map(|pair| {
            let Some((raw_key, raw_value)) = pair.split_once('=') else {
                return pair.to_owned();
            };
            let key = decode(raw_key);
            let mut value = decode(raw_value);
            let before = value.clone();
            f(&key, &mut value);
            if value == before {
                pair.to_owned()
            } else {
                format!("{raw_key}={value}")
            }
        })
        .collect();
    *text = pairs.join("&");
}

fn decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// `multipart/form-data; boundary=XyZ` -> `XyZ` (its case kept: it is matched exactly).
pub(super) fn boundary(content_type: &str) -> Option<String> {
    if !content_type.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    content_type.split(';').find_map(|part| {
        let value = part.trim().strip_prefix("boundary=")?;
        Some(value.trim_matches('"').to_owned())
    })
}

/// Each part that is a field (a name, no file name) is visited with its value.
fn multipart_mut(text: &mut String, boundary: &str, f: &mut impl FnMut(&str, &mut String)) {
    let delimiter = format!("--{boundary}");
    let parts: Vec<String> = text
        .split(&delimiter)
        .map(|part| multipart_part_mut(part, f).unwrap_or_else(|| part.to_owned()))
        .collect();
    *text = parts.join(&delimiter);
}

/// One part, `\r\nheaders\r\n\r\nvalue\r\n`, with its value rewritten; `None` when it
/// is not a field or the visitor left it.
fn multipart_part_mut(part: &str, f: &mut impl FnMut(&str, &mut String)) -> Option<String> {
    let (separator, ending) = if part.contains("\r\n\r\n") {
        ("\r\n\r\n", "\r\n")
    } else {
        ("\n\n", "\n")
    };
    let (headers, body) = part.split_once(separator)?;
    let disposition = headers
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("content-disposition:"))?;
    if disposition.contains("filename=") {
        return None;
    }
    let name = disposition
        .split(';')
        .find_map(|p| p.trim().strip_prefix("name="))?;
    let name = name.trim_matches('"');
    let value = body.strip_suffix(ending).unwrap_or(body);
    let mut changed = value.to_owned();
    f(name, &mut changed);
    (changed != value).then(|| format!("{headers}{separator}{changed}{}", &body[value.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field's value becomes `<KEY>`, and which fields were seen.
    fn rewritten(text: &str, content_type: Option<&str>) -> (String, Vec<(String, String)>) {
        let mut text = text.to_owned();
        let mut seen = Vec::new();
        fields_mut(&mut text, content_type, &mut |key, value| {
            seen.push((key.to_owned(), value.clone()));
            *value = format!("<{key}>");
        });
        (text, seen)
    }

    #[test]
    fn json_sent_as_text_keeps_its_layout() {
        let body = r#"{"email": "a@b.test", "nested": {"password": "p\"w1"}}"#;
        let (text, seen) = rewritten(body, Some("text/plain;charset=UTF-8"));
        assert_eq!(
            text,
            r#"{"email": "<email>", "nested": {"password": "<password>"}}"#
        );
        assert!(seen.contains(&("password".into(), "p\"w1".into())), "{seen:?}");
    }

    #[test]
    fn form_values_are_decoded_for_the_visitor() {
        let (text, seen) = rewritten(
            "user=ann%40b.test&password=P%26ss+word1&remember",
            Some("application/x-www-form-urlencoded"),
        );
        assert_eq!(text, "user=<user>&password=<password>&remember");
        assert_eq!(seen[1], ("password".into(), "P&ss word1".into()));
        let (text, _) = rewritten("a=1&b=2", None);
        assert_eq!(text, "a=<a>&b=<b>", "a form without its content type");
        let (text, seen) = rewritten("just some words", None);
        assert_eq!((text.as_str(), seen.len()), ("just some words", 0));
    }

    #[test]
    fn fields_in_other_text_are_found_by_their_shape() {
        let (text, seen) = rewritten(
            "<login><user>ann</user><password>Pw1 x</password></login>\npin: 4321\n",
            Some("application/xml"),
        );
        assert_eq!(
            text,
            "<login><user><user></user><password><password></password></login>\npin: <pin>\n"
        );
        assert_eq!(seen.len(), 3, "{seen:?}");
    }

    #[test]
    fn multipart_fields_are_rewritten_and_files_left() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nPw1secret\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\
                    Content-Type: image/png\r\n\r\nPNG\r\n--XyZ--\r\n";
        let (text, seen) = rewritten(body, Some("multipart/form-data; boundary=XyZ"));
        assert_eq!(seen, [("password".to_owned(), "Pw1secret".to_owned())]);
        assert_eq!(
            text,
            body.replace("Pw1secret", "<password>"),
            "only the field's value changes"
        );
    }
}
