//! The examples of the README and the book as a user runs them: every `console` block
//! is executed against the binary and its documented output (`trycmd`), and every TOML
//! block is a scenario (or part of one) that validates. Changing a command's output or a flag's name
//! without its example fails here.

use clap::Parser;
use karigar_perf::cli::{Cli, Command};
use karigar_perf::config::ScenarioConfig;

use crate::common::harness::BIN;

#[test]
fn every_console_example_prints_what_the_readme_shows() {
    // Run from the project folder (cargo's working directory for tests), as the README's
    // paths are; what the examples write goes to reports/, which git ignores.
    let cases = trycmd::TestCases::new();
    cases.register_bin("karigar-perf", std::path::Path::new(BIN));
    // The generated command-line reference holds no examples, only help text.
    let pages = crate::common::pages::all();
    for page in pages.iter().filter(|p| !p.ends_with("reference/cli.md")) {
        cases.case(page);
    }
}

/// The fenced TOML blocks of the README and the book.
fn toml_blocks() -> Vec<String> {
    let mut blocks = Vec::new();
    for (_, text) in crate::common::pages::texts() {
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() == "```toml" {
                let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
                blocks.push(body.join("\n") + "\n");
            }
        }
    }
    blocks
}

#[test]
fn every_toml_example_is_a_scenario_that_validates() {
    let blocks = toml_blocks();
    assert!(blocks.len() >= 2, "the docs show TOML: {}", blocks.len());
    let dir = tempfile::tempdir().unwrap();
    for (k, block) in blocks.iter().enumerate() {
        // A fragment (a table of a scenario) gets the smallest scenario around it.
        let text = match block.contains("[[steps]]") {
            true => block.clone(),
            false => format!("name = \"fragment\"\n{block}\n[[steps]]\nname = \"get\"\npath = \"/\"\n"),
        };
        let path = dir.path().join(format!("block-{k}.toml"));
        std::fs::write(&path, &text).unwrap();
        let cli = Cli::try_parse_from(["karigar-perf", "scenario", path.to_str().unwrap()]).unwrap();
        let Command::Scenario(args) = cli.command else {
            unreachable!("parsed as a scenario command")
        };
        // An [http] table names files and environment variables of the user's machine:
        // the scenario must compile; those are read when a run starts.
        let checked = match text.contains("[http]") {
            true => karigar_perf::scenario::Source::locate(path.to_str().unwrap()).and_then(|source| {
                karigar_perf::scenario::Plan::build(&source, &Default::default(), &[]).map(drop)
            }),
            false => ScenarioConfig::resolve(&args).map(drop),
        };
        if let Err(e) = checked {
            panic!("the docs' TOML block {k} does not validate: {e}\n{text}");
        }
    }
}
