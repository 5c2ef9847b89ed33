//! Scenario files: the raw TOML model, where files come from, templates, and the
//! validated [`Plan`] the rest of the harness runs.

pub mod load;
pub mod model;
pub mod plan;
pub mod pool;
pub mod source;
pub mod template;

pub use load::{parse_duration, Load, LoadOverrides};
pub use plan::{Body, Capture, JsonTemplate, Plan, Step, Target};
pub use source::Source;
pub use template::Template;
