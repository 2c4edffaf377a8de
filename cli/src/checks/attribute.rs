//! OBS005: `#[observe(...)]` checked by observe-attr, the same code the
//! macro runs, so the linter reports exactly the macro's messages. Valid
//! attributes become catalog entries.

use observe_attr::Args;
use observe_attr::item::path_is;
use observe_attr::model::Context as AttrContext;
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Token};

use crate::finding::Code;
use crate::observed::ObservedFn;

use super::{Context, ImplContext};

pub use observe_attr::item::is_observe_attr as is_observe;

/// `#[derive(Label)]` or `#[derive(observe::Label)]`.
pub fn derives_label(attrs: &[Attribute]) -> bool {
    let parser = Punctuated::<syn::Path, Token![,]>::parse_terminated;
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .filter_map(|a| a.parse_args_with(parser).ok())
        .any(|derives| {
            derives
                .iter()
                .any(|d| path_is(d, &[&["Label"], &["observe", "Label"]]))
        })
}

/// Reports every error of `error`, each at its own span (or at the
/// attribute when the span points nowhere).
fn report_errors(cx: &mut Context<'_>, attr: Option<&Attribute>, error: syn::Error) {
    for e in error {
        let span = e.span();
        let location = if let (true, Some(attr)) = (span.byte_range().is_empty(), attr) {
            cx.src
                .locate_between(attr.pound_token.span, attr.bracket_token.span.close())
        } else {
            cx.src.locate(span)
        };
        let severity = cx.severity(Code::InvalidObserve);
        cx.report_at(
            Code::InvalidObserve,
            severity,
            location,
            e.to_string(),
            "invalid #[observe] attribute".into(),
        );
    }
}

/// The tokens inside the parentheses, or an error for `#[observe = ...]`.
fn args_tokens(attr: &Attribute) -> Result<proc_macro2::TokenStream, syn::Error> {
    match &attr.meta {
        Meta::Path(_) => Ok(proc_macro2::TokenStream::new()),
        Meta::List(list) => Ok(list.tokens.clone()),
        Meta::NameValue(nv) => Err(syn::Error::new_spanned(
            nv,
            "write #[observe] or #[observe(option, ...)], not #[observe = ...]",
        )),
    }
}

/// Parses an attribute's options, reporting its errors. `None` when it
/// did not parse.
fn parse_args(cx: &mut Context<'_>, attr: &Attribute) -> Option<Args> {
    let tokens = match args_tokens(attr) {
        Ok(tokens) => tokens,
        Err(e) => {
            report_errors(cx, Some(attr), e);
            return None;
        }
    };
    match observe_attr::args::parse(tokens) {
        Ok(args) => Some(args),
        Err(e) => {
            report_errors(cx, Some(attr), e);
            None
        }
    }
}

/// `Cart` for `impl Cart`, `impl<T> Cart<T>` and `impl Trait for Cart`,
/// as the macro names it.
fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Reference(reference) => type_name(&reference.elem),
        syn::Type::Paren(paren) => type_name(&paren.elem),
        _ => None,
    }
}

/// Reads an `impl` block: its type name and its own `#[observe]`.
pub fn impl_context(cx: &mut Context<'_>, item: &syn::ItemImpl) -> ImplContext {
    let type_name = type_name(&item.self_ty);
    let block_args = item
        .attrs
        .iter()
        .find(|a| is_observe(a))
        .map(|attr| parse_args(cx, attr));
    ImplContext {
        type_name,
        // A block attribute that did not parse instruments nothing: the
        // macro stops at its errors, and so do we.
        block_args: block_args.flatten(),
    }
}

/// A function or method: its own `#[observe]`, merged over its impl
/// block's when `in_impl`.
pub fn check_fn(cx: &mut Context<'_>, attrs: &[Attribute], sig: &syn::Signature, in_impl: bool) {
    let own_attr = attrs.iter().find(|a| is_observe(a));
    let block = if in_impl {
        cx.impl_cx
            .as_ref()
            .and_then(|cx| cx.block_args.clone().map(|a| (a, cx.type_name.clone())))
    } else {
        None
    };
    if own_attr.is_none() && block.is_none() {
        return;
    }
    // The block's macro takes one attribute per method.
    if block.is_some()
        && let Some(second) = attrs.iter().filter(|a| is_observe(a)).nth(1)
    {
        let error = syn::Error::new_spanned(
            second,
            "a method takes one #[observe(...)]; merge the options into one",
        );
        return report_errors(cx, Some(second), error);
    }
    let own = match own_attr {
        Some(attr) => match parse_args(cx, attr) {
            Some(args) => Some(args),
            None => return,
        },
        None => None,
    };
    let (args, impl_type) = match (own, block) {
        (Some(own), Some((block_args, ty))) => {
            if own.opt_out.is_some() {
                return;
            }
            (own.over(&block_args), ty)
        }
        (None, Some((block_args, ty))) => (block_args, ty),
        (Some(own), None) => (own, None),
        (None, None) => return,
    };
    let context = AttrContext { impl_type };
    match observe_attr::analyze_parsed(&args, sig, &context) {
        Ok(spec) => {
            let line = cx.src.locate(sig.ident.span()).line;
            let module = cx.module.clone();
            let file = cx.src.display.clone();
            cx.observed
                .push(ObservedFn::from_spec(&spec, &module, &file, line));
        }
        Err(e) => report_errors(cx, own_attr, e),
    }
}

/// A trait method: instrumented when it has a default body; refused by
/// the macro otherwise.
pub fn check_trait_fn(cx: &mut Context<'_>, item: &syn::TraitItemFn) {
    let Some(attr) = item.attrs.iter().find(|a| is_observe(a)) else {
        return;
    };
    if item.default.is_some() {
        return check_fn(cx, &item.attrs, &item.sig, false);
    }
    let mut stripped = item.clone();
    stripped.attrs.retain(|a| !is_observe(a));
    if let Err(observe_attr::item::Refusal::Unsupported(e)) =
        observe_attr::item::classify(stripped.to_token_stream())
    {
        report_errors(cx, Some(attr), e);
    }
}

/// `#[observe]` on an item it cannot instrument (a struct, a const...).
pub fn check_misplaced(cx: &mut Context<'_>, item: &syn::Item) {
    let attrs = match item {
        syn::Item::Fn(_) | syn::Item::Impl(_) => return,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        syn::Item::ForeignMod(i) => &i.attrs,
        _ => return,
    };
    let Some(attr) = attrs.iter().find(|a| is_observe(a)) else {
        return;
    };
    let mut stripped = item.clone();
    strip_observe(&mut stripped);
    if let Err(observe_attr::item::Refusal::Unsupported(e)) =
        observe_attr::item::classify(stripped.to_token_stream())
    {
        report_errors(cx, Some(attr), e);
    }
}

fn strip_observe(item: &mut syn::Item) {
    let attrs = match item {
        syn::Item::Struct(i) => &mut i.attrs,
        syn::Item::Enum(i) => &mut i.attrs,
        syn::Item::Union(i) => &mut i.attrs,
        syn::Item::Trait(i) => &mut i.attrs,
        syn::Item::Const(i) => &mut i.attrs,
        syn::Item::Static(i) => &mut i.attrs,
        syn::Item::Mod(i) => &mut i.attrs,
        syn::Item::Type(i) => &mut i.attrs,
        syn::Item::Use(i) => &mut i.attrs,
        syn::Item::ForeignMod(i) => &mut i.attrs,
        _ => return,
    };
    attrs.retain(|a| !is_observe(a));
}
