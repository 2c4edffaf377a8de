//! `cargo observe`: cardinality and secret linting for existing code, the
//! catalog of instrumented functions, SLO alert rules, Grafana dashboards,
//! and migration from `#[tracing::instrument]` and `#[autometrics]`.
//!
//! Reads Rust source with syn; never compiles or runs build scripts.
//!
//! Modules depend one way, top to bottom:
//! - [`cli`]: the argument parser, dispatching to one module per command;
//! - the commands, each owning its arguments and its `run`: [`lint`],
//!   [`catalog`], [`rules`], [`dashboard`], [`migrate`];
//! - [`slo`]: the SLO model and the PromQL `rules` and `dashboard` share;
//! - [`frontend`]: finds, reads and walks the source (shared by lint,
//!   catalog, rules and dashboard), calling the lint rules of [`checks`];
//! - the basics: [`observed`], [`finding`], [`render`], [`config`],
//!   [`workspace`], [`source`], [`tokens`], [`num`], [`output`], [`error`].

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod finding;
pub mod frontend;
pub mod lint;
pub mod migrate;
pub mod num;
pub mod observed;
pub mod output;
pub mod render;
pub mod rules;
pub mod slo;
pub mod source;
pub mod tokens;
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
