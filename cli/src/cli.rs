//! The command line: one subcommand per module, each with its own
//! arguments and `run`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Error;
use crate::{catalog, dashboard, lint, migrate, rules};

#[derive(Parser, Debug)]
#[command(
    name = "cargo-observe",
    bin_name = "cargo observe",
    version,
    about = "Lint, catalog, alert rules, dashboards and migration for #[observe]"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Report high-cardinality metric labels, unbounded label values,
    /// secrets in logs and invalid #[observe] attributes.
    Lint(lint::LintArgs),
    /// List every #[observe] function: flow, function, module, labels, SLOs.
    Catalog(catalog::CatalogArgs),
    /// Prometheus recording and multi-window burn-rate alerting rules for
    /// every function with an slo(...), plus a promtool unit-test file.
    Rules(rules::RulesArgs),
    /// Rewrite #[tracing::instrument] and #[autometrics] into #[observe].
    Migrate(migrate::MigrateArgs),
    /// A Grafana dashboard per flow.
    Dashboard(dashboard::DashboardArgs),
}

/// Parses the arguments (accepting the `observe` that cargo inserts when
/// run as `cargo observe`) and runs the command.
pub fn try_main() -> Result<ExitCode, Error> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "observe") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Usage errors exit with 2; --help and --version with 0.
            return Ok(ExitCode::from(if e.use_stderr() { 2 } else { 0 }));
        }
    };
    match cli.command {
        Command::Lint(args) => lint::run(args),
        Command::Catalog(args) => catalog::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Dashboard(args) => dashboard::run(args),
    }
}
