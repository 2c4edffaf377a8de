//! OBS001 (high-cardinality label key) and OBS002 (unbounded label value)
//! in the three metric APIs: the `metrics` macros, the `prometheus` crate's
//! `*Vec` label names and `with_label_values`, and OpenTelemetry
//! `KeyValue`s passed to an instrument's `add`/`record`.

use proc_macro2::{TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

use crate::finding::{Code, Severity};
use crate::tokens::{self, node_span};

use observe_attr::item::path_is;

use super::Context;

/// `counter!`, `gauge!`, `histogram!`, bare or as `metrics::...`.
pub fn is_metrics_macro(path: &syn::Path) -> bool {
    ["counter", "gauge", "histogram"]
        .iter()
        .any(|name| path_is(path, &[&[name], &["metrics", name]]))
}

/// `register_int_counter_vec!`, `register_histogram_vec_with_registry!`...
pub fn is_prometheus_vec_macro(path: &syn::Path) -> bool {
    let Some(name) = path.segments.last().map(|s| s.ident.to_string()) else {
        return false;
    };
    name.starts_with("register_")
        && name.contains("_vec")
        && path_is(path, &[&[&name], &["prometheus", &name]])
}

/// Why a label value may take unboundedly many values.
#[derive(Debug, PartialEq)]
pub enum Bound {
    /// A literal, a constant or an enum variant.
    Bounded,
    /// Provably open-ended; the text says what it is.
    Unbounded(&'static str),
    /// Cannot tell without types (a function call, a method on a value).
    Unknown,
}

/// Classifies a label value expression.
pub fn classify(expr: &Expr) -> Bound {
    match expr {
        Expr::Lit(_) => Bound::Bounded,
        Expr::Group(g) => classify(&g.expr),
        Expr::Paren(p) => classify(&p.expr),
        Expr::Reference(r) => classify(&r.expr),
        Expr::Macro(m) => {
            let name = m
                .mac
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            match name.as_str() {
                "format" | "format_args" => Bound::Unbounded("a `format!` string"),
                "concat" | "stringify" | "env" | "file" | "module_path" | "line" | "column" => {
                    Bound::Bounded
                }
                _ => Bound::Unknown,
            }
        }
        Expr::MethodCall(call) => {
            let method = call.method.to_string();
            match method.as_str() {
                "to_string" | "to_owned" | "to_lowercase" | "to_uppercase"
                | "to_ascii_lowercase" | "to_ascii_uppercase" | "into_owned" | "into_string" => {
                    match classify(&call.receiver) {
                        Bound::Bounded => Bound::Bounded,
                        _ => Bound::Unbounded("a `to_string()` of a runtime value"),
                    }
                }
                "clone" | "into" => classify(&call.receiver),
                _ => Bound::Unknown,
            }
        }
        Expr::Call(call) => {
            let path = match &*call.func {
                Expr::Path(p) => p
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect::<Vec<_>>()
                    .join("::"),
                _ => return Bound::Unknown,
            };
            if matches!(
                path.as_str(),
                "String::from" | "std::string::String::from" | "Cow::from" | "SharedString::from"
            ) {
                return match call.args.first().map(classify) {
                    Some(Bound::Bounded) => Bound::Bounded,
                    _ => Bound::Unbounded("a `String` built from a runtime value"),
                };
            }
            Bound::Unknown
        }
        Expr::Path(path) => {
            if path.qself.is_some() || path.path.segments.len() > 1 {
                return Bound::Bounded;
            }
            let ident = path.path.segments[0].ident.to_string();
            let ident = ident.trim_start_matches("r#");
            if ident
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                Bound::Bounded
            } else if ident.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
                // A unit struct or an imported enum variant.
                Bound::Bounded
            } else {
                Bound::Unbounded("a non-const variable")
            }
        }
        Expr::Field(_) => Bound::Unbounded("a field of a runtime value"),
        Expr::If(expr_if) => {
            let then = expr_if
                .then_branch
                .stmts
                .last()
                .and_then(stmt_expr)
                .map_or(Bound::Unknown, classify);
            let other = expr_if
                .else_branch
                .as_ref()
                .map_or(Bound::Unknown, |(_, e)| classify(e));
            join(then, other)
        }
        Expr::Block(block) => block
            .block
            .stmts
            .last()
            .and_then(stmt_expr)
            .map_or(Bound::Unknown, classify),
        Expr::Match(m) => m
            .arms
            .iter()
            .map(|arm| classify(&arm.body))
            .reduce(join)
            .unwrap_or(Bound::Unknown),
        _ => Bound::Unknown,
    }
}

fn stmt_expr(stmt: &syn::Stmt) -> Option<&Expr> {
    match stmt {
        syn::Stmt::Expr(e, None) => Some(e),
        _ => None,
    }
}

fn join(a: Bound, b: Bound) -> Bound {
    match (a, b) {
        (Bound::Unbounded(why), _) | (_, Bound::Unbounded(why)) => Bound::Unbounded(why),
        (Bound::Bounded, Bound::Bounded) => Bound::Bounded,
        _ => Bound::Unknown,
    }
}

/// Checks one `key => value` label. `key` may be absent (positional
/// values, as in `with_label_values`).
pub fn check_label(cx: &mut Context<'_>, api: &str, key: Option<&Expr>, value: Option<&Expr>) {
    let key_text = key.and_then(tokens::lit_str);
    let denied = key_text
        .as_ref()
        .is_some_and(|(k, _)| cx.config.is_denied_key(k));
    if let (Some((text, span)), true) = (&key_text, denied) {
        let severity = cx.severity(Code::HighCardinalityKey);
        cx.report(
            Code::HighCardinalityKey,
            severity,
            (*span, *span),
            format!(
                "metric label key `{text}` names a high-cardinality value: every distinct {text} creates new time series \
                 and can take the metrics store down"
            ),
            "high-cardinality label key",
        );
    }
    let Some(value) = value else { return };
    if let Bound::Unbounded(what) = classify(value) {
        let Some(span) = node_span(value) else { return };
        let configured = cx.severity(Code::UnboundedValue);
        let severity = if denied && configured != Severity::Allow {
            Severity::Error
        } else {
            configured
        };
        let message = match &key_text {
            Some((k, _)) => {
                format!("metric label `{k}` ({api}) takes {what}, which is not provably bounded")
            }
            None => format!("metric label value ({api}) is {what}, which is not provably bounded"),
        };
        cx.report(
            Code::UnboundedValue,
            severity,
            span,
            message,
            "unbounded label value",
        );
    }
}

/// `counter!(name, "k" => v, ...)`, `counter!(name, &labels)`, with
/// optional `target:` / `level:` first.
pub fn check_metrics_macro(cx: &mut Context<'_>, tokens: TokenStream) {
    let entries = tokens::split_commas(tokens);
    let mut rest = entries
        .iter()
        .skip_while(|e| tokens::keyword_prefix(e).is_some());
    let _name = rest.next();
    let rest: Vec<&Vec<TokenTree>> = rest.collect();
    if rest.len() == 1 && tokens::find_fat_arrow(rest[0]).is_none() {
        // A label collection: `&[("k", v)]`, `vec![...]`, `&labels`.
        if let Ok(expr) = syn::parse2::<Expr>(tokens::stream(rest[0])) {
            check_label_collection(cx, "metrics", &expr);
        }
        return;
    }
    for entry in rest {
        let Some(arrow) = tokens::find_fat_arrow(entry) else {
            continue;
        };
        let key = syn::parse2::<Expr>(tokens::stream(&entry[..arrow])).ok();
        let value = syn::parse2::<Expr>(tokens::stream(&entry[arrow + 2..])).ok();
        check_label(cx, "metrics", key.as_ref(), value.as_ref());
    }
}

/// The elements of `[a, b]`, `&[a, b]`, `vec![a, b]`.
fn elements(expr: &Expr) -> Option<Vec<Expr>> {
    match expr {
        Expr::Array(array) => Some(array.elems.iter().cloned().collect()),
        Expr::Reference(r) => elements(&r.expr),
        Expr::Paren(p) => elements(&p.expr),
        Expr::Group(g) => elements(&g.expr),
        Expr::Macro(m) if m.mac.path.is_ident("vec") => {
            let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
            syn::parse::Parser::parse2(parser, m.mac.tokens.clone())
                .ok()
                .map(|p| p.into_iter().collect())
        }
        _ => None,
    }
}

/// `&[("k", v), ...]` or `[Label::new("k", v), ...]`.
fn check_label_collection(cx: &mut Context<'_>, api: &str, expr: &Expr) {
    for element in elements(expr).unwrap_or_default() {
        match &element {
            Expr::Tuple(tuple) if tuple.elems.len() == 2 => {
                check_label(cx, api, tuple.elems.first(), tuple.elems.last());
            }
            Expr::Call(call)
                if call.args.len() == 2
                    && expr_path_is(
                        &call.func,
                        &[&["Label", "new"], &["metrics", "Label", "new"]],
                    ) =>
            {
                check_label(cx, api, call.args.first(), call.args.last());
            }
            _ => {}
        }
    }
}

/// Whether `expr` is a path that is one of `candidates`.
fn expr_path_is(expr: &Expr, candidates: &[&[&str]]) -> bool {
    matches!(expr, Expr::Path(p) if p.qself.is_none() && path_is(&p.path, candidates))
}

/// Label names given as string literals in an array argument.
fn check_label_names(cx: &mut Context<'_>, args: &[Expr]) {
    for arg in args {
        for element in elements(arg).unwrap_or_default() {
            if tokens::lit_str(&element).is_some() {
                check_label(cx, "prometheus", Some(&element), None);
            }
        }
    }
}

/// `register_int_counter_vec!(name, help, &["a", "b"])` and friends.
pub fn check_prometheus_macro(cx: &mut Context<'_>, tokens: TokenStream) {
    let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
    if let Ok(args) = syn::parse::Parser::parse2(parser, tokens) {
        let args: Vec<Expr> = args.into_iter().collect();
        check_label_names(cx, &args);
    }
}

/// `CounterVec::new(opts, &["a"])`, `IntGaugeVec::new(...)`...
pub fn check_call(cx: &mut Context<'_>, call: &syn::ExprCall) {
    let Expr::Path(path) = &*call.func else {
        return;
    };
    let segments = &path.path.segments;
    if segments.len() < 2 || segments[segments.len() - 1].ident != "new" {
        return;
    }
    let ty = segments[segments.len() - 2].ident.to_string();
    if ty.ends_with("Vec") && ty != "Vec" {
        let args: Vec<Expr> = call.args.iter().cloned().collect();
        check_label_names(cx, &args);
    }
}

/// `.with_label_values(&[...])`, `.variable_labels(...)`, and an
/// instrument's `.add(v, &[KeyValue::new(k, v)])` / `.record(...)`.
pub fn check_method_call(cx: &mut Context<'_>, call: &syn::ExprMethodCall) {
    match call.method.to_string().as_str() {
        "with_label_values" => {
            for arg in &call.args {
                for element in elements(arg).unwrap_or_default() {
                    check_label(cx, "prometheus with_label_values", None, Some(&element));
                }
            }
        }
        "variable_labels" => {
            let args: Vec<Expr> = call.args.iter().cloned().collect();
            check_label_names(cx, &args);
        }
        "add" | "record" if call.args.len() == 2 => {
            let attributes = &call.args[1];
            for element in elements(attributes).unwrap_or_default() {
                if let Expr::Call(kv) = &element
                    && kv.args.len() == 2
                    && expr_path_is(
                        &kv.func,
                        &[&["KeyValue", "new"], &["opentelemetry", "KeyValue", "new"]],
                    )
                {
                    check_label(cx, "opentelemetry", kv.args.first(), kv.args.last());
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(src: &str) -> Bound {
        classify(&syn::parse_str::<Expr>(src).unwrap())
    }

    #[test]
    fn bounded_values() {
        for src in [
            "\"eu\"",
            "REGION",
            "Tier::Gold",
            "labels::REGION",
            "&\"x\"",
            "\"x\".to_string()",
            "if ok { \"ok\" } else { \"error\" }",
            "match s { 200 => \"ok\", _ => \"error\" }",
            "concat!(\"a\", \"b\")",
            "String::from(\"x\")",
        ] {
            assert_eq!(bound(src), Bound::Bounded, "{src}");
        }
    }

    #[test]
    fn unbounded_values() {
        for src in [
            "format!(\"{id}\")",
            "id.to_string()",
            "user_id",
            "&path",
            "req.path",
            "name.clone()",
            "String::from(name)",
            "if ok { \"ok\" } else { &msg }",
        ] {
            assert!(matches!(bound(src), Bound::Unbounded(_)), "{src}");
        }
    }

    #[test]
    fn values_whose_type_decides_are_not_reported() {
        for src in ["tier.as_str()", "method.label()", "status_class(code)"] {
            assert_eq!(bound(src), Bound::Unknown, "{src}");
        }
    }
}
