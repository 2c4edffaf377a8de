//! The function rewrite. The signature and the body's braces are the
//! user's own tokens (so rustc's lints, such as `dead_code`, still point at
//! the user's code); inside, the prologue starts the observation, then:
//!
//! - a synchronous body runs inline in a labeled block (see [`body`]), and
//!   its value is classified before it is returned;
//! - an `async fn` body runs in an inner `async move` block wrapped in
//!   `ObservedFuture`, with the arguments rebound first so they drop in the
//!   plain function's order;
//! - a synchronous function returning `impl Future` is observed through the
//!   future it returns;
//! - a `-> !` function only records its panics;
//! - a body `#[async_trait]` already rewrote (its `'async_trait` lifetime
//!   is the marker) has its boxed future observed, not its creation.
//!
//! The declared return type is written outside the user's block scope, so
//! items the body declares (`use Enum::*;`) never change what it names.

use observe_attr::model::{AnnotatedFn, LabelValue, Recording};
use observe_attr::{Args, Context};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{AttrStyle, Block, FnArg, ItemFn, Pat, ReturnType, Type, TypeParamBound};

use super::{body, completion, labels, meta, private, span};
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
    let p = private();
    let brace = function.block.brace_token;

    if async_trait::is_expansion(&function.sig)
        && let Some(inner) = async_trait::boxed_async_body(&mut function.block)
    {
        let prologue = prologue(spec, quote!(#p::Exit::Async));
        let classify = completion::classifier(spec);
        let stmts = &inner.block.stmts;
        let body = quote! {{
            #prologue
            #p::ObservedFuture::new(__observe, async move { #(#stmts)* }, #classify).await
        }};
        if let Ok(block) = syn::parse2(body) {
            inner.block = block;
        }
        return quote!(#function);
    }

    // Copied: the rewrite changes the signature (rebound `mut` arguments).
    let declared = match &function.sig.output {
        ReturnType::Type(_, ty) => Some((**ty).clone()),
        ReturnType::Default => None,
    };
    let output = declared.as_ref();
    let (exemptions, canonical) = clippy_exemptions(&function);
    let user_block = (*function.block).clone();
    let body = if function.sig.asyncness.is_some() && matches!(output, Some(Type::Never(_))) {
        async_never_body(spec, &mut function, user_block)
    } else if function.sig.asyncness.is_some() {
        async_body(spec, &mut function, user_block, output)
    } else if matches!(output, Some(Type::Never(_))) {
        never_body(spec, &mut function, user_block)
    } else if output.is_some_and(returns_impl_future) {
        impl_future_body(spec, &mut function, user_block, output)
    } else if matches!(output, Some(Type::ImplTrait(_))) && !spec.ret {
        impl_trait_body(spec, &mut function, user_block)
    } else {
        sync_value_body(spec, &mut function, user_block, output)
    };
    // Clippy reads a `Clone` or `PartialOrd` impl's bodies at the impl,
    // where no attribute of the method reaches: a canonical body keeps its
    // silence by being macro output to clippy (its braces are the
    // expansion's), as it only lints bodies written in the crate.
    let brace = if canonical {
        syn::token::Brace(proc_macro2::Span::call_site())
    } else {
        brace
    };
    with_body(&function, brace, exemptions, body)
}

/// Whether the declared return type is `Poll<..>` (`std::task::Poll`, or
/// any path ending in `Poll`).
fn returns_poll(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none()
        && path.path.segments.last().is_some_and(|last| last.ident == "Poll"))
}

/// The clippy lints that exempt a body by its shape, which the expanded
/// body no longer has, kept so that each lint speaks exactly where it would
/// without the attribute: the `allow`s for the function, and whether its
/// body is a canonical impl's (see `rewrite`).
///
/// - an empty synchronous body and `extra_unused_type_parameters`
///   (`fn assert_send<T: Send>() {}`): allowed;
/// - `fn clone(&self) -> Self { *self }` (`non_canonical_clone_impl`, the
///   canonical `Clone` of a `Copy` type) and `fn partial_cmp(&self, other:
///   &Self) -> .. { Some(self.cmp(other)) }` (`non_canonical_partial_ord_impl`):
///   canonical.
fn clippy_exemptions(function: &ItemFn) -> (TokenStream, bool) {
    let sig = &function.sig;
    let stmts = &function.block.stmts;
    if sig.asyncness.is_some() {
        return (TokenStream::new(), false);
    }
    if stmts.is_empty() {
        return (
            quote!(#[allow(clippy::extra_unused_type_parameters)]),
            false,
        );
    }
    let [syn::Stmt::Expr(expr, None)] = stmts.as_slice() else {
        return (TokenStream::new(), false);
    };
    let body = quote!(#expr).to_string();
    let named = |name: &str| sig.ident == name;
    if named("clone") && sig.inputs.len() == 1 && body == "* self" {
        return (TokenStream::new(), true);
    }
    if named("partial_cmp")
        && let Some(FnArg::Typed(other)) = sig.inputs.iter().nth(1)
        && let Pat::Ident(other) = &*other.pat
    {
        let other = &other.ident;
        let canonical = [
            quote!(Some(self.cmp(#other))),
            quote!(Some(Ord::cmp(self, #other))),
            quote!(Some(std::cmp::Ord::cmp(self, #other))),
            quote!(Some(core::cmp::Ord::cmp(self, #other))),
        ];
        if canonical.iter().any(|form| form.to_string() == body) {
            return (TokenStream::new(), true);
        }
    }
    (TokenStream::new(), false)
}

/// `async fn .. -> !`: only its panics are recorded; `!` cannot annotate
/// the inner block, so its output falls back to `()` and is never produced.
fn async_never_body(spec: &AnnotatedFn, function: &mut ItemFn, user_block: Block) -> TokenStream {
    let p = private();
    let rebinds = rebind_arguments(spec, function, Body::Async);
    let prologue = prologue(spec, quote!(#p::Exit::Async));
    let classify = completion::classifier(spec);
    quote! {
        #prologue
        #p::ObservedFuture::new(__observe, async move {
            #rebinds
            #user_block;
            #[allow(unreachable_code)]
            return;
        }, #classify).await;
        ::core::unreachable!("an async fn returning `!` completed")
    }
}

/// `async fn`: the body in an inner `async move` block, arguments rebound
/// first, wrapped in `ObservedFuture`.
fn async_body(
    spec: &AnnotatedFn,
    function: &mut ItemFn,
    user_block: Block,
    output: Option<&Type>,
) -> TokenStream {
    let p = private();
    let rebinds = rebind_arguments(spec, function, Body::Async);
    let fake_return = fake_return(output);
    let prologue = prologue(spec, quote!(#p::Exit::Async));
    let classify = completion::classifier(spec);
    quote! {
        #prologue
        // Labeled, so that rustc does not see a block as the block's
        // value (`unused_braces` on a body such as `{ 1 }`).
        #p::ObservedFuture::new(__observe, async move { #rebinds #fake_return '__observe_async: #user_block }, #classify).await
    }
}

/// `fn .. -> !`: the body runs inside the entered span; only its panics
/// are recorded.
fn never_body(spec: &AnnotatedFn, function: &mut ItemFn, user_block: Block) -> TokenStream {
    let p = private();
    let rebinds = rebind_arguments(spec, function, Body::Sync);
    let prologue = prologue(spec, quote!(#p::Exit::Sync));
    quote! {
        #prologue
        #rebinds
        let __observe_entered = #p::Observation::enter(&__observe);
        // Labeled, so that rustc does not see a block as the block's
        // value (`unused_braces` on `-> ! { panic!() }`).
        '__observe_never: #user_block
    }
}

/// A synchronous `fn .. -> impl Future`: observed through the future it
/// returns, as an `async fn` is.
fn impl_future_body(
    spec: &AnnotatedFn,
    function: &mut ItemFn,
    user_block: Block,
    output: Option<&Type>,
) -> TokenStream {
    let p = private();
    let output_ty = output
        .as_ref()
        .and_then(|ty| future_output(ty))
        .map_or_else(|| quote!(_), |ty| declared_type(Some(&ty)));
    let rebinds = rebind_arguments(spec, function, Body::Sync);
    let prologue = prologue(spec, quote!(#p::Exit::Async));
    let classify = completion::classifier(spec);
    let labeled = labeled_body(user_block);
    quote! {
        #prologue
        #rebinds
        // The declared `Output` fixes the future's output type before
        // the classifier dispatches on it, as the declared return type
        // fixes it for the plain function (`?` in an `async move`).
        let __observe_future = #p::with_output::<#output_ty, _>({
            let __observe_entered = #p::Observation::enter(&__observe);
            #labeled
        });
        // A body that always panics makes what follows unreachable; that
        // is the plain function's business, not a warning of ours.
        #[allow(unreachable_code, clippy::needless_return)]
        return #p::ObservedFuture::new(__observe, __observe_future, #classify);
    }
}

/// `fn .. -> impl Trait` (without `ret`, which needs the value itself):
/// the body stays the function's return value, so it is checked against
/// the opaque type as without the attribute (a closure's argument types, a
/// body that only diverges); its `return`s and `?`s are its own. The
/// observation completes when it drops at the function's end: the value
/// is opaque, so a success unless a panic unwinds.
fn impl_trait_body(spec: &AnnotatedFn, function: &mut ItemFn, user_block: Block) -> TokenStream {
    let p = private();
    let rebinds = rebind_arguments(spec, function, Body::Sync);
    let prologue = prologue(spec, quote!(#p::Exit::Tail));
    quote! {
        #prologue
        #rebinds
        #p::Observation::enter_body(&mut __observe);
        '__observe_tail: #user_block
    }
}

/// Every other synchronous function: the body inline in a labeled block,
/// its exits redirected, its value classified before it is returned.
fn sync_value_body(
    spec: &AnnotatedFn,
    function: &mut ItemFn,
    user_block: Block,
    output: Option<&Type>,
) -> TokenStream {
    let p = private();
    let rebinds = rebind_arguments(spec, function, Body::Sync);
    let exit = if output.is_some_and(returns_poll) {
        quote!(#p::Exit::Poll)
    } else {
        quote!(#p::Exit::Sync)
    };
    let prologue = prologue(spec, exit);
    let classify = completion::classifier_of_local(spec);
    let ty = declared_type(output);
    let labeled = labeled_body(user_block);
    quote! {
        #prologue
        #rebinds
        #p::Observation::enter_body(&mut __observe);
        // The body's value, or its `return`s made `break`s, would be a
        // diverging sub-expression of this `let` to clippy: a stub body
        // that only panics warned only when annotated. (The allow covers
        // the body: the user's own `f(return)` is not reported either.)
        #[allow(clippy::diverging_sub_expression)]
        let __observe_value: #ty = #labeled;
        // A body that always panics makes what follows unreachable; that
        // is the plain function's business, not a warning of ours.
        #[allow(unreachable_code)]
        #p::Observation::finish(__observe, #classify);
        #[allow(unreachable_code, clippy::needless_return)]
        return __observe_value;
    }
}

/// `function` printed as `ItemFn` prints itself, with `body` inside the
/// user's braces. The body is never parsed back into a syntax tree: that
/// would parse the user's code a second time, most of the macro's cost.
fn with_body(
    function: &ItemFn,
    brace: syn::token::Brace,
    extra_attrs: TokenStream,
    body: TokenStream,
) -> TokenStream {
    let outer = function
        .attrs
        .iter()
        .filter(|attr| matches!(attr.style, AttrStyle::Outer));
    let inner = function
        .attrs
        .iter()
        .filter(|attr| matches!(attr.style, AttrStyle::Inner(_)));
    let vis = &function.vis;
    let sig = &function.sig;
    let mut tokens = quote!(#(#outer)* #extra_attrs #vis #sig);
    brace.surround(&mut tokens, |tokens| {
        tokens.extend(quote!(#(#inner)* #body));
    });
    tokens
}

/// The user's block as `'label: { .. }`, its exits redirected.
fn labeled_body(mut block: Block) -> TokenStream {
    body::redirect_exits(&mut block);
    let label = body::label();
    // No `allow` here: it would cover the user's code. The label is the
    // macro's (rustc does not report an unused one), and `return` was
    // rewritten (`clippy::needless_return` cannot see one).
    quote! {
        #label: #block
    }
}

/// Everything before the body runs: statics, labels, and the started
/// observation `__observe` with its span.
fn prologue(spec: &AnnotatedFn, exit: TokenStream) -> TokenStream {
    let p = private();
    let statics = meta::statics(spec);
    let self_type = meta::self_type(spec);
    let labels::Labels {
        items: label_items,
        value: labels,
    } = labels::evaluate(spec);
    let span = span::open(spec);
    // When nothing listens, the labels are not evaluated and no clock is read.
    quote! {
        #statics
        #label_items
        #[allow(unused_mut)]
        let mut __observe = if #p::Observation::listening() {
            #p::Observation::start(&__OBSERVE_SITE, #self_type, #labels, #exit)
        } else {
            ::core::option::Option::None
        };
        #span
    }
}

/// The declared return type as a `let` can write it: `impl Trait` and `!`
/// become `_`.
fn declared_type(output: Option<&Type>) -> TokenStream {
    match output {
        Some(ty) => {
            let mut ty = ty.clone();
            InferOpaque.visit_type_mut(&mut ty);
            quote!(#ty)
        }
        None => quote!(()),
    }
}

/// An unreachable `return` of the declared type, first in an async body
/// and outside the user's block: it fixes the async block's output type,
/// so `?` and early `return` infer as they did in the original function.
fn fake_return(output: Option<&Type>) -> TokenStream {
    let span = output.map_or_else(proc_macro2::Span::call_site, |ty| ty.span());
    let ty = declared_type(output);
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

/// Where the rebinding goes.
#[derive(Clone, Copy, PartialEq)]
enum Body {
    /// First in the async block, as rustc's own lowering of an `async fn`
    /// moves the arguments in: they drop after the body's locals and in
    /// reverse order, as in the plain `async fn`.
    Async,
    /// After the observation started and recorded the arguments, before
    /// the body: a parameter the body never uses is still reported
    /// `unused_variables` (the span read the parameter, not the binding
    /// the body sees). They drop at the function's end, after the
    /// completion was recorded, as the parameters did. Only the plain-name
    /// arguments after the last pattern argument (`(a, b): (u8, u8)`, `_`)
    /// are rebound: locals drop before parameters, so rebinding any other
    /// would change the order the arguments drop in.
    Sync,
}

/// `let a = a;` for the arguments taken by value (see [`Body`]), in
/// order, under their `#[cfg]`s. `mut` and the argument's lint attributes
/// (`#[allow(unused_variables)]`, `#[expect(..)]`) move from the signature
/// to the rebinding, the user's own tokens, so the lints still point at
/// them and still see them.
fn rebind_arguments(spec: &AnnotatedFn, function: &mut ItemFn, body: Body) -> TokenStream {
    let plain = |input: &FnArg| match input {
        FnArg::Typed(typed) => matches!(
            &*typed.pat,
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none()
        ),
        FnArg::Receiver(_) => false,
    };
    let inputs = function.sig.inputs.len();
    let first_rebound = match body {
        Body::Async => 0,
        Body::Sync => {
            inputs
                - function
                    .sig
                    .inputs
                    .iter()
                    .rev()
                    .take_while(|input| plain(input))
                    .count()
        }
    };
    let mut moved = Vec::new();
    for input in function.sig.inputs.iter_mut().skip(first_rebound) {
        if let FnArg::Typed(typed) = input
            && let Pat::Ident(pat) = &mut *typed.pat
            && pat.by_ref.is_none()
            && pat.subpat.is_none()
        {
            let (lints, kept) =
                std::mem::take(&mut typed.attrs)
                    .into_iter()
                    .partition(|attr: &syn::Attribute| {
                        ["allow", "expect", "warn", "deny", "forbid"]
                            .iter()
                            .any(|lint| attr.path().is_ident(lint))
                    });
            typed.attrs = kept;
            moved.push((pat.ident.clone(), pat.mutability.take(), lints));
        }
    }
    let named = named_by_attribute(spec);
    let mut rebinds = TokenStream::new();
    for (ident, mutability, lints) in &moved {
        let cfg = spec
            .params
            .iter()
            .find(|param| param.binding.ident == *ident && !param.binding.is_self)
            .map(|param| param.binding.cfg.clone())
            .unwrap_or_default();
        // An `_name` the user marked unused is still moved, so it drops
        // where it would: clippy's pedantic underscore lints must not see
        // that move as a use.
        let underscore = ident.to_string().starts_with('_').then(|| {
            quote!(
                clippy::used_underscore_binding,
                clippy::no_effect_underscore_binding,
            )
        });
        rebinds.extend(quote! {
            #(#cfg)*
            #(#lints)*
            #[allow(#underscore clippy::redundant_locals)]
            let #mutability #ident = #ident;
        });
        // The attribute is the user's code: an argument it names
        // (`labels(tier = tier)`, `fields(..)`, `hash(email)`) is used.
        if named.contains(&ident.to_string()) {
            rebinds.extend(quote! {
                #(#cfg)*
                let _ = &#ident;
            });
        }
    }
    rebinds
}

/// The names the attribute's own expressions and lists mention: label and
/// field values, `hash(...)` and `redact(...)`.
fn named_by_attribute(spec: &AnnotatedFn) -> Vec<String> {
    fn idents(tokens: TokenStream, out: &mut Vec<String>) {
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Ident(ident) => out.push(ident.to_string()),
                proc_macro2::TokenTree::Group(group) => idents(group.stream(), out),
                _ => {}
            }
        }
    }
    let mut names = Vec::new();
    for label in &spec.labels {
        if let LabelValue::Expr(expr) = &label.value {
            idents(quote!(#expr), &mut names);
        }
    }
    for field in &spec.fields {
        let value = &field.value;
        idents(quote!(#value), &mut names);
    }
    for param in &spec.params {
        if matches!(param.recording, Recording::Hashed | Recording::Redacted) {
            names.push(param.binding.ident.to_string());
        }
    }
    names
}

/// The `Output = X` of `impl Future<Output = X>`.
fn future_output(ty: &Type) -> Option<Type> {
    let Type::ImplTrait(imp) = ty else {
        return None;
    };
    imp.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(trait_bound) = bound else {
            return None;
        };
        let segment = trait_bound.path.segments.last()?;
        let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::AssocType(assoc) if assoc.ident == "Output" => {
                Some(assoc.ty.clone())
            }
            _ => None,
        })
    })
}

/// `impl Future<Output = ..>` (with any other bounds).
fn returns_impl_future(ty: &Type) -> bool {
    let Type::ImplTrait(imp) = ty else {
        return false;
    };
    imp.bounds.iter().any(|bound| match bound {
        TypeParamBound::Trait(trait_bound) => trait_bound
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Future"),
        _ => false,
    })
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

#[cfg(test)]
mod tests {
    use quote::quote;

    fn expanded(item: proc_macro2::TokenStream) -> String {
        crate::expand::observe(quote!(), item).to_string()
    }

    /// `fn assert_send<T: Send>() {}` gets no clippy warning plain, so it
    /// gets none annotated; a body, or an async fn, has the lint as it was.
    #[test]
    fn an_empty_body_keeps_clippys_exemption() {
        let exemption = "extra_unused_type_parameters";
        assert!(
            expanded(quote!(
                fn assert_send<T: Send>() {}
            ))
            .contains(exemption)
        );
        assert!(
            !expanded(quote!(
                fn f<T: Send>() {
                    let _x = 1;
                }
            ))
            .contains(exemption)
        );
        assert!(
            !expanded(quote!(
                async fn f<T: Send>() {}
            ))
            .contains(exemption)
        );
    }
}
