//! Service-level objectives: expressions ([`SloExpr`]) and their evaluation against a
//! run's measurements ([`evaluate`] -> [`Verdict`]s, data rather than prints).

mod eval;
mod expr;
mod observe;
mod window;

pub use eval::{evaluate, Verdict};
pub use expr::{Cmp, Metric, SloExpr, Unit, MAX_WINDOW_S, METRICS};
pub use window::{abort_reason, record, window_value, WatchReport, WindowResult};
