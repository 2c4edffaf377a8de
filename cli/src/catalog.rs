//! `cargo observe catalog`: every instrumented function as a table, JSON
//! or Markdown.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use serde::Serialize;

use crate::error::Error;
use crate::num;
use crate::observed::ObservedFn;
use crate::{frontend, output, workspace};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CatalogFormat {
    #[value(alias = "human", alias = "text")]
    Table,
    Json,
    #[value(alias = "md")]
    Markdown,
}

/// `cargo observe catalog [PATHS] [--format F]`.
#[derive(clap::Args, Debug)]
pub struct CatalogArgs {
    /// Files or directories to read (default: the current directory).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: CatalogFormat,
}

pub fn run(args: CatalogArgs) -> Result<ExitCode, Error> {
    let files = workspace::discover(&args.paths)?;
    let report = frontend::scan(&files);
    output::print(&render(&report.observed(), args.format))?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct JsonCatalog<'a> {
    functions: &'a [ObservedFn],
}

fn labels_cell(f: &ObservedFn) -> String {
    if f.labels.is_empty() {
        return "-".into();
    }
    f.labels
        .iter()
        .map(|l| {
            let card = l.cardinality.map_or("?".to_string(), |c| c.to_string());
            match &l.ty {
                Some(ty) => format!("{}={}: {} ({card})", l.key, l.value, ty),
                None => format!("{}={} ({card})", l.key, l.value),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn row(f: &ObservedFn) -> Vec<String> {
    vec![
        f.flow.clone(),
        f.function.clone(),
        f.module.clone(),
        format!("{}:{}", f.file, f.line),
        labels_cell(f),
        f.series
            .map_or("?".into(), |s| format!("{s}/{}", f.max_series)),
        f.slo.as_ref().map_or("-".into(), |s| s.describe()),
        f.level.to_string(),
        f.sample.map_or("-".into(), num::fmt),
    ]
}

const HEADER: [&str; 9] = [
    "FLOW", "FUNCTION", "MODULE", "LOCATION", "LABELS", "SERIES", "SLO", "LEVEL", "SAMPLE",
];

pub fn render(functions: &[ObservedFn], format: CatalogFormat) -> String {
    let mut functions = functions.to_vec();
    functions.sort_by(|a, b| {
        (&a.flow, &a.function, &a.file, a.line).cmp(&(&b.flow, &b.function, &b.file, b.line))
    });
    match format {
        CatalogFormat::Json => {
            let mut text = serde_json::to_string_pretty(&JsonCatalog {
                functions: &functions,
            })
            .expect("catalog serializes");
            text.push('\n');
            text
        }
        CatalogFormat::Markdown => markdown(&functions),
        CatalogFormat::Table => table(&functions),
    }
}

fn table(functions: &[ObservedFn]) -> String {
    let rows: Vec<Vec<String>> = functions.iter().map(row).collect();
    let mut widths: Vec<usize> = HEADER.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(HEADER.iter().map(|h| h.to_string()).collect());
    for r in rows {
        out.push_str(&line(r));
    }
    out.push_str(&format!(
        "\n{} instrumented function{}\n",
        functions.len(),
        if functions.len() == 1 { "" } else { "s" }
    ));
    out
}

fn markdown(functions: &[ObservedFn]) -> String {
    let escape = |s: &str| s.replace('|', "\\|");
    let mut out = String::from(
        "| Flow | Function | Module | Location | Labels | Series | SLO | Level | Sample |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for f in functions {
        let cells: Vec<String> = row(f).iter().map(|c| escape(c)).collect();
        let cells: Vec<String> = cells
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                if matches!(i, 1..=3) {
                    format!("`{c}`")
                } else {
                    c
                }
            })
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}
