//! Integration tests, one binary: the reference backend against real Postgres and
//! Redis, and the harness as a user runs it.

mod alert_rules;
mod architecture;
mod backend_api;
mod backend_process;
mod capacity;
mod common;
mod compose;
mod departures;
mod deploy;
mod distributed;
mod docker_stack;
mod docs;
mod drills;
mod gate;
mod harness_cli;
mod k8s_pods;
mod k8s_schemas;
mod marketplace_api;
mod observability;
mod open_model;
mod readme;
mod recorded;
mod reports;
mod secrets;
mod server_logs;
mod shipped;
mod tls;
mod transport;
