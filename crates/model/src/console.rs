//! What the harness says while it works: status lines on stderr, kept apart from the
//! results on stdout so that a pipe or a CI log gets the verdict alone.

/// A status line on stderr, apart from the results on stdout.
pub fn status(message: &str) {
    eprintln!("karigar-perf: {message}");
}
