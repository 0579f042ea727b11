//! `orderly`: parse the command line and dispatch. Everything else lives in the library.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = orderly::cli::Cli::parse();
    match orderly::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("orderly: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
