//! The dataset to seed: `seed`, and a run's `--seed-providers`.

use crate::cli::{SeedArgs, SeedShape};
use crate::seed::SeedSize;

/// `seed`: the database to seed and the dataset's size.
pub fn seed_target(args: &SeedArgs) -> (String, SeedSize) {
    let size = SeedSize {
        providers: args.providers,
        services_per_provider: args.shape.services_per_provider,
        customers: args.shape.seed_customers,
    };
    (args.database_url.clone(), size)
}

/// The dataset to seed: none for 0 providers.
pub fn seed_size(providers: Option<usize>, shape: SeedShape) -> Option<SeedSize> {
    providers.filter(|&n| n > 0).map(|providers| SeedSize {
        providers,
        services_per_provider: shape.services_per_provider,
        customers: shape.seed_customers,
    })
}
