//! The README's examples as a user runs them: every `console` block is executed against
//! the binary and its documented output (`trycmd`), and every TOML block is a scenario
//! (or part of one) that validates. Changing a command's output or a flag's name
//! without its example fails here.

use clap::Parser;
use karigar_perf::cli::{Cli, Command};
use karigar_perf::config::ScenarioConfig;

use crate::common::harness::BIN;

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");

#[test]
fn every_console_example_prints_what_the_readme_shows() {
    // Run from the project folder (cargo's working directory for tests), as the README's
    // paths are; what the examples write goes to reports/, which git ignores.
    trycmd::TestCases::new()
        .register_bin("karigar-perf", std::path::Path::new(BIN))
        .case(README);
}

/// The README's fenced TOML blocks.
fn toml_blocks() -> Vec<String> {
    let readme = std::fs::read_to_string(README).unwrap();
    let mut blocks = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```toml" {
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            blocks.push(body.join("\n") + "\n");
        }
    }
    blocks
}

#[test]
fn every_toml_example_is_a_scenario_that_validates() {
    let blocks = toml_blocks();
    assert!(blocks.len() >= 2, "the README shows TOML: {}", blocks.len());
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
        if let Err(e) = ScenarioConfig::resolve(&args) {
            panic!("the README's TOML block {k} does not validate: {e}\n{text}");
        }
    }
}
