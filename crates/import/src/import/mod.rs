//! `import har` and `import curl`: a recorded session (a browser's HAR, or "Copy as
//! cURL" commands) -> a scenario file that runs as a new user's flow, not a replay of
//! the recording's: values an answer gave become captures, emails unique per
//! iteration, passwords and secrets `[vars]`, never copied.
//!
//! - `recording`: the exchanges, whatever they came from; `har`, `curl`: the readers
//! - `classify`: pages, their static assets, API calls; preflights and other hosts
//! - `draft`: a step as the import builds it, its name from method and path
//! - `fields`: the named fields of a body kept as text (JSON as text, forms, multipart)
//! - `params`: emails, passwords and secrets -> `[vars]`
//! - `correlate`: values from answers that later requests send -> captures
//! - `write`: the scenario file

mod classify;
mod correlate;
pub mod curl;
mod draft;
mod fields;
pub mod har;
mod params;
mod recording;
mod write;

pub use recording::{origin_of, Answer, Exchange, Timing};

use classify::Role;
use draft::{Draft, Names};

/// A pause shorter than this is the browser's own work, not the user's.
const MIN_THINK_MS: f64 = 100.0;
/// A longer recorded pause (the user went away) is written as this.
const MAX_THINK_MS: f64 = 30_000.0;

/// What the user asked of an import.
#[derive(Debug, Default)]
pub struct Options {
    /// The scenario's name.
    pub name: String,
    /// Think times from the recorded gaps (`--no-think` turns them off).
    pub think: bool,
    /// Origins (`http://host:port`) of the frontend and the backend, when the first
    /// page's and the first API call's are not them.
    pub frontend: Option<String>,
    pub backend: Option<String>,
}

/// The scenario file and what the import inferred, a line each.
#[derive(Debug)]
pub struct Imported {
    pub text: String,
    pub notes: Vec<String>,
    pub steps: usize,
}

/// Builds the scenario of `exchanges`, recorded in `origin` (a file's name).
pub fn import(origin: &str, exchanges: &[Exchange], options: &Options) -> Result<Imported, String> {
    let sorted = classify::sort(exchanges, options.frontend.clone(), options.backend.clone());
    if sorted.kept.is_empty() {
        return Err(format!(
            "{origin}: no request to the frontend or the backend in it ({} request(s) recorded)",
            exchanges.len()
        ));
    }
    let mut notes = sorting_notes(&sorted, exchanges.len());
    let sent: Vec<&Exchange> = sorted.kept.iter().map(|k| &exchanges[k.index]).collect();
    let mut drafts: Vec<Draft> = sorted
        .kept
        .iter()
        .map(|k| Draft::of(&exchanges[k.index], k))
        .collect();
    let mut names = Names::default();
    for draft in &mut drafts {
        draft.name = names.fresh(&draft.name);
    }
    let mut vars = params::emails(&mut drafts, &mut names);
    vars.extend(params::passwords(&mut drafts, &mut names));
    let found = correlate::correlate(&sent, &mut drafts, &mut names);
    for f in &found {
        let users: Vec<&str> = f.sent_by.iter().map(|&i| drafts[i].name.as_str()).collect();
        notes.push(format!(
            "captured: {} = {} of {}'s answer, sent by {}",
            f.var,
            f.from,
            drafts[f.step].name,
            users.join(", ")
        ));
    }
    if exchanges.iter().all(|e| e.answer.is_none()) {
        notes.extend(correlate::guess_bearer_tokens(&mut drafts, &mut names));
    }
    let (secrets, dropped_cookies) = params::secrets(&mut drafts, &mut names);
    vars.extend(secrets);
    notes.extend(vars.iter().map(|v| v.note.clone()));
    notes.extend(dropped_cookies);
    if exchanges.iter().all(|e| e.timing.is_none()) {
        notes.push("think times: none (the recording has no timing)".into());
    } else if options.think {
        notes.push(think_times(exchanges, &sorted.kept, &mut drafts));
    }
    let mut header = vec![format!(
        "Imported from {origin} by `karigar-perf import`: {} request(s) recorded, {} step(s).",
        exchanges.len(),
        drafts.len()
    )];
    if vars.iter().any(|v| v.value == params::CHANGE_ME) {
        header.push(format!(
            "Set the [vars] values written {:?} before running it.",
            params::CHANGE_ME
        ));
    }
    let text = write::scenario(&options.name, &header, &vars, &drafts);
    Ok(Imported {
        text,
        notes,
        steps: drafts.len(),
    })
}

fn sorting_notes(sorted: &classify::Sorted, recorded: usize) -> Vec<String> {
    let pages = sorted.kept.iter().filter(|k| k.role == Role::Page).count();
    let mut notes = vec![format!(
        "{recorded} request(s) recorded -> {} step(s): {pages} page(s), {} API call(s)",
        sorted.kept.len(),
        sorted.kept.len() - pages
    )];
    if let Some(frontend) = &sorted.frontend {
        notes.push(format!("frontend: {frontend} (steps with target = \"frontend\")"));
    }
    if let Some(backend) = &sorted.backend {
        notes.push(format!("backend: {backend}"));
    }
    if sorted.folded > 0 {
        notes.push(format!(
            "folded: {} static asset(s) into their pages' steps (not replayed)",
            sorted.folded
        ));
    }
    if sorted.preflights > 0 {
        notes.push(format!(
            "dropped: {} CORS preflight(s): only browsers send them",
            sorted.preflights
        ));
    }
    if sorted.streams > 0 {
        notes.push(format!(
            "dropped: {} WebSocket or event stream(s)",
            sorted.streams
        ));
    }
    if !sorted.other_hosts.is_empty() {
        let hosts: Vec<String> = sorted
            .other_hosts
            .iter()
            .map(|(h, n)| format!("{h} ({n})"))
            .collect();
        notes.push(format!(
            "dropped: requests to other hosts: {} (--frontend-origin or --backend-origin keeps one)",
            hosts.join(", ")
        ));
    }
    notes
}

/// Each step's pause: from the end of everything the browser did for it (its page's
/// assets, its preflight included) to the start of the next step (or of the next
/// step's preflight), as the user took it.
fn think_times(exchanges: &[Exchange], kept: &[classify::Kept], drafts: &mut [Draft]) -> String {
    let mut pauses = Vec::new();
    for (i, pair) in kept.windows(2).enumerate() {
        let Some(next) = exchanges[pair[1].index].timing else {
            continue;
        };
        let between = &exchanges[pair[0].index + 1..pair[1].index];
        let preflight = |e: &Exchange| classify::role(e) == Role::Preflight;
        let next_url = &exchanges[pair[1].index].url;
        let next_start = between
            .iter()
            .filter(|e| preflight(e) && e.url == *next_url)
            .filter_map(|e| e.timing)
            .map(|t| t.started_ms)
            .fold(next.started_ms, f64::min);
        let busy_until = exchanges[..=pair[0].index]
            .iter()
            .chain(between.iter().filter(|e| !preflight(e)))
            .filter_map(|e| e.timing)
            .map(|t| t.ended_ms())
            .fold(f64::NEG_INFINITY, f64::max);
        let gap = next_start - busy_until;
        if gap >= MIN_THINK_MS {
            let ms = (gap.min(MAX_THINK_MS) / 10.0).round() as u64 * 10;
            drafts[i].think_ms = Some(ms);
            pauses.push(ms);
        }
    }
    match (pauses.iter().min(), pauses.iter().max()) {
        (Some(low), Some(high)) => format!(
            "think times: {} from the recorded pauses, {:.1} s to {:.1} s (--no-think leaves them out)",
            pauses.len(),
            *low as f64 / 1000.0,
            *high as f64 / 1000.0
        ),
        _ => "think times: none (no recorded pause of 100 ms or more)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadOverrides, Plan, Source};

    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiNDIifQ.c2lnbmF0dXJlMQ";

    fn entry(
        at: &str,
        method: &str,
        url: &str,
        kind: &str,
        request: &str,
        status: u16,
        answer: &str,
    ) -> String {
        format!(
            r#"{{"startedDateTime": "2026-12-03T10:00:{at}Z", "time": 50, "_resourceType": "{kind}",
                "request": {{"method": "{method}", "url": "{url}", "headers": [{request}]}},
                "response": {{"status": {status}, "headers": [], "content": {{"mimeType": "application/json", "text": {answer}}}}}}}"#
        )
    }

    fn recorded_signup() -> String {
        let register =
            r#"{"email":"ann@example.test","password":"Recorded1pw","name":"Ann","role":"customer"}"#;
        let registered = serde_json::json!({"access_token": TOKEN, "refresh_token": "r3fresh-9f8e7d6c5b4a",
            "user": {"id": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "email": "ann@example.test", "role": "customer"}});
        let entries = [
            entry(
                "00.000",
                "GET",
                "http://127.0.0.1:3000/auth/email",
                "document",
                "",
                200,
                "\"<html></html>\"",
            ),
            entry(
                "00.100",
                "GET",
                "http://127.0.0.1:3000/_next/static/b/app.css",
                "stylesheet",
                "",
                200,
                "\"\"",
            ),
            entry(
                "00.120",
                "GET",
                "https://fonts.example.test/a.woff2",
                "font",
                "",
                200,
                "\"\"",
            ),
            entry(
                "02.000",
                "OPTIONS",
                "http://127.0.0.1:8080/api/v1/auth/register",
                "preflight",
                r#"{"name": "Access-Control-Request-Method", "value": "POST"}"#,
                204,
                "\"\"",
            ),
            format!(
                r#"{{"startedDateTime": "2026-12-03T10:00:02.100Z", "time": 80, "_resourceType": "fetch",
                    "request": {{"method": "POST", "url": "http://127.0.0.1:8080/api/v1/auth/register",
                      "headers": [{{"name": "Content-Type", "value": "application/json"}}, {{"name": "User-Agent", "value": "x"}}],
                      "postData": {{"mimeType": "application/json", "text": {}}}}},
                    "response": {{"status": 201, "headers": [], "content": {{"mimeType": "application/json", "text": {}}}}}}}"#,
                serde_json::Value::String(register.into()),
                serde_json::Value::String(registered.to_string())
            ),
            entry(
                "02.200",
                "GET",
                "http://127.0.0.1:8080/api/v1/auth/me",
                "fetch",
                &format!(
                    r#"{{"name": "Authorization", "value": "Bearer {TOKEN}"}}, {{"name": "Cookie", "value": "_ga=GA1.2.3"}}"#
                ),
                200,
                "\"{}\"",
            ),
            entry(
                "05.000",
                "GET",
                "http://127.0.0.1:8080/api/v1/services?category=plumbing&lat=12.97&lng=77.59",
                "fetch",
                "",
                200,
                "\"{}\"",
            ),
        ];
        format!(r#"{{"log": {{"entries": [{}]}}}}"#, entries.join(","))
    }

    fn options() -> Options {
        Options {
            name: "recorded".into(),
            think: true,
            ..Options::default()
        }
    }

    fn validates(text: &str) {
        let source = Source {
            origin: "recorded.toml".into(),
            text: text.to_owned(),
            dir: None,
        };
        if let Err(e) = Plan::build(&source, &LoadOverrides::default(), &[]) {
            panic!("{e}\n{text}");
        }
    }

    #[test]
    fn a_recorded_signup_becomes_a_new_users_flow() {
        let exchanges = har::read("s.har", &recorded_signup()).unwrap();
        let imported = import("s.har", &exchanges, &options()).unwrap();
        let text = &imported.text;
        validates(text);
        assert_eq!(imported.steps, 4, "{text}");
        for expected in [
            "name = \"page_auth_email\"\ntarget = \"frontend\"\npath = \"/auth/email\"\nexpect = [200]\nthink_time = \"1830ms\"",
            "# The page's static assets (1) are not replayed",
            "email = \"{{unique_email}}\"",
            "password = \"Kp1{{random_alnum(12)}}\"",
            "json = { email = \"{{email}}\", name = \"Ann\", password = \"{{password}}\", role = \"customer\" }",
            "capture = { access_token = \"/access_token\" }",
            "headers = { Authorization = \"Bearer {{access_token}}\" }",
            "path = \"/api/v1/services?category=plumbing&lat=12.97&lng=77.59\"",
            "think_time = \"2750ms\"",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        for leaked in [
            TOKEN,
            "Recorded1pw",
            "ann@example.test",
            "_ga",
            "User-Agent",
            "OPTIONS",
        ] {
            assert!(!text.contains(leaked), "{leaked:?} leaked into\n{text}");
        }
        let notes = imported.notes.join("\n");
        for said in [
            "7 request(s) recorded -> 4 step(s): 1 page(s), 3 API call(s)",
            "folded: 1 static asset(s)",
            "dropped: 1 CORS preflight(s)",
            "fonts.example.test:443 (1)",
            "captured: access_token = /access_token of post_auth_register's answer, sent by get_auth_me",
            "get_auth_me: recorded cookies dropped (_ga)",
        ] {
            assert!(notes.contains(said), "{said:?} not said in\n{notes}");
        }
    }

    #[test]
    fn without_think_times_no_pause_is_written() {
        let exchanges = har::read("s.har", &recorded_signup()).unwrap();
        let imported = import(
            "s.har",
            &exchanges,
            &Options {
                think: false,
                ..options()
            },
        )
        .unwrap();
        assert!(!imported.text.contains("think_time"), "{}", imported.text);
    }

    #[test]
    fn curl_secrets_become_vars_to_set() {
        let commands = "curl 'http://127.0.0.1:8080/api/v1/auth/me' -H 'Authorization: Bearer abc.def.123'\n\
                        curl 'http://127.0.0.1:8080/api/v1/customers/requests?token=s3cret99' -H 'Authorization: Bearer abc.def.123'\n";
        let exchanges = curl::read("c.sh", commands).unwrap();
        let imported = import("c.sh", &exchanges, &options()).unwrap();
        let text = &imported.text;
        validates(text);
        assert!(text.contains("authorization = \"CHANGE_ME\""), "{text}");
        assert!(text.contains("token = \"CHANGE_ME\""), "{text}");
        assert_eq!(text.matches("Bearer {{authorization}}").count(), 2, "{text}");
        assert!(text.contains("?token={{token}}"), "{text}");
        assert!(
            text.contains("# Set the [vars] values written \"CHANGE_ME\""),
            "{text}"
        );
        assert!(
            !text.contains("abc.def.123") && !text.contains("s3cret99"),
            "{text}"
        );
        assert!(
            !text.contains("expect"),
            "cURL records no status: any 2xx\n{text}"
        );
    }

    /// One HAR request with its body and an answer.
    fn exchange(url: &str, headers: &[(&str, &str)], body: Option<(&str, &str)>, answer: &str) -> String {
        let headers: Vec<String> = headers
            .iter()
            .map(|(n, v)| serde_json::json!({"name": n, "value": v}).to_string())
            .collect();
        let post = body.map_or(String::new(), |(mime, text)| {
            format!(
                r#", "postData": {}"#,
                serde_json::json!({"mimeType": mime, "text": text})
            )
        });
        let method = if body.is_some() { "POST" } else { "GET" };
        format!(
            r#"{{"request": {{"method": "{method}", "url": "http://127.0.0.1:8080{url}", "headers": [{}]{post}}},
                "response": {{"status": 200, "headers": [], "content": {{"mimeType": "application/json", "text": {}}}}}}}"#,
            headers.join(","),
            serde_json::Value::String(answer.into())
        )
    }

    const PASSWORD: &str = "Sentinel1Pass";
    const REFRESH: &str = "r3fresh-5e1f2a3b4c";
    const API_KEY: &str = "k3y-7a6b5c4d3e";

    /// A log-in and a refresh, their bodies of one kind (content type, a body of the
    /// fields), then a call with the token and a key no answer gave.
    fn session(content_type: &str, body: impl Fn(&[(&str, &str)]) -> String) -> String {
        let tokens = serde_json::json!({"access_token": TOKEN, "refresh_token": REFRESH}).to_string();
        let login = body(&[("email", "ann@example.test"), ("password", PASSWORD)]);
        let refresh = body(&[("refresh_token", REFRESH)]);
        let entries = [
            exchange(
                "/api/v1/auth/login",
                &[("Content-Type", content_type)],
                Some((content_type, &login)),
                &tokens,
            ),
            exchange(
                "/api/v1/auth/refresh",
                &[("Content-Type", content_type)],
                Some((content_type, &refresh)),
                &tokens,
            ),
            exchange(
                "/api/v1/auth/me",
                &[
                    ("Authorization", &format!("Bearer {TOKEN}")),
                    ("X-Api-Key", API_KEY),
                    ("Cookie", "sid=c00kie-99aa"),
                ],
                None,
                "{}",
            ),
        ];
        format!(r#"{{"log": {{"entries": [{}]}}}}"#, entries.join(","))
    }

    /// `har` with each form body written as HAR's `params` instead of its text.
    fn as_params(har: &str) -> String {
        let mut har: serde_json::Value = serde_json::from_str(har).unwrap();
        for entry in har["log"]["entries"].as_array_mut().unwrap() {
            let Some(post) = entry["request"].get_mut("postData") else {
                continue;
            };
            let text = post.as_object_mut().unwrap().remove("text").unwrap();
            let params: Vec<serde_json::Value> =
                url::form_urlencoded::parse(text.as_str().unwrap().as_bytes())
                    .map(|(name, value)| serde_json::json!({"name": name, "value": value}))
                    .collect();
            post["params"] = params.into();
        }
        har.to_string()
    }

    fn assert_no_recorded_secret(kind: &str, har: &str) {
        let exchanges = har::read("s.har", har).unwrap();
        let text = import("s.har", &exchanges, &options()).unwrap().text;
        validates(&text);
        for leaked in [PASSWORD, TOKEN, REFRESH, API_KEY, "c00kie-99aa"] {
            assert!(!text.contains(leaked), "{kind}: {leaked:?} written in\n{text}");
        }
        for expected in [
            "password = \"CHANGE_ME\"",
            "access_token = \"/access_token\"",
            "refresh_token = \"/refresh_token\"",
            "Bearer {{access_token}}",
            "x_api_key = \"CHANGE_ME\"",
        ] {
            assert!(
                text.contains(expected),
                "{kind}: {expected:?} missing from\n{text}"
            );
        }
    }

    #[test]
    fn no_recorded_secret_is_written_whatever_the_body() {
        let json = |fields: &[(&str, &str)]| {
            let map: serde_json::Map<String, serde_json::Value> =
                fields.iter().map(|(k, v)| (k.to_string(), (*v).into())).collect();
            serde_json::Value::Object(map).to_string()
        };
        assert_no_recorded_secret("JSON", &session("application/json", json));
        assert_no_recorded_secret("JSON as text", &session("text/plain;charset=UTF-8", json));
        let form = |fields: &[(&str, &str)]| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish()
        };
        let form_session = session("application/x-www-form-urlencoded", form);
        assert_no_recorded_secret("a form", &form_session);
        assert_no_recorded_secret("a form written as params", &as_params(&form_session));
        let multipart = |fields: &[(&str, &str)]| {
            let parts: String = fields
                .iter()
                .map(|(k, v)| {
                    format!("--B0undary\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                })
                .collect();
            format!("{parts}--B0undary--\r\n")
        };
        assert_no_recorded_secret(
            "multipart",
            &session("multipart/form-data; boundary=B0undary", multipart),
        );
        let xml = |fields: &[(&str, &str)]| {
            let inner: String = fields.iter().map(|(k, v)| format!("<{k}>{v}</{k}>")).collect();
            format!("<request>{inner}</request>")
        };
        assert_no_recorded_secret("raw XML", &session("application/xml", xml));
    }

    #[test]
    fn a_header_and_a_cookie_an_answer_gave_become_captures() {
        let given = r#"{"request": {"method": "GET", "url": "http://127.0.0.1:8080/api/v1/session", "headers": []},
                "response": {"status": 200, "headers": [{"name": "Set-Cookie", "value": "sid=s1d-8f7e6d5c; Path=/; HttpOnly"},
                  {"name": "X-Csrf-Token", "value": "csrf-1a2b3c4d"}], "content": {"mimeType": "application/json", "text": "{}"}}}"#;
        let sent = exchange(
            "/api/v1/orders",
            &[
                ("Cookie", "sid=s1d-8f7e6d5c; _ga=GA1.2.3"),
                ("X-Csrf-Token", "csrf-1a2b3c4d"),
                ("Content-Type", "application/json"),
            ],
            Some(("application/json", "{\"item\":\"a\"}")),
            "{}",
        );
        let har = format!(r#"{{"log": {{"entries": [{given},{sent}]}}}}"#);
        let exchanges = har::read("s.har", &har).unwrap();
        let text = import("s.har", &exchanges, &options()).unwrap().text;
        validates(&text);
        for expected in [
            "capture = { sid = \"cookie:sid\", x_csrf_token = \"header:x-csrf-token\" }",
            "Cookie = \"sid={{sid}}\"",
            "X-Csrf-Token = \"{{x_csrf_token}}\"",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        assert!(
            !text.contains("s1d-8f7e6d5c") && !text.contains("csrf-1a2b3c4d") && !text.contains("_ga"),
            "{text}"
        );
    }

    #[test]
    fn a_recording_of_nothing_useful_says_so() {
        let err = import("c.sh", &[], &options()).unwrap_err();
        assert!(err.contains("no request to the frontend or the backend"), "{err}");
    }
}
