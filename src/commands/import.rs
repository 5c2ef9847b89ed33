//! `karigar-perf import har|curl FILE`: a recorded session -> a scenario file, checked
//! as `scenario` would check it before it is written; what was inferred goes to stderr.

use std::io::Read as _;

use crate::cli::{ImportArgs, ImportCommand};
use crate::config::ImportConfig;
use crate::error::{Error, Result};
use crate::import::{self, Exchange};
use crate::scenario::{LoadOverrides, Plan, Source};

/// A recording's reader: its origin and text -> its exchanges, or what is wrong where.
type Reader = fn(&str, &str) -> std::result::Result<Vec<Exchange>, String>;

pub fn run(command: &ImportCommand) -> Result<u8> {
    let (args, read): (&ImportArgs, Reader) = match command {
        ImportCommand::Har(args) => (args, import::har::read),
        ImportCommand::Curl(args) => (args, import::curl::read),
    };
    let config = ImportConfig::resolve(args)?;
    let (origin, text) = recording(&config)?;
    let exchanges = read(&origin, &text).map_err(Error::config)?;
    let imported = import::import(&origin, &exchanges, &config.options).map_err(Error::config)?;
    let written_as = config
        .out
        .as_ref()
        .map_or_else(|| "the imported scenario".to_owned(), |p| p.display().to_string());
    let source = Source {
        origin: written_as.clone(),
        text: imported.text.clone(),
        dir: config
            .out
            .as_ref()
            .and_then(|p| p.parent())
            .map(|p| p.to_path_buf()),
    };
    // A file the import wrote that `scenario` would refuse is the import's bug.
    Plan::build(&source, &LoadOverrides::default(), &[]).map_err(|e| {
        Error::Internal(anyhow::anyhow!(
            "the import wrote a scenario that does not validate: {e}"
        ))
    })?;
    for note in &imported.notes {
        eprintln!("import: {note}");
    }
    match &config.out {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::config(format!("cannot create {}: {e}", dir.display())))?;
            }
            std::fs::write(path, &imported.text)
                .map_err(|e| Error::config(format!("cannot write {}: {e}", path.display())))?;
            eprintln!(
                "import: wrote {written_as} ({} step(s), valid): run it with `karigar-perf scenario {written_as}`",
                imported.steps
            );
            Ok(crate::exit::PASS)
        }
        None => super::print(imported.text.as_bytes()),
    }
}

/// The recording's name (for errors) and text.
fn recording(config: &ImportConfig) -> Result<(String, String)> {
    match &config.input {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::config(format!("{}: cannot read ({e})", path.display())))?;
            Ok((path.display().to_string(), text))
        }
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Error::config(format!("standard input: cannot read ({e})")))?;
            Ok(("<stdin>".to_owned(), text))
        }
    }
}
