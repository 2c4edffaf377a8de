//! The function rewrite. The signature is kept token for token; the body
//! becomes: the per-function statics, the labels, the span, the observation,
//! then the original body, run inside the span, in a closure (sync) or an
//! inner `async move` block (async) so every `return` and `?` comes back
//! through the observation, which records the outcome.

use observe_attr::model::AnnotatedFn;
use observe_attr::{Args, Context};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, ItemFn, ReturnType, Type};

use super::{completion, labels, meta, private, span};
use crate::async_trait;

/// Instruments `function` with the options in `args`.
pub fn expand(args: TokenStream, function: ItemFn, context: &Context) -> syn::Result<TokenStream> {
    let spec = observe_attr::analyze(args, &function.sig, context)?;
    Ok(rewrite(&spec, function))
}

/// Instruments `function` with already parsed options (from an impl block).
pub fn expand_parsed(args: &Args, function: ItemFn, context: &Context) -> syn::Result<TokenStream> {
    let spec = observe_attr::analyze_parsed(args, &function.sig, context)?;
    Ok(rewrite(&spec, function))
}

fn rewrite(spec: &AnnotatedFn, mut function: ItemFn) -> TokenStream {
    let prologue = prologue(spec);
    let classify = completion::classifier(spec);
    let p = private();

    if let Some(inner) = async_trait::boxed_async_body(&mut function.block) {
        // Already rewritten by #[async_trait]: observe the boxed future.
        let stmts = &inner.block.stmts;
        let body = quote! {{
            #prologue
            #p::ObservedFuture::new(__observe, async move { #(#stmts)* }, #classify).await
        }};
        inner.block = syn::parse2(body).expect("generated block parses");
        return quote!(#function);
    }

    let stmts = &function.block.stmts;
    let fake_return = fake_return_edge(&function.sig.output, &function.sig.ident);
    let body = if function.sig.asyncness.is_some() {
        quote! {{
            #prologue
            #p::ObservedFuture::new(__observe, async move { #fake_return #(#stmts)* }, #classify).await
        }}
    } else {
        quote! {{
            #prologue
            let __observe_ret = {
                let __observe_entered = __observe.as_ref().map(#p::Observation::enter);
                #p::call_once(move || { #fake_return #(#stmts)* })
            };
            #p::Observation::finish_if_observed(__observe, &__observe_ret, #classify);
            __observe_ret
        }}
    };
    let block: Block = syn::parse2(body).expect("generated block parses");
    *function.block = block;
    quote!(#function)
}

/// Everything before the body runs: statics, emitter, labels, span, and
/// the started observation `__observe`.
fn prologue(spec: &AnnotatedFn) -> TokenStream {
    let p = private();
    let statics = meta::statics(spec);
    let self_type = meta::self_type(spec);
    let emitter = completion::emitter(spec);
    let labels = labels::evaluate(spec);
    let span = span::create(spec, &self_type);
    quote! {
        #statics
        #emitter
        #labels
        // Nothing listening: no span, no clock, no metrics.
        let mut __observe = match #p::CallSite::listening(&__OBSERVE_SITE, __observe_combos) {
            ::core::option::Option::Some(mode) => ::core::option::Option::Some(#p::Observation::start(
                &__OBSERVE_SITE,
                #self_type,
                mode,
                __observe_combo,
                &__observe_labels,
                #span,
                __observe_emit,
            )),
            ::core::option::Option::None => ::core::option::Option::None,
        };
    }
}

/// An unreachable `return` of the declared type, first in the body: it
/// fixes the closure's (or async block's) output type, so `?` and early
/// `return` infer as they did in the original function.
fn fake_return_edge(output: &ReturnType, name: &syn::Ident) -> TokenStream {
    let (ty, span) = match output {
        ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            InferOpaque.visit_type_mut(&mut ty);
            let span = ty.span();
            (quote!(#ty), span)
        }
        ReturnType::Default => (quote!(()), name.span()),
    };
    quote_spanned! {span=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let __observe_fake_return: #ty = loop {};
            return __observe_fake_return;
        }
    }
}

/// Replaces `impl Trait` and `!`, which cannot annotate a `let`, with `_`.
struct InferOpaque;

impl VisitMut for InferOpaque {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        match ty {
            Type::ImplTrait(_) | Type::Never(_) => *ty = syn::parse_quote!(_),
            _ => syn::visit_mut::visit_type_mut(self, ty),
        }
    }
}
