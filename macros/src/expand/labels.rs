//! `labels(...)`: evaluated once at entry, by reference, into the label
//! values and the index of their combination (which selects the cached
//! metric handles). The cardinality budget is enforced here, at compile
//! time: in a `const` item when every label type can be named (so even
//! `cargo check` fails), otherwise in an inline `const` of the generic
//! helper that receives the label values (so `cargo build` fails).

use observe_attr::model::{AnnotatedFn, LabelValue};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::private;

/// Statements binding `__observe_combos`, `__observe_combo` and
/// `__observe_labels`.
pub fn evaluate(spec: &AnnotatedFn) -> TokenStream {
    let p = private();
    let count = spec.labels.len();
    if count == 0 {
        return quote! {
            let (__observe_combos, __observe_combo, __observe_labels): (usize, usize, [&'static str; 0]) = (1, 0, []);
        };
    }
    let function = spec.name.display();
    let keys: Vec<&String> = spec.labels.iter().map(|l| &l.key).collect();
    let max_series = spec.max_series as usize;
    let budget_span = spec
        .labels
        .first()
        .map_or_else(Span::call_site, |l| l.key_span);

    let mut generics = Vec::new();
    let mut params = Vec::new();
    let mut call_args = Vec::new();
    let mut cards = Vec::new();
    let mut indices = Vec::new();
    let mut values = Vec::new();
    for (position, label) in spec.labels.iter().enumerate() {
        match &label.value {
            LabelValue::Literal(text) => {
                cards.push(quote!(1usize));
                indices.push(quote!(0usize));
                values.push(quote!(#text));
            }
            LabelValue::Expr(expr) => {
                let ty = format_ident!("L{}", position);
                let param = format_ident!("l{}", position);
                generics.push(quote!(#ty: ?::core::marker::Sized + #p::Label));
                params.push(quote!(#param: &#ty));
                call_args.push(quote_spanned!(expr.span()=> &(#expr)));
                cards.push(quote!(<#ty as #p::Label>::CARDINALITY));
                indices.push(quote!(#p::Label::label_index(#param)));
                values.push(quote!(#p::Label::label(#param)));
            }
        }
    }

    if spec.labels_nameable() {
        return evaluate_named(spec, &function, &keys, max_series, budget_span);
    }
    // Evaluated when the function is monomorphised: `cargo build` fails.
    let budget = quote_spanned! {budget_span=>
        const { #p::budget::check(#function, &[#(#keys),*], &[#(#cards),*], #max_series) };
    };
    quote! {
        #[inline(always)]
        fn __observe_labels<#(#generics),*>(#(#params),*) -> (usize, usize, [&'static str; #count]) {
            #budget
            let cards: [usize; #count] = [#(#cards),*];
            let indices: [usize; #count] = [#(#indices),*];
            let mut combo = 0usize;
            let mut k = 0usize;
            while k < #count {
                combo = combo * cards[k] + indices[k];
                k += 1;
            }
            (#p::budget::combinations(&cards), combo, [#(#values),*])
        }
        let (__observe_combos, __observe_combo, __observe_labels) = __observe_labels(#(#call_args),*);
    }
}

/// Every label is a literal or an argument of a nameable type: the budget
/// is a `const` item (so `cargo check` fails), and the values are read
/// through `<Type as Label>`, every use spanned on the argument so a type
/// that is not a `Label` gives one error.
fn evaluate_named(
    spec: &AnnotatedFn,
    function: &str,
    keys: &[&String],
    max_series: usize,
    budget_span: Span,
) -> TokenStream {
    let p = private();
    let count = spec.labels.len();
    let mut cards = Vec::new();
    let mut indices = Vec::new();
    let mut values = Vec::new();
    for label in &spec.labels {
        match (&label.value, &label.declared_type) {
            (LabelValue::Expr(expr), Some(ty)) => {
                let span = expr.span();
                cards.push(quote_spanned!(span=> <#ty as #p::Label>::CARDINALITY));
                indices.push(quote_spanned!(span=> <#ty as #p::Label>::label_index(&#expr)));
                values.push(quote_spanned!(span=> <#ty as #p::Label>::label(&#expr)));
            }
            (LabelValue::Literal(text), _) => {
                cards.push(quote!(1usize));
                indices.push(quote!(0usize));
                values.push(quote!(#text));
            }
            (LabelValue::Expr(_), None) => {
                unreachable!("labels_nameable() checked every expression")
            }
        }
    }
    let budget = quote_spanned! {budget_span=>
        const _: () = #p::budget::check(#function, &[#(#keys),*], &[#(#cards),*], #max_series);
    };
    quote! {
        #budget
        let (__observe_combos, __observe_combo, __observe_labels) = {
            let cards: [usize; #count] = [#(#cards),*];
            let indices: [usize; #count] = [#(#indices),*];
            let mut combo = 0usize;
            for k in 0..#count {
                combo = combo * cards[k] + indices[k];
            }
            let values: [&'static str; #count] = [#(#values),*];
            (#p::budget::combinations(&cards), combo, values)
        };
    }
}
