//! Stage 1: tokens of `#[observe(...)]` into set-once slots.
//!
//! Each option is checked on its own here (literal type, syntax, duplicates);
//! rules that involve several options or the signature live in `check`.
//! Parsing never stops at the first mistake: each option is cut at its
//! top-level comma and read separately, so every bad option is reported.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, Lit, LitStr, Token};

use crate::ctxt::Ctxt;
use crate::model::Level;
use crate::symbol::*;
use crate::{duration, suggest};

/// A parsed option value with the name token it was given under.
#[derive(Clone, Debug)]
pub struct Set<T> {
    /// The option's name as written (errors point at it).
    pub key: Ident,
    /// The parsed value.
    pub value: T,
}

/// A literal that was checked and converted, with its original token.
#[derive(Clone, Debug)]
pub struct Checked<L, T> {
    /// The literal as written.
    pub lit: L,
    /// Its checked value.
    pub value: T,
}

/// One `key = value` of `labels(...)`.
#[derive(Clone, Debug)]
pub struct LabelArg {
    /// The key as written; an identifier or a string literal.
    pub key: String,
    /// Where the key is.
    pub key_span: Span,
    /// The key's tokens, for errors spanning all of it.
    pub key_tokens: TokenStream,
    /// The label's value.
    pub value: Expr,
}

/// How a `fields(...)` value is recorded, following tracing's sigils.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldSigil {
    /// `key = expr`: the value as a `tracing::Value`.
    Value,
    /// `key = %expr`: through `Display`.
    Display,
    /// `key = ?expr`: through `Debug`.
    Debug,
}

/// One `dotted.key = [%|?]expr` of `fields(...)`.
#[derive(Clone, Debug)]
pub struct FieldArg {
    /// The key, dots included, `r#` removed.
    pub key: String,
    /// The key's tokens, for errors.
    pub key_tokens: TokenStream,
    /// How the value is recorded.
    pub sigil: FieldSigil,
    /// The value.
    pub value: Expr,
}

/// `slo(...)`.
#[derive(Clone, Debug, Default)]
pub struct SloArg {
    /// `availability = 99.9`: percent of calls that succeed.
    pub availability: Option<Checked<Lit, f64>>,
    /// `latency = "300ms"`, in microseconds.
    pub latency: Option<Checked<LitStr, u64>>,
    /// `percentile = 99.0`: percent of calls under the latency.
    pub percentile: Option<Checked<Lit, f64>>,
}

/// Every option of one `#[observe(...)]`, each set at most once.
#[derive(Clone, Debug, Default)]
pub struct Args {
    /// `flow = "..."`.
    pub flow: Option<Set<LitStr>>,
    /// `name = "..."`.
    pub name: Option<Set<LitStr>>,
    /// `level = "..."`.
    pub level: Option<Set<Checked<LitStr, Level>>>,
    /// `labels(...)`.
    pub labels: Option<Set<Vec<LabelArg>>>,
    /// `fields(...)`.
    pub fields: Option<Set<Vec<FieldArg>>>,
    /// `skip(...)`.
    pub skip: Option<Set<Vec<Ident>>>,
    /// Bare `skip`: opts a method out of an annotated `impl` block.
    pub opt_out: Option<Set<()>>,
    /// `skip_all`.
    pub skip_all: Option<Set<()>>,
    /// `redact(...)`.
    pub redact: Option<Set<Vec<Ident>>>,
    /// `hash(...)`.
    pub hash: Option<Set<Vec<Ident>>>,
    /// `ret`.
    pub ret: Option<Set<()>>,
    /// `slow = "..."`, in microseconds.
    pub slow: Option<Set<Checked<LitStr, u64>>>,
    /// `sample = 0.1`.
    pub sample: Option<Set<Checked<Lit, f64>>>,
    /// `slo(...)`.
    pub slo: Option<Set<SloArg>>,
    /// `max_series = N`.
    pub max_series: Option<Set<Checked<Lit, u64>>>,
}

impl Args {
    /// These arguments with every option they leave unset taken from `base`
    /// (a method's own attribute over its `impl` block's).
    pub fn over(&self, base: &Args) -> Args {
        macro_rules! pick {
            ($($field:ident),*) => {
                Args { $($field: self.$field.clone().or_else(|| base.$field.clone()),)* opt_out: self.opt_out.clone() }
            };
        }
        pick!(
            flow, name, level, labels, fields, skip, skip_all, redact, hash, ret, slow, sample,
            slo, max_series
        )
    }
}

/// Parses the tokens inside `#[observe(...)]`. All errors are reported together.
pub fn parse(tokens: TokenStream) -> syn::Result<Args> {
    let cx = Ctxt::new();
    let args = parse_with(&cx, tokens);
    cx.check()?;
    Ok(args)
}

/// Parses into `cx`, returning whatever options were understood.
pub fn parse_with(cx: &Ctxt, tokens: TokenStream) -> Args {
    let mut args = Args::default();
    for entry in split_top_level(tokens) {
        parse_entry(cx, &mut args, entry);
    }
    args
}

/// Splits a token stream at its top-level commas.
fn split_top_level(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut entries = vec![Vec::new()];
    for tree in tokens {
        match &tree {
            TokenTree::Punct(p) if p.as_char() == ',' => entries.push(Vec::new()),
            _ => entries.last_mut().expect("never empty").push(tree),
        }
    }
    entries.retain(|entry| !entry.is_empty());
    entries
}

/// What follows an option's name.
enum Rest {
    /// Nothing: a flag such as `ret`.
    Flag,
    /// `= tokens`.
    Assign(TokenStream),
    /// `( tokens )`.
    List(TokenStream),
}

fn parse_entry(cx: &Ctxt, args: &mut Args, entry: Vec<TokenTree>) {
    let mut trees = entry.into_iter();
    let first = trees.next().expect("entries are non-empty");
    let key = match first {
        TokenTree::Ident(ident) => ident,
        other => {
            cx.error_spanned_by(
                &other,
                format!(
                    "expected an option name such as `flow = \"checkout\"`, found `{other}`; the options are: {}",
                    OPTIONS.join(", ")
                ),
            );
            return;
        }
    };
    let rest: Vec<TokenTree> = trees.collect();
    let rest = match rest.first() {
        None => Rest::Flag,
        Some(TokenTree::Punct(p)) if p.as_char() == '=' => {
            if rest.len() == 1 {
                cx.error_spanned_by(&rest[0], format!("`{key} =` needs a value after the `=`"));
                return;
            }
            Rest::Assign(rest[1..].iter().cloned().collect())
        }
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis && rest.len() == 1 => {
            Rest::List(g.stream())
        }
        Some(other) => {
            cx.error_spanned_by(
                other,
                format!("unexpected `{other}` after `{key}`; separate options with commas"),
            );
            return;
        }
    };
    let name = key.to_string();
    match name.as_str() {
        FLOW => set(
            cx,
            &mut args.flow,
            &key,
            expect_str(cx, &key, rest, "flow = \"checkout\""),
        ),
        NAME => set(
            cx,
            &mut args.name,
            &key,
            expect_str(cx, &key, rest, "name = \"Cart::checkout\""),
        ),
        LEVEL => {
            let value =
                expect_str(cx, &key, rest, "level = \"info\"").and_then(|lit| parse_level(cx, lit));
            set(cx, &mut args.level, &key, value)
        }
        SLOW => {
            let value = expect_str(cx, &key, rest, "slow = \"250ms\"")
                .and_then(|lit| parse_duration(cx, lit));
            set(cx, &mut args.slow, &key, value)
        }
        SAMPLE => {
            let value = expect_number(cx, &key, rest, "sample = 0.1").and_then(|(lit, v)| {
                if (0.0..=1.0).contains(&v) {
                    Some(Checked { lit, value: v })
                } else {
                    cx.error_spanned_by(&lit, format!("`sample = {v}` is out of range: the fraction of successful calls logged is between 0.0 and 1.0, e.g. sample = 0.1"));
                    None
                }
            });
            set(cx, &mut args.sample, &key, value)
        }
        MAX_SERIES => {
            let value = expect_number(cx, &key, rest, "max_series = 512").and_then(|(lit, v)| {
                let is_int = matches!(lit, Lit::Int(_));
                if !is_int || !(4.0..=1_000_000.0).contains(&v) {
                    cx.error_spanned_by(&lit, "`max_series` is a whole number of series between 4 (one per outcome) and 1000000, e.g. max_series = 512");
                    None
                } else {
                    Some(Checked { lit, value: v as u64 })
                }
            });
            set(cx, &mut args.max_series, &key, value)
        }
        RET => set(
            cx,
            &mut args.ret,
            &key,
            expect_flag(cx, &key, rest).then_some(()),
        ),
        SKIP_ALL => set(
            cx,
            &mut args.skip_all,
            &key,
            expect_flag(cx, &key, rest).then_some(()),
        ),
        SKIP => match rest {
            Rest::Flag => set(cx, &mut args.opt_out, &key, Some(())),
            other => set(cx, &mut args.skip, &key, expect_idents(cx, &key, other)),
        },
        REDACT => set(cx, &mut args.redact, &key, expect_idents(cx, &key, rest)),
        HASH => set(cx, &mut args.hash, &key, expect_idents(cx, &key, rest)),
        LABELS => set(
            cx,
            &mut args.labels,
            &key,
            expect_list(cx, &key, rest, "labels(region = \"eu\")").map(|t| parse_labels(cx, t)),
        ),
        FIELDS => set(
            cx,
            &mut args.fields,
            &key,
            expect_list(cx, &key, rest, "fields(order.total = total)").map(|t| parse_fields(cx, t)),
        ),
        SLO => set(
            cx,
            &mut args.slo,
            &key,
            expect_list(cx, &key, rest, "slo(availability = 99.9)").map(|t| parse_slo(cx, &key, t)),
        ),
        _ => {
            let hint = match suggest::closest(&name, OPTIONS.iter().copied()) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!("the options are: {}", OPTIONS.join(", ")),
            };
            cx.error_spanned_by(
                &key,
                format!("unknown option `{name}` for #[observe]; {hint}"),
            );
        }
    }
}

/// Stores an option, reporting a duplicate at its second occurrence.
fn set<T>(cx: &Ctxt, slot: &mut Option<Set<T>>, key: &Ident, value: Option<T>) {
    let Some(value) = value else { return };
    if slot.is_some() {
        cx.error_spanned_by(
            key,
            format!("duplicate option `{key}`: each option may be given once"),
        );
        return;
    }
    *slot = Some(Set {
        key: key.clone(),
        value,
    });
}

fn expect_str(cx: &Ctxt, key: &Ident, rest: Rest, example: &str) -> Option<LitStr> {
    let tokens = match rest {
        Rest::Assign(tokens) => tokens,
        _ => {
            cx.error_spanned_by(
                key,
                format!("`{key}` takes a string value: write `{example}`"),
            );
            return None;
        }
    };
    match syn::parse2::<Lit>(tokens.clone()) {
        Ok(Lit::Str(lit)) => Some(lit),
        Ok(other) => {
            cx.error_spanned_by(
                &other,
                format!(
                    "`{key}` expects a string literal, found {}; write `{example}`",
                    describe_lit(&other)
                ),
            );
            None
        }
        Err(_) => {
            cx.error_spanned_by(
                &tokens,
                format!("`{key}` expects a string literal; write `{example}`"),
            );
            None
        }
    }
}

fn expect_number(cx: &Ctxt, key: &Ident, rest: Rest, example: &str) -> Option<(Lit, f64)> {
    let tokens = match rest {
        Rest::Assign(tokens) => tokens,
        _ => {
            cx.error_spanned_by(key, format!("`{key}` takes a number: write `{example}`"));
            return None;
        }
    };
    match syn::parse2::<Lit>(tokens.clone()) {
        Ok(lit @ Lit::Float(_)) | Ok(lit @ Lit::Int(_)) => {
            let value = match &lit {
                Lit::Float(f) => f.base10_parse::<f64>(),
                Lit::Int(i) => i.base10_parse::<f64>(),
                _ => unreachable!("matched above"),
            };
            match value {
                Ok(v) => Some((lit, v)),
                Err(e) => {
                    cx.syn_error(e);
                    None
                }
            }
        }
        Ok(other) => {
            cx.error_spanned_by(
                &other,
                format!(
                    "`{key}` expects a number, found {}; write `{example}`",
                    describe_lit(&other)
                ),
            );
            None
        }
        Err(_) => {
            cx.error_spanned_by(
                &tokens,
                format!("`{key}` expects a number literal; write `{example}`"),
            );
            None
        }
    }
}

fn expect_flag(cx: &Ctxt, key: &Ident, rest: Rest) -> bool {
    match rest {
        Rest::Flag => true,
        Rest::Assign(tokens) | Rest::List(tokens) => {
            cx.error_spanned_by(
                if tokens.is_empty() {
                    key.to_token_stream()
                } else {
                    tokens
                },
                format!("`{key}` is a flag and takes no value: write just `{key}`"),
            );
            false
        }
    }
}

fn expect_list(cx: &Ctxt, key: &Ident, rest: Rest, example: &str) -> Option<TokenStream> {
    match rest {
        Rest::List(tokens) => Some(tokens),
        _ => {
            cx.error_spanned_by(
                key,
                format!("`{key}` takes a list in parentheses: write `{example}`"),
            );
            None
        }
    }
}

fn expect_idents(cx: &Ctxt, key: &Ident, rest: Rest) -> Option<Vec<Ident>> {
    let tokens = match rest {
        Rest::List(tokens) => tokens,
        _ => {
            cx.error_spanned_by(
                key,
                format!("`{key}` takes argument names in parentheses: write `{key}(arg, ...)`"),
            );
            return None;
        }
    };
    let items: Vec<TokenStream> = split_top_level(tokens)
        .into_iter()
        .map(|e| e.into_iter().collect())
        .collect();
    let mut idents = Vec::new();
    for item in items {
        match syn::parse2::<Ident>(item.clone()).or_else(|_| {
            syn::parse2::<Token![self]>(item.clone()).map(|s| Ident::new("self", s.span))
        }) {
            Ok(ident) => idents.push(ident),
            Err(_) => cx.error_spanned_by(
                &item,
                format!("`{key}(...)` lists argument names, found `{item}`"),
            ),
        }
    }
    Some(idents)
}

fn parse_level(cx: &Ctxt, lit: LitStr) -> Option<Checked<LitStr, Level>> {
    let text = lit.value();
    if let Some(level) = Level::from_name(&text) {
        return Some(Checked { lit, value: level });
    }
    let hint = if Level::from_name(&text.to_ascii_lowercase()).is_some() {
        format!(
            "levels are lowercase: write \"{}\"",
            text.to_ascii_lowercase()
        )
    } else if let Some(close) = suggest::closest(&text, LEVELS.iter().copied()) {
        format!("did you mean \"{close}\"?")
    } else {
        format!(
            "use one of {}",
            LEVELS
                .iter()
                .map(|l| format!("\"{l}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    cx.error_spanned_by(&lit, format!("unknown level \"{text}\"; {hint}"));
    None
}

fn parse_duration(cx: &Ctxt, lit: LitStr) -> Option<Checked<LitStr, u64>> {
    match duration::parse_micros(&lit.value()) {
        Ok(micros) => Some(Checked { lit, value: micros }),
        Err(message) => {
            cx.error_spanned_by(&lit, message);
            None
        }
    }
}

/// `key = value` where key is an identifier or a string literal.
struct KeyValue {
    key: String,
    key_span: Span,
    key_tokens: TokenStream,
    value: TokenStream,
}

impl Parse for KeyValue {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let (key, key_span, key_tokens) = if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            (lit.value(), lit.span(), lit.to_token_stream())
        } else {
            let mut key = String::new();
            let mut tokens = TokenStream::new();
            let first: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            let span = first.span();
            // `r#type` means the key `type`, everywhere (reserved names too).
            key.push_str(first.to_string().trim_start_matches("r#"));
            first.to_tokens(&mut tokens);
            while input.peek(Token![.]) {
                let dot: Token![.] = input.parse()?;
                let part: Ident = input.call(syn::ext::IdentExt::parse_any)?;
                key.push('.');
                key.push_str(part.to_string().trim_start_matches("r#"));
                dot.to_tokens(&mut tokens);
                part.to_tokens(&mut tokens);
            }
            (key, span, tokens)
        };
        if !input.peek(Token![=]) {
            return Err(syn::Error::new_spanned(
                &key_tokens,
                format!("expected `{key} = value`"),
            ));
        }
        input.parse::<Token![=]>()?;
        let mut value = TokenStream::new();
        while !input.is_empty() && !input.peek(Token![,]) {
            value.extend(std::iter::once(input.parse::<TokenTree>()?));
        }
        if value.is_empty() {
            return Err(syn::Error::new_spanned(
                &key_tokens,
                format!("`{key} =` needs a value"),
            ));
        }
        Ok(KeyValue {
            key,
            key_span,
            key_tokens,
            value,
        })
    }
}

fn parse_key_values(cx: &Ctxt, tokens: TokenStream) -> Vec<KeyValue> {
    let mut out = Vec::new();
    for entry in split_top_level(tokens) {
        let stream: TokenStream = entry.into_iter().collect();
        match syn::parse2::<KeyValue>(stream) {
            Ok(kv) => out.push(kv),
            Err(e) => cx.syn_error(e),
        }
    }
    out
}

fn parse_labels(cx: &Ctxt, tokens: TokenStream) -> Vec<LabelArg> {
    let mut labels = Vec::new();
    for kv in parse_key_values(cx, tokens) {
        if kv.key.contains('.') {
            cx.error_spanned_by(&kv.key_tokens, format!("label key `{}` contains `.`; Prometheus label names are `[a-zA-Z_][a-zA-Z0-9_]*`: write `{}`", kv.key, kv.key.replace('.', "_")));
            continue;
        }
        match syn::parse2::<Expr>(kv.value.clone()) {
            Ok(value) => labels.push(LabelArg {
                // Prometheus label names are snake_case: `userType` is
                // emitted and checked as `user_type`.
                key: snake_case(&kv.key),
                key_span: kv.key_span,
                key_tokens: kv.key_tokens,
                value,
            }),
            Err(_) => cx.error_spanned_by(
                &kv.value,
                format!("the value of label `{}` is not an expression", kv.key),
            ),
        }
    }
    labels
}

fn parse_fields(cx: &Ctxt, tokens: TokenStream) -> Vec<FieldArg> {
    let mut fields = Vec::new();
    for kv in parse_key_values(cx, tokens) {
        let mut value = kv.value.clone().into_iter().peekable();
        let sigil = match value.peek() {
            Some(TokenTree::Punct(p)) if p.as_char() == '%' => FieldSigil::Display,
            Some(TokenTree::Punct(p)) if p.as_char() == '?' => FieldSigil::Debug,
            _ => FieldSigil::Value,
        };
        if sigil != FieldSigil::Value {
            value.next();
        }
        let expr_tokens: TokenStream = value.collect();
        match syn::parse2::<Expr>(expr_tokens.clone()) {
            Ok(expr) => fields.push(FieldArg { key: kv.key, key_tokens: kv.key_tokens, sigil, value: expr }),
            Err(_) => cx.error_spanned_by(&kv.value, format!("the value of field `{}` is not an expression; write `{} = expr`, `{} = %expr` or `{} = ?expr`", kv.key, kv.key, kv.key, kv.key)),
        }
    }
    fields
}

fn parse_slo(cx: &Ctxt, key: &Ident, tokens: TokenStream) -> SloArg {
    let mut slo = SloArg::default();
    for kv in parse_key_values(cx, tokens) {
        let lit = match syn::parse2::<Lit>(kv.value.clone()) {
            Ok(lit) => lit,
            Err(_) => {
                cx.error_spanned_by(
                    &kv.value,
                    format!("`slo({} = ...)` expects a literal", kv.key),
                );
                continue;
            }
        };
        let duplicate = |present: bool| {
            if present {
                cx.error_spanned_by(
                    &kv.key_tokens,
                    format!("duplicate `{}` in slo(...)", kv.key),
                );
            }
            present
        };
        match kv.key.as_str() {
            SLO_AVAILABILITY => {
                if duplicate(slo.availability.is_some()) {
                    continue;
                }
                slo.availability = percent(cx, &kv.key, lit, "slo(availability = 99.9)");
            }
            SLO_PERCENTILE => {
                if duplicate(slo.percentile.is_some()) {
                    continue;
                }
                slo.percentile = percent(
                    cx,
                    &kv.key,
                    lit,
                    "slo(latency = \"300ms\", percentile = 99.0)",
                );
            }
            SLO_LATENCY => {
                if duplicate(slo.latency.is_some()) {
                    continue;
                }
                match lit {
                    Lit::Str(s) => slo.latency = parse_duration(cx, s),
                    other => cx.error_spanned_by(&other, format!("`latency` expects a duration string, found {}; write `slo(latency = \"300ms\")`", describe_lit(&other))),
                }
            }
            other => {
                let hint = match suggest::closest(other, SLO_OPTIONS.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("`{key}(...)` takes {}", SLO_OPTIONS.join(", ")),
                };
                cx.error_spanned_by(
                    &kv.key_tokens,
                    format!("unknown SLO setting `{other}`; {hint}"),
                );
            }
        }
    }
    slo
}

fn percent(cx: &Ctxt, key: &str, lit: Lit, example: &str) -> Option<Checked<Lit, f64>> {
    let value = match &lit {
        Lit::Float(f) => f.base10_parse::<f64>().ok(),
        Lit::Int(i) => i.base10_parse::<f64>().ok(),
        other => {
            cx.error_spanned_by(
                other,
                format!(
                    "`{key}` expects a percentage number, found {}; write `{example}`",
                    describe_lit(other)
                ),
            );
            return None;
        }
    };
    match value {
        Some(v) if v > 0.0 && v < 100.0 => Some(Checked { lit, value: v }),
        _ => {
            cx.error_spanned_by(
                &lit,
                format!("`{key}` is a percentage strictly between 0 and 100, e.g. `{example}`"),
            );
            None
        }
    }
}

fn describe_lit(lit: &Lit) -> &'static str {
    match lit {
        Lit::Str(_) => "a string",
        Lit::ByteStr(_) | Lit::CStr(_) => "a byte string",
        Lit::Byte(_) => "a byte",
        Lit::Char(_) => "a character",
        Lit::Int(_) => "an integer",
        Lit::Float(_) => "a float",
        Lit::Bool(_) => "a boolean",
        _ => "a literal",
    }
}

/// `userId` -> `user_id`, `HTTPStatus` -> `http_status`; snake_case stays.
/// The label keys' rule, and the derive's for variant names.
pub fn snake_case(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let mut out = String::with_capacity(key.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let previous = i.checked_sub(1).map(|p| chars[p]);
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let boundary = match previous {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next_is_lower,
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod snake_case_tests {
    use super::snake_case;

    #[test]
    fn camel_case_keys_become_snake_case() {
        assert_eq!(snake_case("userId"), "user_id");
        assert_eq!(snake_case("clientIp"), "client_ip");
        assert_eq!(snake_case("HTTPStatus"), "http_status");
        assert_eq!(snake_case("user_type"), "user_type");
        assert_eq!(snake_case("region"), "region");
        assert_eq!(snake_case("PaymentDeclined"), "payment_declined");
        assert_eq!(snake_case("HTTPError"), "http_error");
        assert_eq!(snake_case("V2Api"), "v2_api");
    }
}
