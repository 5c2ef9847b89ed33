//! `karigar-backend`: the reference backend as a standalone server.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let settings = match karigar_backend::Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            karigar_backend::log::error(&format!("configuration error: {e}"));
            return std::process::ExitCode::from(2);
        }
    };
    match karigar_backend::run(settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            karigar_backend::log::error(&format!("fatal: {e:#}"));
            std::process::ExitCode::FAILURE
        }
    }
}
