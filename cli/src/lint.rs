//! `cargo observe lint`: the front end's findings, rendered as text,
//! JSON or SARIF; exit code 1 when any is an error.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

use crate::error::Error;
use crate::finding::Severity;
use crate::{frontend, output, render, workspace};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    #[value(alias = "text")]
    Human,
    Json,
    Sarif,
}

/// `cargo observe lint [PATHS] [--format F] [--stats] [--color C]`.
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

pub fn run(args: LintArgs) -> Result<ExitCode, Error> {
    let files = workspace::discover(&args.paths)?;
    let report = frontend::scan(&files);
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
    output::print(&text)?;
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
    let failed = report.findings().any(|f| f.severity == Severity::Error);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
