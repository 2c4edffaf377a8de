//! Procedural macros of `observe`. Use them through the `observe` crate:
//! `#[observe::observe]` and `#[derive(observe::Label)]`.
//!
//! Each entry point runs parse -> model -> check (in `observe-attr`, shared
//! with `cargo observe`) -> expand, and on any error emits the errors beside
//! the untouched original item, so the rest of the crate still type-checks.

mod async_trait;
mod expand;
mod fallback;
mod label_derive;

use proc_macro::TokenStream;

/// Instruments a function, method or `impl` block: a span, RED metrics and a
/// redacted completion log line per call. See the `observe` crate docs.
#[proc_macro_attribute]
pub fn observe(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::observe(args.into(), item.into()).into()
}

/// Implements `observe::Label` for an enum: each variant is one label value,
/// its name in snake_case unless `#[label(rename = "...")]` says otherwise.
#[proc_macro_derive(Label, attributes(label))]
pub fn derive_label(input: TokenStream) -> TokenStream {
    label_derive::derive(input.into()).into()
}
