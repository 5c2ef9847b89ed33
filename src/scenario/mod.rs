//! Scenario files: the raw TOML model, where files come from, templates, data pools,
//! steps, and the validated [`Plan`] the rest of the harness runs.

pub mod load;
pub mod model;
pub mod plan;
pub mod pool;
pub mod source;
pub mod steps;
pub mod template;

pub use load::{parse_duration, Load, LoadOverrides, OpenModel};
pub use plan::{Kind, Plan};
pub use source::Source;
pub use steps::{Body, Capture, CaptureFrom, JsonTemplate, Step, Target};
pub use template::Template;
