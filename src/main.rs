//! `orderly`: parse the command line and dispatch. Everything else lives in the library.

use clap::Parser;

/// mimalloc instead of glibc's malloc: a request allocates and frees many small buffers (rows, JSON), and glibc's
/// malloc and free were a sixth of the service's CPU under load (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = orderly::cli::Cli::parse();
    match orderly::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("orderly: {e:#}");
            match e.downcast_ref::<orderly::legacy::commands::Exit>() {
                Some(exit) => std::process::ExitCode::from(exit.code),
                None => std::process::ExitCode::FAILURE,
            }
        }
    }
}
