//! `cargo observe migrate`: rewrites `#[tracing::instrument(...)]` /
//! `#[instrument(...)]` and `#[autometrics(...)]` into
//! `#[observe::observe(...)]`, replacing only the attribute's bytes.
//!
//! Every option without an equivalent is reported with its position. A
//! rewritten attribute is validated by observe-attr (the macro's own
//! checks) against the function's signature before it is written; one that
//! would not compile is left as it was and reported.

use observe_attr::item::{is_observe_attr, path_is};
use observe_attr::schema;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;
use syn::{Attribute, Expr, Meta};

use crate::checks::secrets::is_instrument;
use crate::error::Error;
use crate::source::SourceFile;
use crate::{frontend, output, tokens, workspace};

/// `cargo observe migrate [PATHS] [--dry-run]`.
#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// Files or directories to rewrite (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Print a unified diff instead of writing the files.
    #[arg(long)]
    pub dry_run: bool,
}

/// What a note says about an option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKind {
    /// The option has no `#[observe]` equivalent and was left out.
    Unmapped,
    /// `#[observe]` already does what the option asked for.
    Covered,
    /// The attribute was left unchanged.
    Skipped,
}

impl fmt::Display for NoteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoteKind::Unmapped => "unmapped",
            NoteKind::Covered => "covered",
            NoteKind::Skipped => "skipped",
        })
    }
}

#[derive(Clone, Debug)]
/// One option reported, at its position.
pub struct Note {
    /// The file, as displayed.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Unmapped, covered or skipped.
    pub kind: NoteKind,
    /// What happened to the option, and why.
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.kind, self.message
        )
    }
}

/// The result for one file.
pub struct Migration {
    /// The file's text after the rewrite.
    pub new_text: String,
    /// Attributes rewritten.
    pub rewritten: usize,
    /// Every option not carried over, by position.
    pub notes: Vec<Note>,
}

/// An autometrics `Objective` constant: name, success rate, latency.
#[derive(Clone, Debug, Default)]
struct Objective {
    name: Option<String>,
    availability: Option<f64>,
    latency_ms: Option<f64>,
    percentile: Option<f64>,
}

/// Where an attribute to rewrite sits.
/// One item with one or more attributes to rewrite (`#[autometrics]` and
/// `#[instrument]` together become one `#[observe]`).
struct Site {
    attrs: Vec<(Attribute, Tool)>,
    /// The function's signature; `None` for an `impl` block.
    sig: Option<syn::Signature>,
    /// Some other attribute already is `#[observe]`.
    already_observed: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    Instrument,
    Autometrics,
}

fn tool_of(attr: &Attribute) -> Option<Tool> {
    if is_instrument(attr) {
        Some(Tool::Instrument)
    } else if path_is(
        attr.path(),
        &[&["autometrics"], &["autometrics", "autometrics"]],
    ) {
        Some(Tool::Autometrics)
    } else {
        None
    }
}

#[derive(Default)]
struct Collector {
    sites: Vec<Site>,
    objectives: HashMap<String, Objective>,
}

impl Collector {
    fn collect(&mut self, attrs: &[Attribute], sig: Option<&syn::Signature>) {
        let already_observed = attrs.iter().any(is_observe_attr);
        let found: Vec<(Attribute, Tool)> = attrs
            .iter()
            .filter(|a| matches!(a.style, syn::AttrStyle::Outer))
            .filter_map(|a| tool_of(a).map(|tool| (a.clone(), tool)))
            .collect();
        if !found.is_empty() {
            self.sites.push(Site {
                attrs: found,
                sig: sig.cloned(),
                already_observed,
            });
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.collect(&item.attrs, Some(&item.sig));
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.collect(&item.attrs, Some(&item.sig));
        syn::visit::visit_impl_item_fn(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if item.default.is_some() {
            self.collect(&item.attrs, Some(&item.sig));
        }
        syn::visit::visit_trait_item_fn(self, item);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let autometrics: Vec<Attribute> = item
            .attrs
            .iter()
            .filter(|a| tool_of(a) == Some(Tool::Autometrics))
            .cloned()
            .collect();
        self.collect(&autometrics, None);
        syn::visit::visit_item_impl(self, item);
    }

    fn visit_item_const(&mut self, item: &'ast syn::ItemConst) {
        if let Some(objective) = read_objective(&item.expr) {
            self.objectives.insert(item.ident.to_string(), objective);
        }
        syn::visit::visit_item_const(self, item);
    }
}

/// `Objective::new("api").success_rate(ObjectivePercentile::P99_9)
///     .latency(ObjectiveLatency::Ms250, ObjectivePercentile::P99)`.
fn read_objective(expr: &Expr) -> Option<Objective> {
    match expr {
        Expr::Call(call) => {
            let Expr::Path(path) = &*call.func else {
                return None;
            };
            let constructor: &[&[&str]] = &[
                &["Objective", "new"],
                &["objectives", "Objective", "new"],
                &["autometrics", "objectives", "Objective", "new"],
            ];
            if !path_is(&path.path, constructor) {
                return None;
            }
            Some(Objective {
                name: call.args.first().and_then(tokens::lit_str).map(|(s, _)| s),
                ..Objective::default()
            })
        }
        Expr::MethodCall(call) => {
            let mut objective = read_objective(&call.receiver)?;
            let args: Vec<String> = call.args.iter().map(last_segment).collect();
            match (call.method.to_string().as_str(), args.as_slice()) {
                ("success_rate", [p]) => objective.availability = percentile(p),
                ("latency", [l, p]) => {
                    objective.latency_ms = l.strip_prefix("Ms").and_then(|n| n.parse().ok());
                    objective.percentile = percentile(p);
                }
                _ => return None,
            }
            Some(objective)
        }
        Expr::Paren(p) => read_objective(&p.expr),
        _ => None,
    }
}

fn last_segment(expr: &Expr) -> String {
    match expr {
        Expr::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// `P99_9` -> 99.9.
fn percentile(name: &str) -> Option<f64> {
    name.strip_prefix('P')?.replacen('_', ".", 1).parse().ok()
}

struct Rewriter<'a> {
    src: &'a SourceFile,
    notes: Vec<Note>,
}

impl Rewriter<'_> {
    fn note(&mut self, trees: &[TokenTree], fallback: &Attribute, kind: NoteKind, message: String) {
        let location = match tokens::span_of(trees) {
            Some((a, b)) => self.src.locate_between(a, b),
            None => self.src.locate(fallback.pound_token.span),
        };
        self.notes.push(Note {
            file: self.src.display.clone(),
            line: location.line,
            column: location.column,
            kind,
            message,
        });
    }

    /// The original text of some tokens of this file.
    fn text(&self, trees: &[TokenTree]) -> String {
        match tokens::span_of(trees) {
            Some((a, b)) => {
                let location = self.src.locate_between(a, b);
                self.src.text[location.bytes].to_string()
            }
            None => String::new(),
        }
    }

    fn instrument(&mut self, attr: &Attribute) -> Vec<String> {
        let mut out = Vec::new();
        let Meta::List(list) = &attr.meta else {
            return out;
        };
        for entry in tokens::split_commas(list.tokens.clone()) {
            let key = match entry.first() {
                Some(TokenTree::Ident(ident)) => ident.to_string(),
                // `#[instrument("name")]`: tracing's positional span name.
                Some(TokenTree::Literal(_))
                    if entry.len() == 1 && tokens::lit_str_tree(&entry).is_some() =>
                {
                    out.push(format!("name = {}", self.text(&entry)));
                    continue;
                }
                _ => {
                    let text = self.text(&entry);
                    self.note(
                        &entry,
                        attr,
                        NoteKind::Unmapped,
                        format!("`{text}` has no #[observe] equivalent; left out"),
                    );
                    continue;
                }
            };
            let rest = &entry[1..];
            let value = match rest {
                [TokenTree::Punct(p), value @ ..] if p.as_char() == '=' => Some(value),
                _ => None,
            };
            match (key.as_str(), rest, value) {
                ("name", _, Some(value)) if tokens::lit_str_tree(value).is_some() => {
                    out.push(format!("name = {}", self.text(value)));
                }
                ("level", _, Some(value)) => match level(value) {
                    Some(level) => out.push(format!("level = \"{level}\"")),
                    None => {
                        let text = self.text(&entry);
                        self.note(&entry, attr, NoteKind::Unmapped, format!("`{text}`: only the five tracing levels map to #[observe]'s `level`; left out"));
                    }
                },
                ("skip_all", [], None) => out.push("skip_all".into()),
                ("skip", [TokenTree::Group(_)], None) => out.push(self.text(&entry)),
                ("fields", [TokenTree::Group(group)], None) => {
                    let mut kept = Vec::new();
                    for field in tokens::split_commas(group.stream()) {
                        if let Some(text) = self.field(attr, &field) {
                            kept.push(text);
                        }
                    }
                    if !kept.is_empty() {
                        out.push(format!("fields({})", kept.join(", ")));
                    }
                }
                ("ret", [], None) => out.push("ret".into()),
                ("ret", [TokenTree::Group(_)], None) => {
                    out.push("ret".into());
                    let text = self.text(&entry);
                    self.note(&entry, attr, NoteKind::Covered, format!("`{text}`: #[observe] records the return value with Debug, on the completion event; its formatting and level options are not kept"));
                }
                ("err", _, None) => {
                    let text = self.text(&entry);
                    self.note(&entry, attr, NoteKind::Covered, format!("`{text}`: #[observe] always records errors (outcome = error, error.message at ERROR level); nothing to add"));
                }
                _ => {
                    let text = self.text(&entry);
                    let why = match key.as_str() {
                        "target" => "#[observe] logs under the function's module path",
                        "parent" | "follows_from" => "#[observe] spans follow the current span",
                        _ => "no #[observe] equivalent",
                    };
                    self.note(
                        &entry,
                        attr,
                        NoteKind::Unmapped,
                        format!("`{text}`: {why}; left out"),
                    );
                }
            }
        }
        out
    }

    /// One `fields(...)` entry, or `None` when it cannot be kept.
    fn field(&mut self, attr: &Attribute, field: &[TokenTree]) -> Option<String> {
        let text = self.text(field);
        // `%name` / `?name`: tracing records the variable of that name.
        if let [TokenTree::Punct(sigil), rest @ ..] = field
            && matches!(sigil.as_char(), '%' | '?')
            && tokens::find_assign(field).is_none()
            && let Some((name, _)) = tokens::dotted_path(rest)
        {
            return Some(format!("{name} = {}{name}", sigil.as_char()));
        }
        let Some(eq) = tokens::find_assign(field) else {
            self.note(field, attr, NoteKind::Unmapped, format!("`fields({text})` declares an empty field to record later; #[observe] fields need a value; left out"));
            return None;
        };
        let key = tokens::dotted_path(&field[..eq])
            .map(|(k, _)| k)
            .or_else(|| tokens::lit_str_tree(&field[..eq]).map(|(k, _)| k));
        let Some(key) = key else {
            // `{CONST_NAME} = value`: a name computed at compile time.
            self.note(field, attr, NoteKind::Unmapped, format!("`fields({text})`: the field name is not a literal name; #[observe] field names are written out; left out"));
            return None;
        };
        let head = key.split('.').next().unwrap_or_default();
        // A name observe sets, or one in a namespace observe writes into
        // (`code.*`, `otel.*`, `error.*`).
        let dotted_namespace = schema::SPAN_FIELDS
            .iter()
            .chain(&schema::EVENT_FIELDS)
            .any(|own| own.split_once('.').is_some_and(|(ns, _)| ns == head));
        if schema::OWN_FIELDS.contains(&key.as_str()) || dotted_namespace {
            self.note(
                field,
                attr,
                NoteKind::Unmapped,
                format!("`fields({text})`: #[observe] sets `{key}` itself; left out"),
            );
            return None;
        }
        if matches!(field.last(), Some(TokenTree::Ident(i)) if i == "Empty") {
            self.note(
                field,
                attr,
                NoteKind::Unmapped,
                format!("`fields({text})` declares an empty field to record later; left out"),
            );
            return None;
        }
        Some(text)
    }

    fn autometrics(
        &mut self,
        attr: &Attribute,
        objectives: &HashMap<String, Objective>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let Meta::List(list) = &attr.meta else {
            return out;
        };
        for entry in tokens::split_commas(list.tokens.clone()) {
            let text = self.text(&entry);
            let key = match entry.first() {
                Some(TokenTree::Ident(ident)) => ident.to_string(),
                _ => String::new(),
            };
            let value = match &entry[1.min(entry.len())..] {
                [TokenTree::Punct(p), value @ ..] if p.as_char() == '=' => Some(value),
                _ => None,
            };
            match (key.as_str(), value) {
                ("objective", Some(value)) => {
                    let name = match value.last() {
                        Some(TokenTree::Ident(ident)) => ident.to_string(),
                        _ => String::new(),
                    };
                    let Some(objective) = objectives.get(&name) else {
                        self.note(&entry, attr, NoteKind::Unmapped, format!("`{text}`: the objective `{name}` is not a `const` of this file built with Objective::new(...); write `slo(...)` by hand"));
                        continue;
                    };
                    if let Some(flow) = &objective.name {
                        out.push(format!("flow = \"{}\"", flow_name(flow)));
                    }
                    let mut slo = Vec::new();
                    if let Some(a) = objective.availability {
                        slo.push(format!("availability = {}", float(a)));
                    }
                    if let (Some(ms), Some(p)) = (objective.latency_ms, objective.percentile) {
                        slo.push(format!("latency = \"{}\"", crate::num::fmt_ms(ms)));
                        slo.push(format!("percentile = {}", float(p)));
                    }
                    if !slo.is_empty() {
                        out.push(format!("slo({})", slo.join(", ")));
                    }
                }
                ("track_concurrency", None) => {
                    self.note(
                        &entry,
                        attr,
                        NoteKind::Covered,
                        format!(
                            "`track_concurrency`: #[observe] always keeps the in-flight gauge ({})",
                            schema::CALLS_IN_FLIGHT.name
                        ),
                    );
                }
                _ => {
                    let why = match key.as_str() {
                        "ok_if" | "error_if" => {
                            "#[observe] classifies outcomes by the returned Result (Err = error)"
                        }
                        "struct_name" => {
                            "#[observe] names methods `Type::method` from the impl block"
                        }
                        _ => "no #[observe] equivalent",
                    };
                    self.note(
                        &entry,
                        attr,
                        NoteKind::Unmapped,
                        format!("`{text}`: {why}; left out"),
                    );
                }
            }
        }
        out
    }
}

/// A percentage as a float literal (`99.0`, `99.9`).
fn float(value: f64) -> String {
    let text = crate::num::fmt(value);
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

/// An autometrics objective name as a valid flow name.
fn flow_name(name: &str) -> String {
    let flow = observe_attr::names::sanitize_flow(name);
    if flow.is_empty() {
        "default".into()
    } else {
        flow
    }
}

/// `"debug"`, `Level::DEBUG`, `tracing::Level::DEBUG`, `2`.
fn level(value: &[TokenTree]) -> Option<&'static str> {
    let name = match tokens::lit_str_tree(value) {
        Some((text, _)) => text.to_ascii_lowercase(),
        None => match value.last() {
            Some(TokenTree::Ident(ident)) => ident.to_string().to_ascii_lowercase(),
            Some(TokenTree::Literal(lit)) => match lit.to_string().as_str() {
                "1" => "trace".into(),
                "2" => "debug".into(),
                "3" => "info".into(),
                "4" => "warn".into(),
                "5" => "error".into(),
                _ => return None,
            },
            _ => return None,
        },
    };
    observe_attr::model::Level::from_name(&name).map(|l| l.as_str())
}

/// Rewrites one file's text. `Err` when the file does not parse.
pub fn migrate_source(display: &str, text: &str) -> Result<Migration, String> {
    let depth = frontend::max_nesting(text);
    if depth > frontend::MAX_NESTING {
        return Err(format!("delimiters nest {depth} deep; not parsed"));
    }
    let mut src = SourceFile::new(display.to_string(), text.to_string());
    let file = src.parse().map_err(|e| format!("cannot parse: {e}"))?;
    let mut collector = Collector::default();
    collector.visit_file(&file);
    let mut rewriter = Rewriter {
        src: &src,
        notes: Vec::new(),
    };
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for site in &collector.sites {
        let attr = &site.attrs[0].0;
        let range = src
            .locate_between(attr.pound_token.span, attr.bracket_token.span.close())
            .bytes;
        if site.already_observed {
            rewriter.note(
                &[],
                attr,
                NoteKind::Skipped,
                "the item already has #[observe]; remove this attribute by hand".into(),
            );
            continue;
        }
        let mut args = Vec::new();
        for (attr, tool) in &site.attrs {
            args.extend(match tool {
                Tool::Instrument => rewriter.instrument(attr),
                Tool::Autometrics => rewriter.autometrics(attr, &collector.objectives),
            });
        }
        let args_text = args.join(", ");
        let replacement = if args_text.is_empty() {
            "#[observe::observe]".to_string()
        } else {
            format!("#[observe::observe({args_text})]")
        };
        if let Err(message) = validate(&args_text, site.sig.as_ref()) {
            rewriter.note(
                &[],
                attr,
                NoteKind::Skipped,
                format!("left unchanged: the rewritten attribute `{replacement}` would not compile: {message}"),
            );
            continue;
        }
        edits.push((range, replacement));
        // The other attributes merged into this one go, with their line
        // when they stand alone on it.
        for (other, _) in &site.attrs[1..] {
            let bytes = src
                .locate_between(other.pound_token.span, other.bracket_token.span.close())
                .bytes;
            edits.push((whole_line_if_alone(text, bytes), String::new()));
        }
    }
    let mut notes = rewriter.notes;
    drop(file);
    proc_macro2::extra::invalidate_current_thread_spans();
    let rewritten = edits
        .iter()
        .filter(|(_, replacement)| !replacement.is_empty())
        .count();
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut new_text = text.to_string();
    for (range, replacement) in edits {
        new_text.replace_range(range, &replacement);
    }
    notes.sort_by_key(|n| (n.line, n.column));
    Ok(Migration {
        new_text,
        rewritten,
        notes,
    })
}

/// `range` widened to its whole line (with the newline) when nothing but
/// whitespace shares the line.
fn whole_line_if_alone(text: &str, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[range.end..]
        .find('\n')
        .map_or(text.len(), |i| range.end + i + 1);
    let before = &text[line_start..range.start];
    let after = &text[range.end..line_end];
    if before.trim().is_empty() && after.trim().is_empty() {
        line_start..line_end
    } else {
        range
    }
}

/// Runs observe-attr on the new arguments, as the macro will.
fn validate(args: &str, sig: Option<&syn::Signature>) -> Result<(), String> {
    let tokens: TokenStream = args.parse().map_err(|e| format!("{e}"))?;
    let result = match sig {
        Some(sig) => {
            observe_attr::analyze(tokens, sig, &observe_attr::Context::default()).map(|_| ())
        }
        None => observe_attr::args::parse(tokens).map(|_| ()),
    };
    result.map_err(|e| {
        e.into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// A unified diff of one file.
pub fn diff(display: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{}", display.trim_start_matches('/')),
            &format!("b/{}", display.trim_start_matches('/')),
        )
        .to_string()
}

/// Runs `cargo observe migrate`.
pub fn run(args: MigrateArgs) -> Result<ExitCode, Error> {
    // The parser recurses once per nesting level: give it the same large
    // stack the lint workers have.
    std::thread::Builder::new()
        .name("cargo-observe-migrate".into())
        .stack_size(frontend::WORKER_STACK)
        .spawn(move || migrate_all(args))
        .map_err(|e| Error(format!("cannot start the migration thread: {e}")))?
        .join()
        .unwrap_or_else(|_| Err(Error("the migration thread panicked".into())))
}

fn migrate_all(args: MigrateArgs) -> Result<ExitCode, Error> {
    let files = workspace::discover(&args.paths)?;
    let mut changed_files = 0;
    let mut rewritten = 0;
    let mut unmapped = 0;
    let mut diffs = String::new();
    for entry in &files {
        let text = match std::fs::read_to_string(&entry.path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("{}: skipped: cannot read: {e}", entry.display);
                continue;
            }
        };
        // A cheap filter: most files mention neither attribute.
        if !text.contains("instrument") && !text.contains("autometrics") {
            continue;
        }
        let migration = match migrate_source(&entry.display, &text) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("{}: skipped: {e}", entry.display);
                continue;
            }
        };
        for note in &migration.notes {
            eprintln!("{note}");
            if note.kind == NoteKind::Unmapped {
                unmapped += 1;
            }
        }
        if migration.new_text == text {
            continue;
        }
        changed_files += 1;
        rewritten += migration.rewritten;
        if args.dry_run {
            diffs.push_str(&diff(&entry.display, &text, &migration.new_text));
        } else {
            write(&entry.path, &migration.new_text)?;
        }
    }
    output::print(&diffs)?;
    eprintln!(
        "{} {rewritten} attribute{} in {changed_files} file{}; {unmapped} option{} without an #[observe] equivalent reported above{}",
        if args.dry_run {
            "would rewrite"
        } else {
            "rewrote"
        },
        if rewritten == 1 { "" } else { "s" },
        if changed_files == 1 { "" } else { "s" },
        if unmapped == 1 { "" } else { "s" },
        if rewritten > 0 {
            "; the crate needs `observe` in [dependencies]"
        } else {
            ""
        },
    );
    Ok(ExitCode::SUCCESS)
}

fn write(path: &PathBuf, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|e| Error(format!("{}: {e}", path.display())))
}
