//! `import har` and `import curl`: a recorded session (a browser's HAR, or "Copy as
//! cURL" commands) -> a scenario file that runs as a new user's flow, not a replay of
//! the recording's: values an answer gave become captures, emails unique per
//! iteration, passwords and secrets `[vars]`, never copied.
//!
//! - `recording`: the exchanges, whatever they came from; `har`, `curl`: the readers
//! - `classify`: pages, their static assets, API calls; preflights and other hosts
//! - `draft`: a step as the import builds it, its name from method and path
//! - `params`: emails, passwords and secrets -> `[vars]`
//! - `correlate`: values from answers that later requests send -> captures
//! - `write`: the scenario file

mod classify;
mod correlate;
pub mod curl;
mod draft;
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

    #[test]
    fn a_recording_of_nothing_useful_says_so() {
        let err = import("c.sh", &[], &options()).unwrap_err();
        assert!(err.contains("no request to the frontend or the backend"), "{err}");
    }
}
