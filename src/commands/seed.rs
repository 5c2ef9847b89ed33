//! `karigar-perf seed`: loads the deterministic dataset into any database with the schema.

use crate::cli::SeedArgs;
use crate::error::Result;

pub async fn run(args: &SeedArgs) -> Result<u8> {
    let (database_url, size) = crate::config::seed_target(args);
    let report = crate::seed::seed_url(&database_url, size).await?;
    println!(
        "seeded {} providers, {} services, {} customers in {:.2}s",
        report.size.providers, report.services, report.size.customers, report.seconds
    );
    Ok(crate::exit::PASS)
}
