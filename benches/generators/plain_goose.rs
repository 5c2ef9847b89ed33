//! Plain Goose 0.19 with its default settings, one GET transaction: the baseline the
//! side-by-side generator bench (`benches/generators/run.sh`) measures karigar-perf
//! against. `plain_goose URL USERS SECONDS` prints `requests=N`.

use goose::prelude::*;

async fn get_root(user: &mut GooseUser) -> TransactionResult {
    let _response = user.get("/").await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, host, users, seconds] = args.as_slice() else {
        eprintln!("usage: plain_goose URL USERS SECONDS");
        std::process::exit(2);
    };
    let config = goose::config::GooseConfiguration::parse_args_default(&[
        "--host",
        host,
        "--users",
        users,
        "--increase-rate",
        users,
        "--run-time",
        &format!("{seconds}s"),
        "--no-telnet",
        "--quiet",
        "--no-print-metrics",
    ])?;
    let metrics = GooseAttack::initialize_with_config(config)?
        .register_scenario(scenario!("get").register_transaction(transaction!(get_root)))
        .execute()
        .await?;
    let requests: usize = metrics
        .requests
        .values()
        .map(|r| r.success_count + r.fail_count)
        .sum();
    println!("requests={requests}");
    Ok(())
}
