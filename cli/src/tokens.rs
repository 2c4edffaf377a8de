//! Helpers for reading macro arguments, which syn leaves as raw tokens.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::{Expr, Lit};

/// Splits a token stream at its top-level commas, dropping empty entries.
pub fn split_commas(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut entries = vec![Vec::new()];
    for tree in tokens {
        match &tree {
            TokenTree::Punct(p) if p.as_char() == ',' => entries.push(Vec::new()),
            _ => entries.last_mut().expect("never empty").push(tree),
        }
    }
    entries.retain(|e| !e.is_empty());
    entries
}

pub fn stream(trees: &[TokenTree]) -> TokenStream {
    trees.iter().cloned().collect()
}

/// `ident:` (a single colon, not `::`) at the start: tracing's and
/// metrics' `target:`, `parent:`, `name:` and `level:` prefixes.
pub fn keyword_prefix(trees: &[TokenTree]) -> Option<String> {
    match trees {
        [TokenTree::Ident(ident), TokenTree::Punct(colon), rest @ ..]
            if colon.as_char() == ':'
                && !matches!(rest.first(), Some(TokenTree::Punct(p)) if p.as_char() == ':') =>
        {
            Some(ident.to_string())
        }
        _ => None,
    }
}

/// The position of a top-level `=>` in an entry.
pub fn find_fat_arrow(trees: &[TokenTree]) -> Option<usize> {
    trees.windows(2).position(|w| {
        matches!((&w[0], &w[1]), (TokenTree::Punct(a), TokenTree::Punct(b)) if a.as_char() == '=' && b.as_char() == '>')
    })
}

/// The position of a top-level `=` that is not part of `==`, `=>`, `<=`...
pub fn find_assign(trees: &[TokenTree]) -> Option<usize> {
    trees.iter().enumerate().position(|(i, t)| match t {
        TokenTree::Punct(p) if p.as_char() == '=' => {
            let next_joint = matches!(trees.get(i + 1), Some(TokenTree::Punct(n)) if matches!(n.as_char(), '=' | '>'));
            let prev_op = i > 0
                && matches!(&trees[i - 1], TokenTree::Punct(prev) if matches!(prev.as_char(), '=' | '<' | '>' | '!') && prev.spacing() == proc_macro2::Spacing::Joint);
            !next_joint && !prev_op
        }
        _ => false,
    })
}

/// A string literal's value and span, when `expr` is one.
pub fn lit_str(expr: &Expr) -> Option<(String, Span)> {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(s) => Some((s.value(), s.span())),
            _ => None,
        },
        Expr::Group(g) => lit_str(&g.expr),
        Expr::Paren(p) => lit_str(&p.expr),
        Expr::Reference(r) => lit_str(&r.expr),
        _ => None,
    }
}

/// The string value of a single literal token.
pub fn lit_str_tree(trees: &[TokenTree]) -> Option<(String, Span)> {
    match trees {
        [TokenTree::Literal(lit)] => {
            match syn::parse2::<Lit>(TokenTree::Literal(lit.clone()).into()) {
                Ok(Lit::Str(s)) => Some((s.value(), s.span())),
                _ => None,
            }
        }
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            lit_str_tree(&inner)
        }
        _ => None,
    }
}

/// A dotted path of identifiers (`a`, `self.password`, `creds.api_key`),
/// possibly behind `&`, `*`, `%` or `?`: its text and its last name.
pub fn dotted_path(trees: &[TokenTree]) -> Option<(String, String)> {
    let mut trees = trees;
    while let [TokenTree::Punct(p), rest @ ..] = trees {
        if matches!(p.as_char(), '&' | '*' | '%' | '?') {
            trees = rest;
        } else {
            return None;
        }
    }
    let mut text = String::new();
    let mut last = String::new();
    let mut expect_ident = true;
    for tree in trees {
        match (tree, expect_ident) {
            (TokenTree::Ident(ident), true) => {
                last = ident.to_string();
                text.push_str(&last);
                expect_ident = false;
            }
            (TokenTree::Punct(p), false) if p.as_char() == '.' => {
                text.push('.');
                expect_ident = true;
            }
            _ => return None,
        }
    }
    (!text.is_empty() && !expect_ident).then_some((text, last))
}

/// Whether a token stream mentions anything the linter looks for inside
/// macros it does not know: a nested macro call or an OpenTelemetry or
/// prometheus label call.
pub fn worth_reparsing(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        TokenTree::Punct(p) => p.as_char() == '!',
        TokenTree::Ident(ident) => ident == "KeyValue" || ident == "with_label_values",
        TokenTree::Group(g) => worth_reparsing(&g.stream()),
        TokenTree::Literal(_) => false,
    })
}

/// The span from the first to the last token of `trees`.
pub fn span_of(trees: &[TokenTree]) -> Option<(Span, Span)> {
    Some((first_span(trees.first()?), last_span(trees.last()?)))
}

fn first_span(tree: &TokenTree) -> Span {
    match tree {
        TokenTree::Group(g) => g.span_open(),
        other => other.span(),
    }
}

fn last_span(tree: &TokenTree) -> Span {
    match tree {
        TokenTree::Group(g) => g.span_close(),
        other => other.span(),
    }
}

/// The spans of the first and last tokens of a syntax node.
pub fn node_span<T: quote::ToTokens>(node: &T) -> Option<(Span, Span)> {
    let trees: Vec<TokenTree> = node.to_token_stream().into_iter().collect();
    span_of(&trees)
}
