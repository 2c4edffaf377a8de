//! OBS003 (a secret recorded in a log or span field) and OBS004 (a
//! secret-named parameter recorded by `#[tracing::instrument]`).

use observe_attr::names::is_secret_name;
use proc_macro2::{TokenStream, TokenTree};

use crate::finding::Code;
use crate::tokens;

use super::Context;

/// Which tracing macro, which decides the positional arguments before the
/// fields.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TracingMacro {
    /// `info!`, `warn!`...: fields, then a message.
    Event,
    /// `event!`: a level first.
    EventWithLevel,
    /// `info_span!`...: a name first.
    Span,
    /// `span!`: a level, then a name.
    SpanWithLevel,
}

/// The tracing macro `path` names, bare or as `tracing::...`.
pub fn tracing_macro(path: &syn::Path) -> Option<TracingMacro> {
    let name = path.segments.last()?.ident.to_string();
    if !observe_attr::item::path_is(path, &[&[&name], &["tracing", &name]]) {
        return None;
    }
    Some(match name.as_str() {
        "trace" | "debug" | "info" | "warn" | "error" => TracingMacro::Event,
        "event" => TracingMacro::EventWithLevel,
        "trace_span" | "debug_span" | "info_span" | "warn_span" | "error_span" => {
            TracingMacro::Span
        }
        "span" => TracingMacro::SpanWithLevel,
        _ => return None,
    })
}

fn report_field(cx: &mut Context<'_>, trees: &[TokenTree], message: String) {
    let Some(span) = tokens::span_of(trees) else {
        return;
    };
    let severity = cx.severity(Code::SecretInLog);
    cx.report(
        Code::SecretInLog,
        severity,
        span,
        message,
        "secret recorded here",
    );
}

/// Whether a field value cannot leak anything: a literal or
/// `tracing::field::Empty`.
fn harmless_value(trees: &[TokenTree]) -> bool {
    match trees {
        [TokenTree::Literal(_)] => true,
        _ => matches!(trees.last(), Some(TokenTree::Ident(i)) if i == "Empty"),
    }
}

/// Checks one `key = value`, `?key`, `%key.sub` or `"key" = value` field.
fn check_field(cx: &mut Context<'_>, entry: &[TokenTree]) {
    let (key_trees, value_trees): (&[TokenTree], &[TokenTree]) = match tokens::find_assign(entry) {
        Some(eq) => (&entry[..eq], &entry[eq + 1..]),
        None => (entry, entry),
    };
    let key = tokens::dotted_path(key_trees)
        .map(|(text, _)| text)
        .or_else(|| tokens::lit_str_tree(key_trees).map(|(s, _)| s));
    let Some(key) = key else { return };
    if is_secret_name(&key) && !harmless_value(value_trees) {
        report_field(
            cx,
            key_trees,
            format!(
                "log field `{key}` records a secret: its value ends up in every log and trace backend that receives the event"
            ),
        );
        return;
    }
    let shorthand = std::ptr::eq(key_trees, value_trees);
    if let Some((path, last)) = tokens::dotted_path(value_trees)
        && is_secret_name(&last)
        && !shorthand
    {
        report_field(
            cx,
            value_trees,
            format!("log field `{key}` records `{path}`, which holds a secret"),
        );
    }
}

/// `{password}` and `{token:?}` captured by a format string.
fn check_format_string(cx: &mut Context<'_>, literal: &[TokenTree], text: &str) {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if rest.starts_with('{') {
            rest = &rest[1..];
            continue;
        }
        let end = rest.find(['}', ':']).unwrap_or(rest.len());
        let name = rest[..end].trim();
        let is_ident = name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        if is_ident && is_secret_name(name) {
            report_field(
                cx,
                literal,
                format!("the log message captures `{name}`, which holds a secret"),
            );
        }
    }
}

/// A format argument after the message: `password = pw` or `token`.
fn check_format_arg(cx: &mut Context<'_>, entry: &[TokenTree]) {
    if let Some(eq) = tokens::find_assign(entry) {
        if let Some((name, _)) = tokens::dotted_path(&entry[..eq])
            && is_secret_name(&name)
            && !harmless_value(&entry[eq + 1..])
        {
            report_field(
                cx,
                &entry[..eq],
                format!("the log message formats `{name}`, which holds a secret"),
            );
            return;
        }
        return check_format_value(cx, &entry[eq + 1..]);
    }
    check_format_value(cx, entry);
}

fn check_format_value(cx: &mut Context<'_>, value: &[TokenTree]) {
    if let Some((path, last)) = tokens::dotted_path(value)
        && is_secret_name(&last)
    {
        report_field(
            cx,
            value,
            format!("the log message formats `{path}`, which holds a secret"),
        );
    }
}

/// `info!(target: "x", user = %u, ?password, "message {token}", args)`.
pub fn check_tracing_macro(cx: &mut Context<'_>, kind: TracingMacro, tokens: TokenStream) {
    let entries = tokens::split_commas(tokens);
    let mut need_level = matches!(
        kind,
        TracingMacro::EventWithLevel | TracingMacro::SpanWithLevel
    );
    let mut need_name = matches!(kind, TracingMacro::Span | TracingMacro::SpanWithLevel);
    let mut in_message = false;
    for entry in &entries {
        if !in_message && tokens::keyword_prefix(entry).is_some() {
            continue;
        }
        if need_level {
            need_level = false;
            continue;
        }
        if need_name {
            if tokens::lit_str_tree(entry).is_some() {
                need_name = false;
                continue;
            }
            need_name = false;
        }
        if in_message {
            check_format_arg(cx, entry);
            continue;
        }
        // A lone string literal ends the fields and starts the message;
        // what follows are its format arguments.
        if let Some((text, _)) = tokens::lit_str_tree(entry) {
            check_format_string(cx, entry, &text);
            in_message = true;
            continue;
        }
        check_field(cx, entry);
    }
}

/// Whether an attribute is `#[instrument]` or `#[tracing::instrument]`.
pub fn is_instrument(attr: &syn::Attribute) -> bool {
    observe_attr::item::path_is(attr.path(), &[&["instrument"], &["tracing", "instrument"]])
}

/// OBS004: a secret-named parameter that `#[instrument]` records, and
/// OBS003 for secret names in its `fields(...)`.
pub fn check_instrument(cx: &mut Context<'_>, attrs: &[syn::Attribute], sig: &syn::Signature) {
    let Some(attr) = attrs.iter().find(|a| is_instrument(a)) else {
        return;
    };
    let mut skipped: Vec<String> = Vec::new();
    let mut skip_all = false;
    if let syn::Meta::List(list) = &attr.meta {
        for entry in tokens::split_commas(list.tokens.clone()) {
            match entry.as_slice() {
                [TokenTree::Ident(i)] if i == "skip_all" => skip_all = true,
                [TokenTree::Ident(i), TokenTree::Group(g)] if i == "skip" => {
                    skipped.extend(g.stream().into_iter().filter_map(|t| match t {
                        TokenTree::Ident(i) => Some(i.to_string()),
                        _ => None,
                    }));
                }
                [TokenTree::Ident(i), TokenTree::Group(g)] if i == "fields" => {
                    for field in tokens::split_commas(g.stream()) {
                        check_field(cx, &field);
                    }
                }
                _ => {}
            }
        }
    }
    if skip_all {
        return;
    }
    for binding in observe_attr::item::bindings(sig) {
        let name = binding.ident.to_string();
        let name = name.trim_start_matches("r#");
        if binding.is_self || !is_secret_name(name) || skipped.iter().any(|s| s == name) {
            continue;
        }
        let span = binding.ident.span();
        let severity = cx.severity(Code::SecretParam);
        cx.report(
            Code::SecretParam,
            severity,
            (span, span),
            format!(
                "#[tracing::instrument] records the argument `{name}` with its Debug value, and its name marks it as a secret"
            ),
            format!("add `skip({name})`, or migrate to #[observe], which redacts it"),
        );
    }
}
