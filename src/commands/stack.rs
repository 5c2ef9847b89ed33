//! `karigar-perf stack down`: sweeps containers and networks of runs.

use crate::error::Result;

pub async fn down(orphans_only: bool) -> Result<u8> {
    let swept = crate::stack::down(orphans_only).await?;
    println!(
        "removed {} container(s) and {} network(s)",
        swept.containers, swept.networks
    );
    Ok(crate::exit::PASS)
}
