//! The seeded accounts, as scenarios draw them and the seeder writes them: the same
//! emails and password on both sides, so a scenario's `seeded` pool logs in as the
//! customers `seed` created.

/// The password of every seeded account.
pub const SEEDED_PASSWORD: &str = "Seeded123";

/// The email of seeded customer `i` (their password is [`SEEDED_PASSWORD`]).
pub fn customer_email(i: usize) -> String {
    format!("customer-{i}@seed.karigar.test")
}
