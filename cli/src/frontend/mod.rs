//! The front end every command that reads source shares (lint, catalog,
//! rules, dashboard): reads every file in parallel, parses it, walks it
//! with the rules of `crate::checks`, applies configuration and
//! suppression comments, and collects the instrumented functions.

mod walk;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use syn::visit::Visit;

use crate::finding::{Code, Finding, Severity};
use crate::observed::{LabelEnum, ObservedFn};
use crate::source::SourceFile;
use crate::workspace::FileEntry;

/// The result for one file.
pub struct FileReport {
    /// Findings left after configuration and suppression.
    pub findings: Vec<Finding>,
    /// The functions `#[observe]` accepts.
    pub observed: Vec<ObservedFn>,
    /// Enums deriving `Label`, for label cardinalities.
    pub label_enums: Vec<LabelEnum>,
    /// Lines read.
    pub lines: usize,
    /// Bytes read.
    pub bytes: usize,
    /// Kept for rendering snippets when there are findings.
    pub source: Option<Arc<SourceFile>>,
}

/// The result for the whole run, files in path order.
pub struct Report {
    /// One report per file.
    pub files: Vec<FileReport>,
    /// Wall time of the scan.
    pub elapsed: Duration,
}

impl Report {
    /// Every finding, in file order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.files.iter().flat_map(|f| &f.findings)
    }

    /// How many findings have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings().filter(|f| f.severity == severity).count()
    }

    /// Lines read in all.
    pub fn lines(&self) -> usize {
        self.files.iter().map(|f| f.lines).sum()
    }

    /// Bytes read in all.
    pub fn bytes(&self) -> usize {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// Every instrumented function, with label cardinalities resolved
    /// against the workspace's label enums.
    pub fn observed(&self) -> Vec<ObservedFn> {
        let enums: Vec<LabelEnum> = self
            .files
            .iter()
            .flat_map(|f| f.label_enums.iter().cloned())
            .collect();
        let mut all: Vec<ObservedFn> = self
            .files
            .iter()
            .flat_map(|f| f.observed.iter().cloned())
            .collect();
        for f in &mut all {
            f.resolve_cardinality(&enums);
        }
        all
    }

    /// The source of `file`, kept when it has findings.
    pub fn source_of(&self, file: &str) -> Option<&SourceFile> {
        self.files
            .iter()
            .filter_map(|f| f.source.as_deref())
            .find(|s| s.display == file)
    }
}

/// Deeper delimiter nesting than this is not parsed: syn recurses once
/// per level, and even the large worker stacks have an end.
pub const MAX_NESTING: usize = 10_000;

/// The deepest nesting of `(`, `[` and `{` in `text` (an upper bound: it
/// also counts delimiters inside strings and comments).
pub fn max_nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for byte in text.bytes() {
        match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Stack size of each scanning thread.
pub const WORKER_STACK: usize = 256 * 1024 * 1024;

/// Scans `files` on every core.
pub fn scan(files: &[FileEntry]) -> Report {
    let start = Instant::now();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, FileReport)>> = Mutex::new(Vec::with_capacity(files.len()));
    std::thread::scope(|scope| {
        let mut started = 0;
        for _ in 0..threads {
            // syn and the visitor recurse once per nesting level; deeply
            // nested real code (generated tables, long method chains)
            // needs more than the default 2 MiB of stack.
            let worker = std::thread::Builder::new()
                .name("cargo-observe-scan".into())
                .stack_size(WORKER_STACK);
            let spawned = worker.spawn_scoped(scope, || {
                let mut local = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(entry) = files.get(index) else { break };
                    local.push((index, scan_file(entry)));
                }
                results.lock().expect("scan results").extend(local);
            });
            match spawned {
                Ok(_) => started += 1,
                Err(e) => eprintln!("warning: cannot start a scan thread: {e}"),
            }
        }
        // Only when no thread could start at all does the (smaller) main
        // stack do the work.
        if started == 0 {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(entry) = files.get(index) else { break };
                let report = scan_file(entry);
                results.lock().expect("scan results").push((index, report));
            }
        }
    });
    let mut results = results.into_inner().expect("scan results");
    results.sort_by_key(|(index, _)| *index);
    Report {
        files: results.into_iter().map(|(_, r)| r).collect(),
        elapsed: start.elapsed(),
    }
}

/// Reads, parses and checks one file. Never panics on bad input: a file
/// that cannot be read or parsed becomes an OBS000 finding.
pub fn scan_file(entry: &FileEntry) -> FileReport {
    let config = &entry.package.config;
    let text = match std::fs::read(&entry.path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        },
        Err(e) => {
            let src = SourceFile::new(entry.display.clone(), String::new());
            let finding = parse_failure(&src, config, 0..0, format!("cannot read the file: {e}"));
            return FileReport {
                findings: finding.into_iter().collect(),
                observed: Vec::new(),
                label_enums: Vec::new(),
                lines: 0,
                bytes: 0,
                source: None,
            };
        }
    };
    let mut src = SourceFile::new(entry.display.clone(), text);
    let depth = max_nesting(&src.text);
    let parsed = if depth > MAX_NESTING {
        let message = format!(
            "delimiters nest {depth} deep (more than {MAX_NESTING}), so the file was not parsed: \
             the parser recurses once per level"
        );
        let finding = parse_failure(&src, config, 0..0, message);
        return FileReport {
            findings: finding.into_iter().collect(),
            observed: Vec::new(),
            label_enums: Vec::new(),
            lines: src.line_count(),
            bytes: src.text.len(),
            source: Some(Arc::new(src)),
        };
    } else {
        src.parse()
    };
    let (mut findings, observed, label_enums) = match parsed {
        Ok(file) => {
            let mut walk = walk::Walk {
                cx: crate::checks::Context::new(&src, config, entry.module.clone()),
            };
            walk.visit_file(&file);
            drop(file);
            let cx = walk.cx;
            (cx.findings, cx.observed, cx.label_enums)
        }
        Err(e) => {
            let span = e.span();
            let location = src.locate(span);
            let reason = match e.to_string() {
                // proc-macro2's lexer error says nothing about the cause.
                lex if lex == "cannot parse string into token stream" => {
                    "unbalanced delimiters or an invalid token".to_string()
                }
                other => other,
            };
            let message =
                format!("cannot parse this file as Rust, so it was not checked: {reason}");
            (
                parse_failure(&src, config, location.bytes, message)
                    .into_iter()
                    .collect(),
                Vec::new(),
                Vec::new(),
            )
        }
    };
    // Every span of this file has been turned into a location; free the
    // thread's source map so memory stays flat over large corpora.
    proc_macro2::extra::invalidate_current_thread_spans();

    findings.retain(|f| f.severity != Severity::Allow && !suppressed(&src, f));
    findings.sort_by_key(|f| (f.location.bytes.start, f.code));
    let lines = src.line_count();
    let bytes = src.text.len();
    FileReport {
        source: (!findings.is_empty()).then(|| Arc::new(src)),
        findings,
        observed,
        label_enums,
        lines,
        bytes,
    }
}

fn parse_failure(
    src: &SourceFile,
    config: &crate::config::Config,
    bytes: std::ops::Range<usize>,
    message: String,
) -> Option<Finding> {
    let code = Code::ParseFailure;
    let severity = config.severity_of(code, code.default_severity());
    let location = src.locate_bytes(bytes);
    Some(Finding {
        code,
        severity,
        message,
        label: "parsing stopped here".into(),
        file: src.display.clone(),
        anchor_line: location.line,
        location,
    })
}

/// A finding is suppressed by a `//` comment naming its code on the line
/// above it (or above the statement or item it is in), or at the end of
/// its own line. Several codes may share one comment.
fn suppressed(src: &SourceFile, finding: &Finding) -> bool {
    let code = finding.code.as_str();
    let names_code = |comment: &str| {
        comment.match_indices(code).any(|(i, _)| {
            let after = comment[i + code.len()..].chars().next();
            !after.is_some_and(|c| c.is_ascii_alphanumeric())
        })
    };
    let comment_block_above = |line: usize| {
        let mut l = line;
        while l > 1 {
            l -= 1;
            let text = src.line_text(l).trim_start();
            if !text.starts_with("//") {
                break;
            }
            if names_code(text) {
                return true;
            }
        }
        false
    };
    let trailing = src
        .line_text(finding.location.line)
        .find("//")
        .is_some_and(|i| names_code(&src.line_text(finding.location.line)[i..]));
    trailing
        || comment_block_above(finding.location.line)
        || comment_block_above(finding.anchor_line)
}
