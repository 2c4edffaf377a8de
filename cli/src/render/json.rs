//! `--format json`: one object with every finding and a summary.

use serde::Serialize;

use crate::finding::{Finding, Severity};
use crate::frontend::Report;

#[derive(Serialize)]
struct Output<'a> {
    tool: &'static str,
    findings: Vec<JsonFinding<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    label: &'a str,
    help: &'static str,
    /// The source line the finding starts on.
    snippet: String,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    lines: usize,
    errors: usize,
    warnings: usize,
    notes: usize,
}

fn finding<'a>(report: &Report, f: &'a Finding) -> JsonFinding<'a> {
    JsonFinding {
        code: f.code.as_str(),
        name: f.code.name(),
        severity: f.severity,
        message: &f.message,
        file: &f.file,
        line: f.location.line,
        column: f.location.column,
        end_line: f.location.end_line,
        end_column: f.location.end_column,
        label: &f.label,
        help: f.code.help(),
        snippet: report
            .source_of(&f.file)
            .map(|s| s.line_text(f.location.line).to_string())
            .unwrap_or_default(),
    }
}

pub fn render(report: &Report) -> String {
    let output = Output {
        tool: "cargo-observe",
        findings: report.findings().map(|f| finding(report, f)).collect(),
        summary: Summary {
            files: report.files.len(),
            lines: report.lines(),
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            notes: report.count(Severity::Note),
        },
    };
    let mut text = serde_json::to_string_pretty(&output).expect("findings serialize");
    text.push('\n');
    text
}
