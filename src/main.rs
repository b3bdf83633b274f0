//! The leakscan command line: parse, run, print the error chain once, exit
//! 0 (nothing found), 1 (findings) or 2 (error).

mod args;
mod ci;
mod commands;
mod remote;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc, not the system allocator: a scan allocates and frees a read
/// buffer per file and small vectors per rule and match, and glibc's malloc
/// returned large buffers to the kernel only to fault them in again.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = args::Cli::parse();
    match commands::run(args) {
        Ok(code) => ExitCode::from(code),
        // A reader that went away (`leakscan rules list | head -1`) is not
        // an error: end quietly, as other command-line tools do.
        Err(err) if broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Each line sanitized on its own: multi-line messages (a TOML
            // parse error points at the bad spot) keep their line breaks.
            let msg: Vec<String> = format!("{err:#}")
                .lines()
                .map(leakscan_scanner::sanitize::sanitize)
                .collect();
            eprintln!("leakscan: error: {}", msg.join("\n"));
            ExitCode::from(2)
        }
    }
}

fn broken_pipe(err: &anyhow::Error) -> bool {
    let pipe = Some(std::io::ErrorKind::BrokenPipe);
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().map(|io| io.kind()) == pipe
            || e.downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == pipe
    })
}
