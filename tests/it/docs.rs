//! The book against what it documents: the command-line reference and man pages are
//! the ones clap generates today, and the completion scripts are scripts their shells
//! accept.
//!
//! After changing a flag, regenerate the reference with
//! `KARIGAR_PERF_BLESS=1 cargo test --test it docs::`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use karigar_perf::cli::reference;

use crate::common::harness::BIN;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn blessing() -> bool {
    std::env::var_os("KARIGAR_PERF_BLESS").is_some()
}

/// Fails unless `file` holds `generated`; with `KARIGAR_PERF_BLESS` set, writes it.
fn assert_checked_in(file: &Path, generated: &[u8]) {
    if blessing() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, generated).unwrap();
        return;
    }
    let checked_in = std::fs::read(file).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} differs from what the command line generates; regenerate it with \
         KARIGAR_PERF_BLESS=1 cargo test --test it docs::",
        file.display()
    );
}

#[test]
fn the_cli_reference_is_what_clap_generates() {
    let file = root().join("docs/src/reference/cli.md");
    assert_checked_in(&file, reference::markdown().as_bytes());
    let text = std::fs::read_to_string(&file).unwrap();
    for flag in ["--report-dir", "--generators", "--baseline", "KARIGAR_PERF_USERS"] {
        assert!(text.contains(flag), "the reference documents {flag}");
    }
}

#[test]
fn the_man_pages_are_what_clap_generates() {
    let generated = tempfile::tempdir().unwrap();
    reference::man_pages(generated.path()).unwrap();
    let pages = |dir: &Path| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let man = root().join("docs/man");
    let expected = pages(generated.path());
    assert!(expected.contains("karigar-perf.1") && expected.contains("karigar-perf-scenario.1"));
    if !blessing() {
        assert_eq!(pages(&man), expected, "the man pages in docs/man");
    }
    for page in &expected {
        assert_checked_in(
            &man.join(page),
            &std::fs::read(generated.path().join(page)).unwrap(),
        );
    }
}

#[test]
fn completion_scripts_are_written_for_each_shell() {
    let script = |shell: &str| {
        let output = Command::new(BIN).args(["completions", shell]).output().unwrap();
        assert!(output.status.success(), "completions {shell}");
        String::from_utf8(output.stdout).unwrap()
    };
    let bash = script("bash");
    assert!(bash.contains("complete -F _karigar__perf") && bash.contains("--generators"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("karigar-perf.bash");
    std::fs::write(&file, &bash).unwrap();
    let checked = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(
        checked.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(script("zsh").starts_with("#compdef karigar-perf"));
    assert!(script("fish").contains("complete -c karigar-perf"));
    let refused = Command::new(BIN).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
}
