//! The harness's error type. Each variant maps to one documented exit code.

/// What went wrong, sorted by whose move it is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags, a malformed scenario file, an unknown SLO name: the user's to fix.
    #[error("{0}")]
    Config(String),
    /// The stack could not be provisioned, or the target does not answer.
    #[error("{0}")]
    Stack(String),
    /// Anything else: a bug or an environment failure (disk full, ...).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config(message.into())
    }

    pub fn stack(message: impl Into<String>) -> Self {
        Self::Stack(message.into())
    }

    /// The process exit code documented in the README.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Internal(_) => crate::exit::INTERNAL,
            Self::Config(_) => crate::exit::CONFIG,
            Self::Stack(_) => crate::exit::STACK,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

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
