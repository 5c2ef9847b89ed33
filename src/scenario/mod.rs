//! Scenario files: the raw TOML model, where files come from, templates, and the
//! validated [`Plan`] the rest of the harness runs.

pub mod model;
pub mod plan;
pub mod source;
pub mod template;

pub use plan::{Body, Capture, JsonTemplate, Load, LoadOverrides, Plan, Step, Target};
pub use source::Source;
pub use template::Template;
