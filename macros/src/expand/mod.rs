//! Code generation for `#[observe]`: one module per part of the rewrite.

mod completion;
mod function;
mod impl_block;
mod labels;
mod meta;
mod span;

use observe_attr::Context;
use observe_attr::item::{self, Refusal, Target};
use proc_macro2::TokenStream;

use crate::fallback;

/// The `#[observe(...)]` entry point.
pub fn observe(args: TokenStream, item: TokenStream) -> TokenStream {
    match item::classify(item.clone()) {
        Ok(Target::Fn(function)) => match function::expand(args, function, &Context::default()) {
            Ok(tokens) => tokens,
            Err(error) => fallback::with_original(item, error),
        },
        Ok(Target::Impl(block)) => impl_block::expand(args, block),
        Err(Refusal::Unsupported(error)) => fallback::with_original(item, error),
        Err(Refusal::Unreadable) => item,
    }
}

/// The path generated code reaches the runtime through.
fn private() -> TokenStream {
    quote::quote!(::observe::__private)
}
