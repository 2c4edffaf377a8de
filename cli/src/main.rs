//! `cargo observe`: cardinality and secret linting for existing code, the
//! catalog of instrumented functions, SLO alert rules, Grafana dashboards,
//! and migration from `#[tracing::instrument]` and `#[autometrics]`.
//!
//! Reads Rust source with syn; never compiles or runs build scripts.

mod catalog;
mod cli;
mod config;
mod dashboard;
mod finding;
mod lint;
mod migrate;
mod num;
mod observed;
mod render;
mod rules;
mod source;
mod tokens;
mod workspace;

use std::process::ExitCode;

/// A failure of the command itself (exit code 2), as opposed to findings.
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error(message)
    }
}

fn main() -> ExitCode {
    match cli::try_main() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
