//! Values that must not be replayed as recorded: emails (unique per iteration, or a
//! sign-up fails as taken), passwords and secrets (never written to a scenario file).
//! Each becomes a `[vars]` entry and a template where it was sent.

use std::sync::LazyLock;

use super::draft::{identifier, Draft, Names};

/// A `[vars]` entry and why the import made it.
pub(super) struct Var {
    pub name: String,
    pub value: String,
    pub note: String,
}

/// What a `[vars]` value the user must set holds until then.
pub(super) const CHANGE_ME: &str = "CHANGE_ME";

/// A fresh password per iteration that meets the contract's rule (upper, lower, digit,
/// at least 8).
const FRESH_PASSWORD: &str = "Kp1{{random_alnum(12)}}";

static EMAIL: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"[A-Za-z0-9._+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+").expect("a valid pattern")
});

/// Every distinct email sent -> `{{email}}` (`email_2`, ...), `[vars] email =
/// "{{unique_email}}"`.
pub(super) fn emails(drafts: &mut [Draft], names: &mut Names) -> Vec<Var> {
    let mut seen: Vec<String> = Vec::new();
    for draft in drafts.iter_mut() {
        draft.texts_mut(&mut |text| {
            for found in EMAIL.find_iter(text) {
                let email = found.as_str().replace("%40", "@");
                if !seen.contains(&email) {
                    seen.push(email);
                }
            }
        });
    }
    let mut vars = Vec::new();
    for email in seen {
        let name = names.fresh("email");
        let placeholder = format!("{{{{{name}}}}}");
        let encoded = email.replace('@', "%40");
        let mut uses = 0;
        for draft in drafts.iter_mut() {
            draft.texts_mut(&mut |text| {
                if text.contains(&email) || text.contains(&encoded) {
                    uses += 1;
                    *text = text.replace(&email, &placeholder).replace(&encoded, &placeholder);
                }
            });
        }
        vars.push(Var {
            note: format!("a recorded email, sent {uses} time(s) -> [vars] {name}: unique per iteration"),
            name,
            value: "{{unique_email}}".into(),
        });
    }
    vars
}

/// Body fields named like a password (JSON, JSON as text, forms) -> `{{password}}`: a
/// fresh one per iteration when it is first sent to a sign-up, else a value for the
/// user to set.
pub(super) fn passwords(drafts: &mut [Draft], names: &mut Names) -> Vec<Var> {
    let mut found: Vec<(String, bool)> = Vec::new();
    for draft in drafts.iter_mut() {
        let signup = draft.method == "POST" && is_signup(&draft.path);
        draft.body_fields_mut(&mut |key, value| {
            if is_password_key(key)
                && !value.is_empty()
                && !value.contains("{{")
                && !found.iter().any(|(v, _)| v == value)
            {
                found.push((value.clone(), signup));
            }
        });
    }
    let mut vars = Vec::new();
    for (password, signup) in found {
        let name = names.fresh("password");
        let placeholder = format!("{{{{{name}}}}}");
        for draft in drafts.iter_mut() {
            // In its field, however the body encodes it, then anywhere else it was sent.
            draft.body_fields_mut(&mut |_, value| {
                if *value == password {
                    value.clone_from(&placeholder);
                }
            });
            draft.texts_mut(&mut |text| {
                if text.contains(&password) {
                    *text = text.replace(&password, &placeholder);
                }
            });
        }
        vars.push(if signup {
            Var {
                note: format!("a recorded password -> [vars] {name}: a fresh one per iteration, first sent to a sign-up"),
                name,
                value: FRESH_PASSWORD.into(),
            }
        } else {
            Var {
                note: format!("a recorded password -> [vars] {name} = {CHANGE_ME:?}: set it to the account's"),
                name,
                value: CHANGE_ME.into(),
            }
        });
    }
    vars
}

/// What no answer gave and the recording must not leak: cookies are dropped (the
/// client keeps none of the browser's), secret headers, body fields and query
/// parameters become `[vars]` values for the user to set.
pub(super) fn secrets(drafts: &mut [Draft], names: &mut Names) -> (Vec<Var>, Vec<String>) {
    let mut vars: Vec<(String, Var)> = Vec::new();
    let mut notes = Vec::new();
    let mut to_var = |what: &str, key: &str, value: &mut String, step: &str, names: &mut Names| {
        if value.is_empty() || value.contains("{{") {
            return;
        }
        let name = match vars.iter().find(|(recorded, _)| recorded == value) {
            Some((_, var)) => var.name.clone(),
            None => {
                let name = names.fresh(&identifier(key));
                vars.push((
                    value.clone(),
                    Var {
                        note: format!("{what} {key} of {step}, given by no answer -> [vars] {name} = {CHANGE_ME:?}: set it"),
                        name: name.clone(),
                        value: CHANGE_ME.into(),
                    },
                ));
                name
            }
        };
        *value = format!("{{{{{name}}}}}");
    };
    for draft in drafts.iter_mut() {
        let step = draft.name.clone();
        draft.headers.retain_mut(|(name, value)| {
            if !name.eq_ignore_ascii_case("cookie") {
                return true;
            }
            let (kept, dropped): (Vec<&str>, Vec<&str>) = value
                .split(';')
                .map(str::trim)
                .partition(|pair| pair.contains("{{"));
            if !dropped.is_empty() {
                let cookies: Vec<&str> = dropped.iter().filter_map(|p| p.split('=').next()).collect();
                notes.push(format!(
                    "{step}: recorded cookies dropped ({})",
                    cookies.join(", ")
                ));
            }
            *value = kept.join("; ");
            !value.is_empty()
        });
        for (name, value) in &mut draft.headers {
            if is_secret_header(name) {
                // Keep the scheme, hide the credentials: `Bearer {{authorization}}`.
                let (scheme, credentials) = match value.split_once(' ') {
                    Some((scheme, rest)) if !rest.contains("{{") && is_scheme(scheme) => {
                        (format!("{scheme} "), rest.to_owned())
                    }
                    _ => (String::new(), value.clone()),
                };
                let mut credentials = credentials;
                to_var("header", name, &mut credentials, &step, names);
                if !credentials.is_empty() {
                    *value = format!("{scheme}{credentials}");
                }
            }
        }
        draft.body_fields_mut(&mut |key, value| {
            if is_secret_key(key) {
                to_var("field", key, value, &step, names);
            }
        });
        if let Some((path, query)) = draft.path.split_once('?') {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, value)) if is_secret_key(key) => {
                        let mut value = value.to_owned();
                        to_var("query parameter", key, &mut value, &step, names);
                        format!("{key}={value}")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            draft.path = format!("{path}?{}", pairs.join("&"));
        }
    }
    let vars = vars.into_iter().map(|(_, var)| var).collect();
    (vars, notes)
}

fn is_signup(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default().to_ascii_lowercase();
    ["register", "signup", "sign-up", "sign_up", "join"]
        .iter()
        .any(|word| path.contains(word))
        || path.ends_with("/users")
}

fn is_password_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("password") || key.contains("passwd") || key == "pwd"
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "token",
        "secret",
        "api_key",
        "apikey",
        "api-key",
        "session",
        "signature",
    ]
    .iter()
    .any(|word| key.contains(word))
}

fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "authorization"
        || lower == "proxy-authorization"
        || is_secret_key(&lower)
        || lower.contains("auth")
}

fn is_scheme(word: &str) -> bool {
    ["bearer", "basic", "token", "digest"].contains(&word.to_ascii_lowercase().as_str())
}
