//! Scenario files: the raw TOML model, where files come from, templates, data pools,
//! steps, faults, the load profile and the validated [`Plan`] the rest of the harness
//! runs.
//!
//! - `model`: the file as written (serde, spans kept for `file:line` errors)
//! - `source`: where a file comes from, offsets to lines
//! - `profile`: `[load]` and the load flags -> [`LoadProfile`]; `rate`: the open model's
//! - `steps`, `template`, `pool`: steps with templated requests, captures, data pools
//! - `faults`: `[[faults]]` -> [`Fault`]
//! - `plan`: everything above, checked once -> [`Plan`]

mod faults;
mod model;
mod plan;
mod pool;
mod profile;
mod rate;
mod source;
mod steps;
mod template;

pub use faults::{Action, Fault};
pub use plan::{Kind, Plan, StackKind, StackNeeds};
pub use pool::{Pick, Pool};
pub use profile::{
    parse_duration, parse_rate, parse_test_plan, workers, LoadOverrides, LoadProfile, OpenModel, MAX_USERS,
};
pub use rate::{Arrivals, Rate, Share};
pub use source::Source;
pub use steps::{Body, Capture, CaptureFrom, JsonTemplate, Step, Target};
pub use template::{Context, Template};
