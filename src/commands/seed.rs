//! `karigar-perf seed`: loads the deterministic dataset into any database with the schema.

use crate::cli::SeedArgs;
use crate::error::Result;
use crate::seed::SeedSize;

pub async fn run(args: &SeedArgs) -> Result<u8> {
    let size = SeedSize {
        providers: args.providers,
        services_per_provider: args.shape.services_per_provider,
        customers: args.shape.seed_customers,
    };
    let report = crate::seed::seed_url(&args.database_url, size).await?;
    println!(
        "seeded {} providers, {} services, {} customers in {:.2}s",
        report.size.providers, report.services, report.size.customers, report.seconds
    );
    Ok(crate::exit::PASS)
}
