//! Helpers shared by the integration tests: real stores, the backend on port 0, and
//! the harness binary.

pub mod app;
pub mod browser;
pub mod cdp;
pub mod docker;
pub mod harness;
pub mod nginx;
pub mod pages;
pub mod stall;
pub mod stores;
