//! `karigar-perf compare BASE NEW`: prints the comparison as Markdown; exit 4 when NEW
//! is slower than BASE beyond noise.

use crate::cli::CompareArgs;
use crate::compare::GateInput;
use crate::error::{Error, Result};
use crate::report::{self, Summary};

pub fn run(args: &CompareArgs) -> Result<u8> {
    let policy = crate::config::gate_policy(&args.gate)?;
    let base = report::load(&args.base)?;
    let new = report::load(&args.new)?;
    let comparison = crate::compare::compare(
        &GateInput::of_summary(&base),
        &GateInput::of_summary(&new),
        policy,
    );
    print!("{}", report::comparison_markdown(&comparison));
    let regression = comparison.regression;
    if let Some(path) = &args.junit {
        let judged = Summary {
            comparison: Some(comparison),
            ..new
        };
        std::fs::write(path, report::junit(&judged))
            .map_err(|e| Error::config(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(if regression {
        crate::exit::REGRESSION
    } else {
        crate::exit::PASS
    })
}
