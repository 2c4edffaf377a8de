//! Command-line arguments (clap) and dispatch to the subcommands.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::{Error, catalog, dashboard, lint, migrate, render, rules, workspace};

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
    Lint(LintArgs),
    /// List every #[observe] function: flow, function, module, labels, SLOs.
    Catalog(CatalogArgs),
    /// Prometheus recording and multi-window burn-rate alerting rules for
    /// every function with an slo(...), plus a promtool unit-test file.
    Rules(RulesArgs),
    /// Rewrite #[tracing::instrument] and #[autometrics] into #[observe].
    Migrate(MigrateArgs),
    /// A Grafana dashboard per flow.
    Dashboard(DashboardArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    #[value(alias = "text")]
    Human,
    Json,
    Sarif,
}

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// Files or directories to lint (default: the current directory).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: LintFormat,
    /// Print files, lines, time and lines per second to stderr.
    #[arg(long)]
    pub stats: bool,
    /// Colour the human output: auto, always or never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CatalogFormat {
    #[value(alias = "human", alias = "text")]
    Table,
    Json,
    #[value(alias = "md")]
    Markdown,
}

#[derive(clap::Args, Debug)]
pub struct CatalogArgs {
    /// Files or directories to read (default: the current directory).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: CatalogFormat,
}

#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    /// Files or directories to read (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Write the rules here, and the promtool unit tests beside it
    /// (`<name>.test.yml`); without it the rules go to stdout.
    #[arg(long, short = 'o', alias = "out")]
    pub output: Option<PathBuf>,
    /// Where to write the promtool unit tests (default: beside --output).
    #[arg(long)]
    pub test_output: Option<PathBuf>,
    /// The runbook annotation; `{flow}` and `{function}` are replaced.
    #[arg(long, default_value = rules::DEFAULT_RUNBOOK)]
    pub runbook_url: String,
}

#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// Files or directories to rewrite (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Print a unified diff instead of writing the files.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(clap::Args, Debug)]
pub struct DashboardArgs {
    /// Files or directories to read (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Only this flow.
    #[arg(long)]
    pub flow: Option<String>,
    /// Write one `<flow>.json` per flow into this directory instead of
    /// printing (one dashboard object, or an array when several flows).
    #[arg(long, alias = "output-dir")]
    pub out_dir: Option<PathBuf>,
    /// Write what would be printed (one dashboard, or an array) to this
    /// file instead.
    #[arg(long, short = 'o', conflicts_with = "out_dir")]
    pub output: Option<PathBuf>,
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
        Command::Lint(args) => run_lint(args),
        Command::Catalog(args) => {
            let files = workspace::discover(&args.paths)?;
            let report = lint::scan(&files);
            print(&catalog::render(&report.observed(), args.format))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(args) => rules::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Dashboard(args) => dashboard::run(args),
    }
}

pub fn print(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error(format!("cannot write to stdout: {e}"))),
    }
}

fn run_lint(args: LintArgs) -> Result<ExitCode, Error> {
    let files = workspace::discover(&args.paths)?;
    let report = lint::scan(&files);
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let text = match args.format {
        LintFormat::Human => render::human::render(&report, color),
        LintFormat::Json => render::json::render(&report),
        LintFormat::Sarif => render::sarif::render(&report),
    };
    print(&text)?;
    if args.stats {
        let secs = report.elapsed.as_secs_f64();
        let lines = report.lines();
        eprintln!(
            "cargo observe lint: {} files, {} lines, {:.1} MB in {:.3} s on {} threads: {:.0} lines/s",
            report.files.len(),
            lines,
            report.bytes() as f64 / 1e6,
            secs,
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            lines as f64 / secs.max(1e-9)
        );
    }
    let failed = report
        .findings()
        .any(|f| f.severity == crate::finding::Severity::Error);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
