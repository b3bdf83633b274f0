//! The leakscan command line: parse, run, print the error chain once, exit
//! 0 (nothing found), 1 (findings) or 2 (error).

mod args;
mod ci;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Cli::parse();
    match commands::run(args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let msg = leakscan_scanner::sanitize::sanitize(&format!("{err:#}"));
            eprintln!("leakscan: error: {msg}");
            ExitCode::from(2)
        }
    }
}
