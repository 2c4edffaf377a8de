//! Code generation for `#[observe]`: one module per part of the rewrite.

mod body;
mod completion;
mod function;
mod impl_block;
mod labels;
mod meta;
mod span;

use observe_attr::Context;
use observe_attr::item::{self, Refusal, Target};
use proc_macro2::TokenStream;
use syn::{ItemFn, Stmt};

use crate::fallback;

/// The `#[observe(...)]` entry point.
pub fn observe(args: TokenStream, item: TokenStream) -> TokenStream {
    match item::classify(item.clone()) {
        Ok(Target::Fn(function)) => {
            if let Err(error) = not_observed_twice(&function) {
                return fallback::with_original(item, error);
            }
            match function::expand(args, function, &Context::default()) {
                Ok(tokens) => tokens,
                Err(error) => fallback::with_original(item, error),
            }
        }
        Ok(Target::Impl(block)) => impl_block::expand(args, block),
        Err(Refusal::Unsupported(error)) => fallback::with_original(item, error),
        Err(Refusal::Unreadable) => item,
    }
}

/// Refuses a second instrumentation of one function: another `#[observe]`
/// still to expand, or a body an `#[observe]` (under any name: a renamed
/// import, an annotated impl block) already rewrote.
fn not_observed_twice(function: &ItemFn) -> syn::Result<()> {
    if let Some(other) = function.attrs.iter().find(|a| item::is_observe_attr(a)) {
        return Err(syn::Error::new_spanned(
            other,
            "this function has two #[observe] attributes, which would record every call twice; \
             merge their options into one #[observe(...)]",
        ));
    }
    let rewritten = function.block.stmts.iter().any(
        |stmt| matches!(stmt, Stmt::Item(syn::Item::Static(s)) if s.ident == "__OBSERVE_META"),
    );
    if rewritten {
        return Err(syn::Error::new_spanned(
            &function.sig.ident,
            "this function is already instrumented by another #[observe] (perhaps imported under another \
             name, or on its impl block), which would record every call twice; keep one of them",
        ));
    }
    Ok(())
}

/// The path generated code reaches the runtime through.
fn private() -> TokenStream {
    private_at(proc_macro2::Span::call_site())
}

/// The same path with every token at `span` (so that a call through it is
/// located there, for `#[track_caller]`).
fn private_at(span: proc_macro2::Span) -> TokenStream {
    quote::quote_spanned!(span=> ::observe::__private)
}
