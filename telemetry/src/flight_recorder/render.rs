//! The waterfall: a trace's span tree as aligned text, with a time bar
//! per span and the failing spans marked.

use std::fmt::Write;
use std::time::Duration;

use super::model::{RecordedTrace, SpanRecord};

/// How to draw a waterfall.
#[derive(Debug, Clone, Copy)]
pub struct WaterfallStyle {
    /// ANSI colour (only for a terminal).
    pub colour: bool,
    /// Width of the time bar, in characters.
    pub bar_width: usize,
}

impl Default for WaterfallStyle {
    fn default() -> Self {
        WaterfallStyle {
            colour: false,
            bar_width: 40,
        }
    }
}

/// `1.2 ms`, `340 ms`, `1.25 s`.
pub fn format_duration(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1e3)
    }
}

struct Row<'a> {
    label: String,
    span: &'a SpanRecord,
}

impl RecordedTrace {
    /// The span tree as text: name (indented by depth), service, start
    /// offset, duration, a bar on the trace's time line, and `✗` with the
    /// error on failing spans.
    pub fn waterfall(&self, style: WaterfallStyle) -> String {
        let mut rows = Vec::new();
        for root in self.roots() {
            self.collect_rows(root, String::new(), String::new(), &mut rows);
        }
        let (red, dim, bold, off) = if style.colour {
            ("\x1b[31m", "\x1b[2m", "\x1b[1m", "\x1b[0m")
        } else {
            ("", "", "", "")
        };
        let name_width = rows
            .iter()
            .map(|r| r.label.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let service_width = rows
            .iter()
            .map(|r| r.span.service.chars().count())
            .max()
            .unwrap_or(7)
            .max(7);
        let total = self.duration.as_secs_f64().max(1e-9);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{bold}{:<name_width$}  {:<service_width$}  {:>9}  {:>9}  timeline{off}",
            "span", "service", "start", "duration"
        );
        for row in rows {
            let span = row.span;
            let offset = span.start.duration_since(self.start).unwrap_or_default();
            let from = ((offset.as_secs_f64() / total) * style.bar_width as f64).floor() as usize;
            let length =
                (((span.duration().as_secs_f64() / total) * style.bar_width as f64).round()
                    as usize)
                    .max(1);
            let from = from.min(style.bar_width.saturating_sub(1));
            let length = length.min(style.bar_width - from);
            let bar = format!(
                "{}{}{}",
                " ".repeat(from),
                "█".repeat(length),
                " ".repeat(style.bar_width - from - length)
            );
            let failed = span.is_error();
            let (on, mark) = if failed { (red, "  ✗ ") } else { ("", "") };
            let pad = name_width - row.label.chars().count();
            let _ = write!(
                out,
                "{on}{}{}  {:<service_width$}  {dim}{:>9}{off}{on}  {:>9}  {dim}▕{off}{on}{bar}{dim}▏{off}",
                row.label,
                " ".repeat(pad),
                span.service,
                format_duration(offset),
                format_duration(span.duration()),
            );
            if failed {
                let _ = write!(
                    out,
                    "{red}{bold}{mark}{}{off}",
                    span.error_message().unwrap_or_else(|| "error".into())
                );
            }
            let _ = writeln!(out, "{off}");
        }
        out
    }

    fn collect_rows<'a>(
        &'a self,
        span: &'a SpanRecord,
        prefix: String,
        branch: String,
        rows: &mut Vec<Row<'a>>,
    ) {
        rows.push(Row {
            label: format!("{prefix}{branch}{}", span.name),
            span,
        });
        let children = self.children(&span.span_id);
        let count = children.len();
        let next_prefix = match branch.as_str() {
            "" => prefix,
            "└─ " => format!("{prefix}   "),
            _ => format!("{prefix}│  "),
        };
        for (index, child) in children.into_iter().enumerate() {
            let branch = if index + 1 == count {
                "└─ "
            } else {
                "├─ "
            };
            self.collect_rows(child, next_prefix.clone(), branch.to_owned(), rows);
        }
    }
}
