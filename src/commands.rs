//! The subcommands besides `scenario`: `seed`, `compare` and `stack down`.

use crate::cli::{CompareArgs, SeedArgs};
use crate::error::{Error, Result};
use crate::report;
use crate::seed::SeedReport;

/// `karigar-perf seed`: loads the dataset into any database with the schema.
pub async fn seed_database(args: &SeedArgs) -> Result<u8> {
    let report = seed_url(&args.database_url, args.shape.size(args.providers)).await?;
    println!(
        "seeded {} providers, {} services, {} customers in {:.2}s",
        report.size.providers, report.services, report.size.customers, report.seconds
    );
    Ok(crate::exit::PASS)
}

pub(crate) async fn seed_url(url: &str, size: crate::seed::SeedSize) -> Result<SeedReport> {
    let pool = sqlx::PgPool::connect(url)
        .await
        .map_err(|e| Error::stack(format!("cannot connect to {}: {e}", redact(url))))?;
    let report = crate::seed::seed(&pool, size).await;
    pool.close().await;
    report
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://***{}", &url[..scheme], &url[at..]),
        _ => url.to_owned(),
    }
}

/// `karigar-perf stack down`: sweeps containers and networks of runs.
pub async fn stack_down(orphans_only: bool) -> Result<u8> {
    let swept = crate::stack::docker::down(orphans_only).await?;
    println!(
        "removed {} container(s) and {} network(s)",
        swept.containers, swept.networks
    );
    Ok(crate::exit::PASS)
}

/// `karigar-perf compare BASE NEW`: prints the comparison as Markdown.
pub fn compare_files(args: &CompareArgs) -> Result<u8> {
    let base = report::load(&args.base)?;
    let mut new = report::load(&args.new)?;
    let comparison = crate::compare::compare(&base, &new, args.gate.policy());
    print!("{}", report::comparison_md::render(&comparison));
    let regression = comparison.regression;
    if let Some(path) = &args.junit {
        new.comparison = Some(comparison);
        std::fs::write(path, report::junit::render(&new))
            .map_err(|e| Error::config(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(if regression {
        crate::exit::REGRESSION
    } else {
        crate::exit::PASS
    })
}
