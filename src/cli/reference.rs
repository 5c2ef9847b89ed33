//! The command line as documents: the Markdown reference of the book, the man pages and
//! the shell completion scripts, all generated from the same clap definitions so that
//! none of them can drift from the flags.

use std::path::Path;

use clap::CommandFactory;

use super::Cli;

/// The name every document is written for.
const BIN: &str = "karigar-perf";

/// The command tree as documents show it: environment variables named, never their
/// values on the machine that generated them.
fn documented() -> clap::Command {
    fn hide_env_values(command: clap::Command) -> clap::Command {
        command
            .mut_args(|arg| arg.hide_env_values(true))
            .mut_subcommands(hide_env_values)
    }
    hide_env_values(Cli::command())
}

/// `docs/src/reference/cli.md`: every command with its usage, and every argument with
/// its variable, default and accepted values.
pub fn markdown() -> String {
    let mut command = documented();
    command.build();
    let mut page = String::from(
        "# Command-line reference\n\nGenerated from the binary's own definitions \
         (`karigar-perf --help` shows the same).\n",
    );
    markdown_of(&mut command, BIN, &mut page);
    page
}

/// The section of `command` (called `path`) and of each of its visible subcommands.
fn markdown_of(command: &mut clap::Command, path: &str, page: &mut String) {
    let about = command.get_long_about().or(command.get_about());
    page.push_str(&format!("\n## `{path}`\n\n"));
    if let Some(about) = about {
        page.push_str(&format!("{about}\n\n"));
    }
    let usage = command.render_usage().to_string();
    page.push_str(&format!("```text\n{}\n```\n", usage.trim()));
    let rows: Vec<String> = command
        .get_arguments()
        .filter(|arg| !arg.is_hide_set())
        .map(argument_row)
        .collect();
    if !rows.is_empty() {
        page.push_str("\n| argument | variable | default | meaning |\n|---|---|---|---|\n");
        page.push_str(&rows.concat());
    }
    if let Some(after) = command.get_after_help() {
        page.push_str(&format!("\n{after}\n"));
    }
    for sub in command
        .get_subcommands_mut()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let path = format!("{path} {}", sub.get_name());
        markdown_of(sub, &path, page);
    }
}

/// One argument as a table row: how it is written, its variable, default and meaning.
fn argument_row(arg: &clap::Arg) -> String {
    let value = arg
        .get_value_names()
        .map(|names| names.iter().map(|n| format!(" <{n}>")).collect::<String>())
        .unwrap_or_default();
    let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
    let written = match (arg.get_long(), arg.get_short()) {
        (Some(long), Some(short)) => {
            format!("`-{short}`, `--{long}{}`", if takes_value { &value } else { "" })
        }
        (Some(long), None) => format!("`--{long}{}`", if takes_value { &value } else { "" }),
        (None, Some(short)) => format!("`-{short}`"),
        (None, None) => format!("`{}`", value.trim()),
    };
    let variable = arg
        .get_env()
        .map(|env| format!("`{}`", env.to_string_lossy()))
        .unwrap_or_default();
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|d| format!("`{}`", d.to_string_lossy()))
        .collect();
    let mut meaning = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let choices: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    if !choices.is_empty() && takes_value {
        meaning.push_str(&format!(" (one of {})", choices.join(", ")));
    }
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    format!(
        "| {} | {} | {} | {} |\n",
        cell(&written),
        variable,
        cell(&defaults.join(", ")),
        cell(&meaning)
    )
}

/// Man pages into `dir`: `karigar-perf.1` and one per command (`karigar-perf-scenario.1`, ...).
pub fn man_pages(dir: &Path) -> std::io::Result<()> {
    clap_mangen::generate_to(documented(), dir)
}

/// The shells a completion script is written for.
pub use clap_complete::Shell;

/// A completion script for `shell`, e.g. for `~/.local/share/bash-completion/completions/`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut documented(), BIN, &mut script);
    script
}
