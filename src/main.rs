//! `karigar-perf`: see the crate docs and the README.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = karigar_perf::cli::Cli::parse();
    std::process::ExitCode::from(karigar_perf::main(cli).await)
}
