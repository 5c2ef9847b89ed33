//! Service-level objectives: expressions ([`SloExpr`]) and their evaluation against a
//! run's measurements ([`evaluate`] -> [`Verdict`]s, data rather than prints).

mod eval;
mod expr;

pub use eval::{evaluate, Verdict};
pub use expr::{Cmp, Metric, SloExpr, Unit, METRICS};
