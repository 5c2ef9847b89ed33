//! Correlation: a value an answer gave (a JSON field, a header, a cookie, a hidden form
//! field) that a later request sends becomes a capture on the step that got it and a
//! template where it is sent, so that every iteration sends its own, never the
//! recording's.

use serde_json::Value;

use super::draft::{identifier, Draft, Names};
use super::recording::{Answer, Exchange};

/// Shorter values, or values with spaces or without a digit, are words (a category, a
/// role), not something a server made up for this session.
const MIN_LEN: usize = 8;

/// A value one answer gave.
struct Given {
    value: String,
    step: usize,
    /// Where it is in the answer, as a `capture` writes it.
    from: String,
    suggested: String,
    /// The variable, once a later request sent it.
    var: Option<String>,
}

/// A capture found: which step's answer, which variable, from where, sent by whom.
pub(super) struct Found {
    pub step: usize,
    pub var: String,
    pub from: String,
    pub sent_by: Vec<usize>,
}

/// Rewrites `drafts` (one per exchange of `sent`, in order) and returns the captures.
pub(super) fn correlate(sent: &[&Exchange], drafts: &mut [Draft], names: &mut Names) -> Vec<Found> {
    let mut given: Vec<Given> = Vec::new();
    let mut found: Vec<Found> = Vec::new();
    let mut requests_so_far = String::new();
    for (i, exchange) in sent.iter().enumerate() {
        drafts[i].texts_mut(&mut |text| {
            for g in &mut given {
                if !text.contains(&g.value) {
                    continue;
                }
                let var = g.var.get_or_insert_with(|| names.fresh(&g.suggested)).clone();
                *text = text.replace(&g.value, &format!("{{{{{var}}}}}"));
                match found.iter_mut().find(|f| f.var == var) {
                    Some(f) if !f.sent_by.contains(&i) => f.sent_by.push(i),
                    Some(_) => {}
                    None => found.push(Found {
                        step: g.step,
                        var,
                        from: g.from.clone(),
                        sent_by: vec![i],
                    }),
                }
            }
        });
        request_text(exchange, &mut requests_so_far);
        let Some(answer) = &exchange.answer else { continue };
        for (from, suggested, value) in values_of(answer) {
            // A value the client sent first is an echo (the email back), not given.
            let made_up = value.len() >= MIN_LEN
                && !value.chars().any(char::is_whitespace)
                && value.chars().any(|c| c.is_ascii_digit())
                && !value.contains("{{");
            if made_up && !requests_so_far.contains(&value) && !given.iter().any(|g| g.value == value) {
                given.push(Given {
                    value,
                    step: i,
                    from,
                    suggested,
                    var: None,
                });
            }
        }
        // Longest first, so that a value inside another is not replaced within it.
        given.sort_by_key(|g| std::cmp::Reverse(g.value.len()));
    }
    for f in &found {
        drafts[f.step].capture.push((f.var.clone(), f.from.clone()));
    }
    found
}

fn request_text(exchange: &Exchange, out: &mut String) {
    out.push_str(exchange.url.as_str());
    for (name, value) in &exchange.headers {
        out.push('\n');
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
    }
    if let Some(body) = &exchange.body {
        out.push('\n');
        out.push_str(body);
    }
    out.push('\n');
}

/// `(capture expression, suggested variable name, value)` of everything in `answer` a
/// later request might send back.
fn values_of(answer: &Answer) -> Vec<(String, String, String)> {
    let mut values = Vec::new();
    let mime = answer.mime.to_ascii_lowercase();
    if let Some(body) = &answer.body {
        if mime.contains("json") {
            if let Ok(json) = serde_json::from_str::<Value>(body) {
                json_leaves(&json, &mut Vec::new(), &mut values);
            }
        } else if mime.starts_with("text/html") {
            hidden_fields(body, &mut values);
        }
    }
    for (name, value) in &answer.headers {
        let lower = name.to_ascii_lowercase();
        if lower == "set-cookie" {
            if let Some((cookie, value)) = value.split(';').next().and_then(|p| p.split_once('=')) {
                let cookie = cookie.trim();
                if !cookie.is_empty()
                    && cookie
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    values.push((
                        format!("cookie:{cookie}"),
                        identifier(cookie),
                        value.trim().to_owned(),
                    ));
                }
            }
        } else if lower.starts_with("x-") {
            values.push((format!("header:{lower}"), identifier(&lower), value.clone()));
        }
    }
    values
}

/// Leaves of a JSON answer that are strings, with their RFC 6901 pointers; the
/// variable is named after the field (`access_token`, `user_id` for `/user/id`).
fn json_leaves(value: &Value, path: &mut Vec<String>, out: &mut Vec<(String, String, String)>) {
    const MAX_LEAVES: usize = 5_000;
    if out.len() >= MAX_LEAVES {
        return;
    }
    match value {
        Value::String(text) => {
            let pointer: String = path
                .iter()
                .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
                .collect();
            out.push((pointer, suggested_name(path), text.clone()));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                json_leaves(item, path, out);
                path.pop();
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                path.push(key.clone());
                json_leaves(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn suggested_name(path: &[String]) -> String {
    let named: Vec<&String> = path
        .iter()
        .filter(|s| !s.chars().all(|c| c.is_ascii_digit()))
        .collect();
    let generic = ["id", "value", "token", "key", "code"];
    let name = match named.as_slice() {
        [.., parent, last] if generic.contains(&last.as_str()) => format!("{parent}_{last}"),
        [.., last] => (*last).clone(),
        [] => "value".into(),
    };
    identifier(&name)
}

/// `<input ... name="N" ... value="V">` of a page (a CSRF token, a form's id).
fn hidden_fields(html: &str, out: &mut Vec<(String, String, String)>) {
    static INPUT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"<input\b[^>]*?\bname="([A-Za-z0-9_.:-]+)"[^>]*?\bvalue="([^"]+)""#)
            .expect("a valid pattern")
    });
    for found in INPUT.captures_iter(html) {
        let (name, value) = (&found[1], &found[2]);
        let pattern = format!(r#"~name="{}"[^>]*?value="([^"]+)""#, regex::escape(name));
        out.push((pattern, identifier(name), value.to_owned()));
    }
}

/// For a recording without answers (cURL): a bearer token sent after a sign-up or
/// log-in is taken as that answer's `/access_token` (the contract's `AuthResponse`),
/// said as a guess. Returns the notes.
pub(super) fn guess_bearer_tokens(drafts: &mut [Draft], names: &mut Names) -> Vec<String> {
    let mut notes = Vec::new();
    let mut guessed: Vec<(String, String)> = Vec::new();
    for i in 0..drafts.len() {
        let (earlier, rest) = drafts.split_at_mut(i);
        let draft = &mut rest[0];
        let Some(source) = earlier
            .iter_mut()
            .rposition(|d| d.method == "POST" && is_auth_path(&d.path))
        else {
            continue;
        };
        for (_, value) in &mut draft.headers {
            let Some(token) = value.strip_prefix("Bearer ").filter(|t| !t.contains("{{")) else {
                continue;
            };
            let token = token.to_owned();
            let var = match guessed.iter().find(|(t, _)| *t == token) {
                Some((_, var)) => var.clone(),
                None => {
                    let var = names.fresh("access_token");
                    earlier[source]
                        .capture
                        .push((var.clone(), "/access_token".into()));
                    notes.push(format!(
                        "guessed: the bearer token {} sends is /access_token of {}'s answer (a cURL command records no answer; change the pointer if yours differs)",
                        draft.name, earlier[source].name
                    ));
                    guessed.push((token, var.clone()));
                    var
                }
            };
            *value = format!("Bearer {{{{{var}}}}}");
        }
    }
    notes
}

fn is_auth_path(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default().to_ascii_lowercase();
    [
        "login", "register", "signin", "sign-in", "signup", "sign-up", "token", "refresh",
    ]
    .iter()
    .any(|word| path.contains(word))
}
