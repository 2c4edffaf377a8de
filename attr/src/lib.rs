//! The `#[observe(...)]` attribute grammar, shared by the proc macro and the
//! `cargo observe` linter so the two can never disagree.
//!
//! The pipeline is one module per stage:
//! [`args`] parses tokens into set-once slots (checking each argument alone),
//! [`item`] reads the annotated item's shape, [`check`] applies the rules
//! that span several arguments, and [`model`] is the validated result that
//! code generation and the linter's catalog consume.
//!
//! [`schema`] (no syn needed) names everything observe emits.

#![deny(missing_docs)]

/// The most `labels(...)` one function may have.
pub const MAX_LABELS: usize = 8;

pub mod duration;
pub mod names;
pub mod schema;

#[cfg(feature = "syntax")]
pub mod args;
#[cfg(feature = "syntax")]
pub mod check;
#[cfg(feature = "syntax")]
pub mod ctxt;
#[cfg(feature = "syntax")]
pub mod item;
#[cfg(feature = "syntax")]
pub mod model;
#[cfg(feature = "syntax")]
pub mod suggest;
#[cfg(feature = "syntax")]
pub mod symbol;

#[cfg(feature = "syntax")]
pub use args::Args;
#[cfg(feature = "syntax")]
pub use model::{AnnotatedFn, Context, FieldValue, Label, LabelValue, Level, Param, Slo};

#[cfg(feature = "syntax")]
use proc_macro2::TokenStream;

#[cfg(feature = "syntax")]
/// Parses and validates `#[observe(<args>)]` applied to a function with
/// signature `sig`, in the given context. Every error found is returned at
/// once, combined into one `syn::Error`.
pub fn analyze(
    args: TokenStream,
    sig: &syn::Signature,
    context: &Context,
) -> syn::Result<AnnotatedFn> {
    let parsed = args::parse(args)?;
    analyze_parsed(&parsed, sig, context)
}

#[cfg(feature = "syntax")]
/// Validates already parsed arguments against a signature.
pub fn analyze_parsed(
    args: &Args,
    sig: &syn::Signature,
    context: &Context,
) -> syn::Result<AnnotatedFn> {
    let cx = ctxt::Ctxt::new();
    let spec = model::AnnotatedFn::build(&cx, args, sig, context);
    cx.check()?;
    Ok(spec)
}
