//! karigar-perf's benches (`cargo bench -p karigar-perf-benches`) and the programs they
//! measure against, as examples: plain Goose (`plain_goose`, for
//! `generators/run.sh`) and a server of set latency (`latency_server`, for the CI-gate
//! tests and `gate/run.sh`). The package has no code of its own.
