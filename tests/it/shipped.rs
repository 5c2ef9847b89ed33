//! What ships is what is tested: every file in `scenarios/` and every built-in copy
//! resolves exactly as `karigar-perf scenario NAME` resolves it (the file, its data
//! pools, its SLOs, its stack's needs), and every scenario the README and the book name exists.

use std::path::Path;

use clap::Parser;
use karigar_perf::cli::{Cli, Command, ScenarioArgs};
use karigar_perf::config::ScenarioConfig;
use karigar_perf::scenario::Source;

/// The names of the files in `scenarios/`.
fn shipped() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".toml").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// `karigar-perf scenario NAME` as clap parses it, with no flags and no environment.
fn bare_args(name: &str) -> ScenarioArgs {
    match Cli::try_parse_from(["karigar-perf", "scenario", name])
        .unwrap()
        .command
    {
        Command::Scenario(args) => *args,
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn every_shipped_scenario_resolves_as_scenario_name_does() {
    let names = shipped();
    assert!(names.len() >= 9, "the scenarios folder: {names:?}");
    let failures: Vec<String> = names
        .iter()
        .filter_map(|name| {
            // From the project folder, as the README runs them: ./scenarios/NAME.toml.
            let config = ScenarioConfig::resolve(&bare_args(name));
            config.err().map(|e| format!("{name}: {e}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_built_in_copy_is_its_shipped_file_and_resolves() {
    let shipped = shipped();
    for name in Source::built_in_names() {
        assert!(
            shipped.iter().any(|s| s == name),
            "{name} is built in but not shipped"
        );
        let built_in = Source::built_in(name).unwrap();
        let file = std::fs::read_to_string(format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR")));
        assert_eq!(built_in.text, file.unwrap(), "{name}'s built-in copy");
        if let Err(e) = ScenarioConfig::resolve_source(built_in, &bare_args(name)) {
            panic!("built-in {name}: {e}");
        }
    }
}

#[test]
fn a_scenario_broken_as_failover_was_names_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("misplaced.toml");
    std::fs::write(
        &path,
        "name = \"misplaced\"\n[stack]\nprovider = \"docker\"\nslos = [\"error_rate < 2%\"]\n\
         [[steps]]\nname = \"get\"\npath = \"/\"\n",
    )
    .unwrap();
    let error = ScenarioConfig::resolve(&bare_args(path.to_str().unwrap()))
        .err()
        .expect("slos under [stack] is an unknown field")
        .to_string();
    assert!(
        error.contains("misplaced.toml:4: ") && error.contains("slos"),
        "{error}"
    );
}

/// Every `scenario NAME` (and `capacity`, `gate calibrate`, `drill ...`) the README and
/// the book run, and every `scenarios/NAME.toml` they cite; not the examples of an error
/// (`? 2`).
fn readme_scenario_names() -> Vec<String> {
    let docs: String = crate::common::pages::texts()
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    let lines: Vec<&str> = docs.lines().collect();
    let shown: String = lines
        .iter()
        .enumerate()
        .filter(|(k, _)| lines.get(k + 1) != Some(&"? 2"))
        .map(|(_, line)| format!("{line}\n"))
        .collect();
    let command = regex::Regex::new(
        r"(?:karigar-perf |-- |`)(?:scenario|capacity|k8s generators|gate calibrate|drill restore|drill redis-kill) ([a-z][a-z0-9_-]*)(?:[\s`]|$)",
    )
    .unwrap();
    let file = regex::Regex::new(r"(?:^|[\s`(])scenarios/([a-z][a-z0-9_-]*)\.toml").unwrap();
    let mut names: Vec<String> = command
        .captures_iter(&shown)
        .chain(file.captures_iter(&shown))
        .map(|c| c[1].to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn every_scenario_the_readme_names_is_shipped() {
    let names = readme_scenario_names();
    assert!(names.len() >= 5, "the docs name scenarios: {names:?}");
    let shipped = shipped();
    let missing: Vec<&String> = names.iter().filter(|n| !shipped.contains(n)).collect();
    assert!(missing.is_empty(), "the docs name {missing:?}, not in scenarios/");
}
