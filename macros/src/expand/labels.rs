//! `labels(...)`: evaluated once at entry, by reference, into the call's
//! `LabelSet` (values folded into their types' declared values, and the
//! index of their combination). The cardinality budget is enforced here,
//! at compile time: in a `const` item when every label type can be named
//! (so even `cargo check` fails), otherwise in an inline `const` of a
//! generic helper that receives the label values (so `cargo build` fails).
//! The `flow_errors_total` budget is the room the labels leave for error
//! kinds, checked where the error type is known (see the runtime's
//! `KindByLabel`).

use observe_attr::model::{AnnotatedFn, LabelValue};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::private;

/// The label set of a call: the items it needs (the const
/// `__OBSERVE_ERROR_ROOM`, the budget check, a generic helper), and the
/// expression that evaluates it, which the expansion places where it runs
/// only when something listens.
pub struct Labels {
    pub items: TokenStream,
    pub value: TokenStream,
}

/// The label set of `spec`'s calls.
pub fn evaluate(spec: &AnnotatedFn) -> Labels {
    let p = private();
    if spec.labels.is_empty() {
        let max = spec.max_series as usize;
        return Labels {
            items: quote!(const __OBSERVE_ERROR_ROOM: usize = #max;),
            value: quote!(#p::LabelSet::EMPTY),
        };
    }
    let function = spec.name.display();
    let keys: Vec<&String> = spec.labels.iter().map(|l| &l.key).collect();
    let max_series = spec.max_series as usize;
    let budget_span = spec
        .labels
        .first()
        .map_or_else(Span::call_site, |l| l.key_span);

    if spec.labels_nameable() {
        let mut cards = Vec::new();
        let mut parts = Vec::new();
        for label in &spec.labels {
            match (&label.value, &label.declared_type) {
                (LabelValue::Expr(expr), Some(ty)) => {
                    let span = expr.span();
                    // Every use names `<Type as Label>` on the argument's
                    // span, so a type that is not a `Label` gives one error.
                    cards.push(quote_spanned!(span=> <#ty as #p::Label>::VALUES.len() + 1));
                    parts.push(quote_spanned! {span=>
                        #p::LabelPart::guarded(|| #p::LabelPart::from_index(
                            <#ty as #p::Label>::label_index(&(#expr)),
                            <#ty as #p::Label>::VALUES,
                            ::core::any::type_name::<#ty>(),
                        ))
                    });
                }
                (LabelValue::Literal(text), _) => {
                    cards.push(quote!(1usize));
                    parts.push(quote!(#p::LabelPart::literal(#text)));
                }
                (LabelValue::Expr(expr), None) => {
                    // Not reached: `labels_nameable` checked every expression.
                    cards.push(quote!(1usize));
                    parts.push(quote_spanned!(expr.span()=> #p::LabelPart::of(&(#expr))));
                }
            }
        }
        let budget = quote_spanned! {budget_span=>
            const _: () = #p::check(#function, &[#(#keys),*], &[#(#cards),*], #max_series);
            const __OBSERVE_ERROR_ROOM: usize = #p::error_room(&[#(#cards),*], #max_series);
        };
        return Labels {
            items: budget,
            value: quote!(#p::LabelSet::new(&[#(#parts),*])),
        };
    }

    // Some label type is generic: checked when the function is monomorphised.
    let mut generics = Vec::new();
    let mut params = Vec::new();
    let mut call_args = Vec::new();
    let mut cards = Vec::new();
    let mut parts = Vec::new();
    for (position, label) in spec.labels.iter().enumerate() {
        match &label.value {
            LabelValue::Literal(text) => {
                cards.push(quote!(1usize));
                parts.push(quote!(#p::LabelPart::literal(#text)));
            }
            LabelValue::Expr(expr) => {
                let ty = format_ident!("L{}", position);
                let param = format_ident!("l{}", position);
                generics.push(quote!(#ty: ?::core::marker::Sized + #p::Label));
                params.push(quote!(#param: &#ty));
                call_args.push(quote_spanned!(expr.span()=> &(#expr)));
                // `of` guards the type's `label_index`.
                cards.push(quote!(#p::cardinality::<#ty>()));
                parts.push(quote!(#p::LabelPart::of(#param)));
            }
        }
    }
    let budget = quote_spanned! {budget_span=>
        const { #p::check(#function, &[#(#keys),*], &[#(#cards),*], #max_series) };
    };
    Labels {
        items: quote! {
            // The error budget of a generic label set is enforced at run time.
            const __OBSERVE_ERROR_ROOM: usize = usize::MAX;
            #[inline(always)]
            fn __observe_labels<#(#generics),*>(#(#params),*) -> #p::LabelSet {
                #budget
                #p::LabelSet::new(&[#(#parts),*])
            }
        },
        value: quote!(#p::LabelSet::guarded_set(|| __observe_labels(#(#call_args),*))),
    }
}
