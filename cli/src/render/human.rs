//! rustc-style findings, rendered by annotate-snippets.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::finding::{Finding, Severity};
use crate::frontend::Report;

fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note | Severity::Allow => Level::NOTE,
    }
}

/// One finding as a snippet with the offending span underlined.
pub fn render_finding(report: &Report, finding: &Finding, renderer: &Renderer) -> String {
    let location = &finding.location;
    let title = level(finding.severity)
        .primary_title(finding.message.as_str())
        .id(finding.code.as_str());
    let help = Level::HELP.message(finding.code.help());
    let group = match report.source_of(&finding.file) {
        Some(src) if location.line >= 1 && location.line <= src.line_count() => {
            let first = src.line_start(location.line);
            let last_line = location.end_line.max(location.line);
            let end = src.line_start(last_line) + src.line_text(last_line).len();
            let text = &src.text[first..end.max(first)];
            // Clamp into the shown lines (a span may end on a `\r` or newline
            // that the snippet leaves out).
            let start = (location.bytes.start - first).min(text.len());
            let end = (location.bytes.end - first).clamp(start, text.len());
            let span = start..end;
            let label = finding.label.as_str();
            title
                .element(
                    Snippet::source(text)
                        .line_start(location.line)
                        .path(finding.file.as_str())
                        .annotation(AnnotationKind::Primary.span(span).label(label)),
                )
                .element(help)
        }
        _ => title
            .element(
                annotate_snippets::Origin::path(finding.file.as_str())
                    .line(location.line)
                    .char_column(location.column.saturating_sub(1)),
            )
            .element(help),
    };
    let groups: [Group<'_>; 1] = [group];
    renderer.render(&groups).to_string()
}

/// Every finding, then a summary line.
pub fn render(report: &Report, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for finding in report.findings() {
        out.push_str(&render_finding(report, finding, &renderer));
        out.push_str("\n\n");
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

pub fn summary(report: &Report) -> String {
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let notes = report.count(Severity::Note);
    let files = report.files.len();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if errors + warnings + notes == 0 {
        return format!(
            "cargo observe lint: no findings in {}",
            plural(files, "file")
        );
    }
    let mut parts = vec![plural(errors, "error"), plural(warnings, "warning")];
    if notes > 0 {
        parts.push(plural(notes, "note"));
    }
    format!(
        "cargo observe lint: {} in {}",
        parts.join(", "),
        plural(files, "file")
    )
}
