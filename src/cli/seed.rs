//! `seed`: the deterministic dataset.

use clap::Args;

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Postgres URL of a database with the Karigar schema.
    #[arg(long, env = "KARIGAR_PERF_DATABASE_URL")]
    pub database_url: String,
    /// Providers to create, spread around five city centres.
    #[arg(long, default_value_t = 10_000)]
    pub providers: usize,
    #[command(flatten)]
    pub shape: SeedShape,
}

/// The rest of a dataset's size, relative to its providers.
#[derive(Clone, Copy, Debug, Args)]
pub struct SeedShape {
    /// Services per seeded provider.
    #[arg(long, default_value_t = 5)]
    pub services_per_provider: usize,
    /// Customers (emails customer-N@seed.karigar.test, password Seeded123).
    #[arg(long, default_value_t = 1_000)]
    pub seed_customers: usize,
}
