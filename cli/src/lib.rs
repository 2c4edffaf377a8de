//! `cargo observe`: cardinality and secret linting for existing code, the
//! catalog of instrumented functions, SLO alert rules, Grafana dashboards,
//! and migration from `#[tracing::instrument]` and `#[autometrics]`.
//!
//! Reads Rust source with syn; never compiles or runs build scripts.
//!
//! The library is public for the tests (`workspace`, `frontend`, `slo`,
//! `rules`, `dashboard`, `migrate`); it is not a stable API.
//!
//! Modules depend one way, top to bottom:
//! - `cli`: the argument parser, dispatching to one module per command;
//! - the commands, each owning its arguments and its `run`: `lint`,
//!   `catalog`, `rules`, `dashboard`, `migrate`;
//! - `slo`: the SLO model and the PromQL `rules` and `dashboard` share;
//! - `frontend`: finds, reads and walks the source (shared by lint,
//!   catalog, rules and dashboard), calling the lint rules of `checks`;
//! - the basics: `observed`, `finding`, `render`, `config`,
//!   `workspace`, `source`, `tokens`, `num`, `output`, `error`.

#![deny(missing_docs)]

mod catalog;
mod checks;
mod cli;
mod config;
pub mod dashboard;
mod error;
mod finding;
pub mod frontend;
mod lint;
pub mod migrate;
mod num;
mod observed;
mod output;
mod render;
pub mod rules;
pub mod slo;
mod source;
mod tokens;
pub mod workspace;

pub use error::Error;

/// Runs `cargo observe` with the process's arguments; failures of the
/// command itself print `error: ...` and exit with 2.
pub fn main() -> std::process::ExitCode {
    match cli::try_main() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::from(2)
        }
    }
}
