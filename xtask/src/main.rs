//! Ward's project tasks: `cargo xtask up` (install, build, pull, serve), `cargo xtask ci` (every
//! test, as CI runs them), `cargo xtask tidy` (conventions as tests). Plain Rust, no
//! dependencies, so it builds before anything else.

mod ci;
mod postgres;
mod tidy;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  up [--native] [-- SERVE ARGS]   install system packages, build Ward in release mode, pull the
                                  default model and serve it on 127.0.0.1:8080
                                  (--native: build with -C target-cpu=native, for this machine only)
  ci                              run everything CI runs: format and clippy checks, Rust tests, the real-model
                                  tests and the end-to-end tests with the official Python clients
  tidy                            check the workspace conventions (also part of `cargo test`)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("up") => ci::up(&args[1..]),
        Some("ci") => ci::ci(),
        Some("tidy") => tidy::check_workspace(&ci::workspace_root()).map(|()| println!("tidy: ok")),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
