//! `import har|curl`: where the recording is, where the scenario goes, what to infer.

use std::path::{Path, PathBuf};

use crate::cli::ImportArgs;
use crate::error::{Error, Result};
use crate::import::Options;

/// An import, checked before anything is read.
pub struct ImportConfig {
    /// `None`: standard input.
    pub input: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub options: Options,
}

impl ImportConfig {
    pub fn resolve(args: &ImportArgs) -> Result<Self> {
        let input = (args.file != Path::new("-")).then(|| args.file.clone());
        if let Some(out) = &args.out {
            if out.exists() && !args.force {
                return Err(Error::config(format!(
                    "{} exists: give --force to replace it, or another --out",
                    out.display()
                )));
            }
        }
        let name = match &args.name {
            Some(name) => name.clone(),
            None => default_name(args.out.as_deref().or(input.as_deref())),
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::config(format!(
                "--name {name:?}: a scenario's name is letters, digits, - and _ (it names report folders)"
            )));
        }
        let options = Options {
            name,
            think: !args.no_think,
            frontend: args.frontend_origin.as_deref().map(origin).transpose()?,
            backend: args.backend_origin.as_deref().map(origin).transpose()?,
        };
        Ok(Self {
            input,
            out: args.out.clone(),
            options,
        })
    }
}

/// The file's stem as a name: `recorded.har` -> `recorded`.
fn default_name(path: Option<&Path>) -> String {
    let stem = path
        .and_then(Path::file_stem)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "imported".into()
    } else {
        name
    }
}

/// `http://host:port` as the import compares origins, from a URL as the user wrote it.
fn origin(text: &str) -> Result<String> {
    let url = reqwest::Url::parse(text).map_err(|e| {
        Error::config(format!(
            "{text:?} is not an origin like http://127.0.0.1:8080 ({e})"
        ))
    })?;
    Ok(crate::import::origin_of(&url))
}
