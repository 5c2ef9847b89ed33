//! The harness's error type. Each variant maps to one documented exit code; each keeps
//! the error that caused it (its `source`), so a message reads "what we tried: why it
//! failed: the cause's cause" and tools walking `source()` see the whole chain.

use std::fmt::Display;

/// What went wrong, sorted by whose move it is.
#[derive(Debug)]
pub enum Error {
    /// Bad flags, a malformed scenario file, an unknown SLO name: the user's to fix.
    Config(anyhow::Error),
    /// The stack could not be provisioned, or the target does not answer.
    Stack(anyhow::Error),
    /// Anything else: a bug or an environment failure (disk full, ...).
    Internal(anyhow::Error),
}

impl Error {
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config(anyhow::Error::msg(message.into()))
    }

    pub fn stack(message: impl Into<String>) -> Self {
        Self::Stack(anyhow::Error::msg(message.into()))
    }

    /// The process exit code documented in the README.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Internal(_) => crate::exit::INTERNAL,
            Self::Config(_) => crate::exit::CONFIG,
            Self::Stack(_) => crate::exit::STACK,
        }
    }

    fn inner(&self) -> &anyhow::Error {
        match self {
            Self::Config(e) | Self::Stack(e) | Self::Internal(e) => e,
        }
    }
}

/// The message and every cause, "context: cause: cause".
impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.inner())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner().source()
    }
}

impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure as one of ours, its cause kept: `.config_context(|| "cannot read x")`.
pub trait Context<T> {
    /// The user's to fix (exit 2).
    fn config_context<C: Display + Send + Sync + 'static>(self, context: impl FnOnce() -> C) -> Result<T>;
    /// The stack's or the target's (exit 5).
    fn stack_context<C: Display + Send + Sync + 'static>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Context<T> for std::result::Result<T, E> {
    fn config_context<C: Display + Send + Sync + 'static>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| Error::Config(anyhow::Error::new(e).context(context())))
    }

    fn stack_context<C: Display + Send + Sync + 'static>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| Error::Stack(anyhow::Error::new(e).context(context())))
    }
}

/// An error and its causes on one line ("error sending request: connection refused").
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_keeps_its_cause_and_its_exit_code() {
        let failed: std::result::Result<(), std::io::Error> =
            Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"));
        let error = failed
            .config_context(|| "cannot read scenarios/x.toml")
            .unwrap_err();
        assert_eq!(error.to_string(), "cannot read scenarios/x.toml: no such file");
        assert_eq!(error.exit_code(), crate::exit::CONFIG);
        let cause = std::error::Error::source(&error).expect("the io error is kept");
        assert_eq!(cause.to_string(), "no such file");
        assert_eq!(error_chain(&error), "cannot read scenarios/x.toml: no such file");
    }
}
