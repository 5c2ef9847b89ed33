//! `karigar-perf`: see the crate docs and the README.

/// jemalloc: with 10,000 virtual users about 30% less CPU per request than glibc's
/// malloc and, with think time, 189 MB instead of 261 MB; with 50 users the difference
/// is within noise. mimalloc was faster still but took half as much memory again.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = karigar_perf::cli::parse();
    std::process::ExitCode::from(karigar_perf::main(cli).await)
}
