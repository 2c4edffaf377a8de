//! The lint rules (OBS001..OBS005), each a function over one construct
//! that reports into a [`Context`]. The front end's walk
//! (`crate::frontend`) calls them; they never call back into it.

pub mod attribute;
pub mod labels;
pub mod secrets;

use std::collections::HashSet;

use proc_macro2::Span;

use crate::config::Config;
use crate::finding::{Code, Finding, Severity};
use crate::observed::{LabelEnum, ObservedFn};
use crate::source::{Location, SourceFile};

/// The enclosing `impl` block, for `#[observe]` on blocks.
pub struct ImplContext {
    /// `Cart` for `impl Cart`.
    pub type_name: Option<String>,
    /// The block's own `#[observe(...)]` arguments, when it has one.
    pub block_args: Option<observe_attr::Args>,
}

/// Where the walk is in one file, and what the rules found there.
pub struct Context<'a> {
    pub src: &'a SourceFile,
    pub config: &'a Config,
    /// The module path of the current item.
    pub module: String,
    pub impl_cx: Option<ImplContext>,
    /// The first line of the enclosing statement or item (0: none).
    pub anchor: usize,
    pub findings: Vec<Finding>,
    pub observed: Vec<ObservedFn>,
    pub label_enums: Vec<LabelEnum>,
    seen: HashSet<(Code, usize, usize, String)>,
}

impl<'a> Context<'a> {
    pub fn new(src: &'a SourceFile, config: &'a Config, module: String) -> Context<'a> {
        Context {
            src,
            config,
            module,
            impl_cx: None,
            anchor: 0,
            findings: Vec::new(),
            observed: Vec::new(),
            label_enums: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// Records a finding at `location`, once.
    pub fn report_at(
        &mut self,
        code: Code,
        severity: Severity,
        location: Location,
        message: String,
        label: String,
    ) {
        if !self.seen.insert((
            code,
            location.bytes.start,
            location.bytes.end,
            message.clone(),
        )) {
            return;
        }
        let anchor = if self.anchor == 0 {
            location.line
        } else {
            self.anchor
        };
        self.findings.push(Finding {
            code,
            severity,
            message,
            label,
            file: self.src.display.clone(),
            location,
            anchor_line: anchor,
        });
    }

    /// Records a finding spanning `start` to `end`.
    pub fn report(
        &mut self,
        code: Code,
        severity: Severity,
        span: (Span, Span),
        message: String,
        label: impl Into<String>,
    ) {
        let location = self.src.locate_between(span.0, span.1);
        self.report_at(code, severity, location, message, label.into());
    }

    /// The severity a code has here (its default, or the configured one).
    pub fn severity(&self, code: Code) -> Severity {
        self.config.severity_of(code, code.default_severity())
    }
}
