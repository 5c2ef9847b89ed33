//! `${VAR}` in header values and passwords: where variables are read, and how literal
//! values travel to other processes in variables of their own, never on a command line.

use std::collections::BTreeMap;

use super::HttpOptions;

/// `value` with each `${VAR}` replaced by the environment's VAR: secrets stay out of
/// scenario files, command lines and reports.
pub fn expand_env(value: &str) -> Result<String, String> {
    Env::Process.expand(value)
}

/// Where `${VAR}`s are read: this process's environment, or a generator's values (a
/// file its engine mounted) before it.
#[derive(Clone, Debug, Default)]
pub enum Env {
    #[default]
    Process,
    Given(BTreeMap<String, String>),
}

impl Env {
    pub fn var(&self, name: &str) -> Option<String> {
        match self {
            Env::Given(values) if values.contains_key(name) => values.get(name).cloned(),
            _ => std::env::var(name).ok(),
        }
    }

    /// `value` with each `${VAR}` replaced.
    pub fn expand(&self, value: &str) -> Result<String, String> {
        let mut out = String::new();
        for part in env_parts(value) {
            match part? {
                EnvPart::Text(text) => out.push_str(text),
                EnvPart::Var(name) => out.push_str(
                    &self
                        .var(name)
                        .ok_or_else(|| format!("${{{name}}} is not set in the environment"))?,
                ),
            }
        }
        Ok(out)
    }

    /// `NAME=VALUE` lines (an env file), before the process's environment.
    pub fn parse(text: &str) -> Result<Env, String> {
        let mut values = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (name, value) = line
                .split_once('=')
                .ok_or_else(|| format!("line {}: not NAME=VALUE", number + 1))?;
            values.insert(name.to_owned(), value.to_owned());
        }
        Ok(Env::Given(values))
    }
}

/// The settings as they travel to another process (a generator, a pod): every header
/// value and basic-auth password that is not one `${VAR}` in a variable of its own, and
/// the value of every variable they name. No value is in `options`: they go by the
/// environment (or a secret the engine mounts), never a command line or a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Travelling {
    pub options: HttpOptions,
    pub env: BTreeMap<String, String>,
}

/// Names of the variables a literal value travels in.
const HEADER_VAR: &str = "KARIGAR_PERF_HEADER_";
const PASSWORD_VAR: &str = "KARIGAR_PERF_BASIC_PASSWORD";

impl HttpOptions {
    /// [`Travelling`] options, the values read from `env` now.
    pub fn travelling(&self, env: &Env) -> Result<Travelling, String> {
        let mut options = self.clone();
        let mut literal = BTreeMap::new();
        for (index, (_, value)) in options.headers.iter_mut().enumerate() {
            if !is_one_var(value) {
                let name = format!("{HEADER_VAR}{}", index + 1);
                literal.insert(name.clone(), env.expand(value)?);
                *value = format!("${{{name}}}");
            }
        }
        if let Some(written) = &mut options.basic_auth {
            if let Some((user, password)) = written.split_once(':') {
                if !is_one_var(password) {
                    literal.insert(PASSWORD_VAR.to_owned(), env.expand(password)?);
                    *written = format!("{user}:${{{PASSWORD_VAR}}}");
                }
            }
        }
        let mut values = BTreeMap::new();
        for name in options.env_names() {
            let value = match literal.remove(&name) {
                Some(value) => value,
                None => env
                    .var(&name)
                    .ok_or_else(|| format!("${{{name}}} is not set in the environment"))?,
            };
            values.insert(name, value);
        }
        Ok(Travelling { options, env: values })
    }
}

/// Whether `value` reads a `${VAR}`: a value with none is written out in full.
pub fn names_a_variable(value: &str) -> bool {
    env_parts(value)
        .iter()
        .any(|part| matches!(part, Ok(EnvPart::Var(_))))
}

/// `${VAR}` and nothing else.
fn is_one_var(value: &str) -> bool {
    matches!(
        env_parts(value).as_slice(),
        [Ok(EnvPart::Text("")), Ok(EnvPart::Var(_)), Ok(EnvPart::Text(""))]
    )
}

/// A written value in pieces: text as written, and the `${VAR}`s in it.
pub(super) enum EnvPart<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// `value`'s pieces in order; a `${` without its `}` is an error (and the last piece).
pub(super) fn env_parts(value: &str) -> Vec<Result<EnvPart<'_>, String>> {
    let mut parts = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        parts.push(Ok(EnvPart::Text(&rest[..start])));
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            parts.push(Err(format!("{value:?}: a ${{ without its }}")));
            return parts;
        };
        parts.push(Ok(EnvPart::Var(&after[..end])));
        rest = &after[end + 1..];
    }
    parts.push(Ok(EnvPart::Text(rest)));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_values_travel_in_variables_of_their_own() {
        let options = HttpOptions {
            headers: vec![
                ("X-Gateway-Key".into(), "${TEST_TRAVEL_KEY}".into()),
                ("X-Tenant".into(), "lit3ral-tenant".into()),
                ("Authorization".into(), "Bearer ${TEST_TRAVEL_KEY}".into()),
            ],
            basic_auth: Some("gate:lit3ral-password".into()),
            ..Default::default()
        };
        let env = Env::Given(BTreeMap::from([("TEST_TRAVEL_KEY".to_owned(), "k3y".to_owned())]));
        let travelling = options.travelling(&env).unwrap();
        let written = format!("{:?}", travelling.options);
        assert!(
            !written.contains("lit3ral") && !written.contains("k3y"),
            "{written}"
        );
        assert_eq!(
            travelling.options.headers[..2],
            [
                ("X-Gateway-Key".to_owned(), "${TEST_TRAVEL_KEY}".to_owned()),
                ("X-Tenant".to_owned(), "${KARIGAR_PERF_HEADER_2}".to_owned())
            ]
        );
        assert_eq!(
            travelling.options.basic_auth.as_deref(),
            Some("gate:${KARIGAR_PERF_BASIC_PASSWORD}")
        );
        assert_eq!(travelling.env["KARIGAR_PERF_HEADER_3"], "Bearer k3y");
        assert_eq!(travelling.env["TEST_TRAVEL_KEY"], "k3y");
        // Where they arrive, the same settings.
        let arrived = travelling
            .options
            .settings_in(&Env::Given(travelling.env.clone()))
            .unwrap();
        let here = options.settings_in(&env).unwrap();
        assert_eq!(
            (arrived.headers, arrived.basic_auth),
            (here.headers, here.basic_auth)
        );
        assert!(Env::parse("A=1\nB=x=y\n").unwrap().var("B").as_deref() == Some("x=y"));
        assert!(Env::parse("oops").is_err());
    }
}
