//! The `bazaar` command.

mod cli;

use std::process::ExitCode;

use clap::Parser;

// The server allocates many small, short-lived buffers across threads (rows, JSON); mimalloc
// handles that markedly better than glibc's allocator (see `bazaar bench api`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // The message and its causes, never a backtrace: a partner needs what went wrong and
        // what to do, not the CLI's stack (even with RUST_BACKTRACE set).
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
