//! Where a scenario comes from (a path, `./scenarios/NAME.toml`, or the copy built
//! into the binary) and how byte offsets become `file:line` in error messages.

use std::path::{Path, PathBuf};

use crate::error::Context as _;
use crate::error::{Error, Result};

/// Scenarios shipped with the harness, so a named scenario runs from any directory.
const BUILT_IN: &[(&str, &str)] = &[
    ("signup", include_str!("../../../../scenarios/signup.toml")),
    ("browse", include_str!("../../../../scenarios/browse.toml")),
    ("failover", include_str!("../../../../scenarios/failover.toml")),
    ("login", include_str!("../../../../scenarios/login.toml")),
];

/// A scenario file's text and the name errors use for it.
#[derive(Clone, Debug)]
pub struct Source {
    pub origin: String,
    pub text: String,
    /// The folder of a scenario file, for the data files it names (none if built in).
    pub dir: Option<PathBuf>,
}

impl Source {
    /// Resolves `name_or_path`: an existing file, then `scenarios/NAME.toml` under the
    /// working directory, then a built-in scenario.
    pub fn locate(name_or_path: &str) -> Result<Self> {
        let path = Path::new(name_or_path);
        if path.is_file() {
            return Self::read(path);
        }
        let local = PathBuf::from("scenarios").join(format!("{name_or_path}.toml"));
        if local.is_file() {
            return Self::read(&local);
        }
        if let Some(built_in) = Self::built_in(name_or_path) {
            return Ok(built_in);
        }
        Err(Error::config(format!(
            "no scenario {name_or_path:?}: not a file, not in ./scenarios/, and not built in (built in: {})",
            Self::built_in_names().collect::<Vec<_>>().join(", ")
        )))
    }

    /// The copy of scenario `name` built into the binary, as a run from a folder
    /// without `./scenarios/` gets it.
    pub fn built_in(name: &str) -> Option<Self> {
        let (_, text) = BUILT_IN.iter().find(|(known, _)| *known == name)?;
        Some(Self {
            origin: format!("scenarios/{name}.toml (built in)"),
            text: (*text).to_owned(),
            dir: None,
        })
    }

    /// The names of the built-in scenarios.
    pub fn built_in_names() -> impl Iterator<Item = &'static str> {
        BUILT_IN.iter().map(|(name, _)| *name)
    }

    fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).config_context(|| format!("{}: cannot read", path.display()))?;
        Ok(Self {
            origin: path.display().to_string(),
            text,
            dir: path.parent().map(Path::to_path_buf),
        })
    }

    /// `origin:line: message`, the line being that of byte `offset`.
    pub fn error_at(&self, offset: usize, message: impl std::fmt::Display) -> Error {
        Error::config(format!("{}: {message}", self.position(offset)))
    }

    /// `origin:line` of byte `offset`, for what is checked later against the stack.
    pub fn position(&self, offset: usize) -> String {
        format!("{}:{}", self.origin, self.line_of(offset))
    }

    /// An error with no position (e.g. a missing top-level key).
    pub fn error(&self, message: impl std::fmt::Display) -> Error {
        Error::config(format!("{}: {message}", self.origin))
    }

    fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.text.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines() {
        let source = Source {
            origin: "x.toml".into(),
            text: "a = 1\nb = 2\nc = 3\n".into(),
            dir: None,
        };
        assert_eq!(source.error_at(0, "m").to_string(), "x.toml:1: m");
        assert_eq!(source.error_at(6, "m").to_string(), "x.toml:2: m");
        assert_eq!(source.error_at(999, "m").to_string(), "x.toml:4: m");
    }

    #[test]
    fn unknown_names_list_the_built_in_ones() {
        let err = Source::locate("no-such-scenario").err().unwrap().to_string();
        assert!(err.contains("built in: signup, browse, failover"), "{err}");
    }
}
