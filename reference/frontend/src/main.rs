//! `karigar-frontend`: the reference frontend as a standalone server.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let settings = match karigar_frontend::Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("karigar-frontend: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match karigar_frontend::run(settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("karigar-frontend: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
