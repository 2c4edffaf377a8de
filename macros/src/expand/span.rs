//! The call's span: observe's own fields (set by the runtime), then the
//! recorded arguments and `fields(...)`. The values are computed only when
//! a subscriber wants the span, and every user impl or expression they run
//! is guarded by the runtime, so recording never changes the call.

use observe_attr::args::FieldSigil;
use observe_attr::model::{AnnotatedFn, Recording};
use observe_attr::schema::SPAN_FIELDS;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::private;

/// The span's field names, in order, for the site's description.
pub fn field_names(spec: &AnnotatedFn) -> Vec<String> {
    // The runtime fills observe's own fields, first in every span.
    let mut names: Vec<String> = SPAN_FIELDS.iter().map(|s| s.to_string()).collect();
    names.extend(recorded(spec).map(|(name, _)| name));
    names
}

/// An argument the user named `_name` (marked unused) is recorded through
/// a reference taken beforehand under an `allow`: clippy's pedantic
/// `used_underscore_binding` must not see the recording as a use, and the
/// `allow` must cover nothing of the user's.
fn underscore_alias(ident: &syn::Ident) -> Option<syn::Ident> {
    let name = ident.to_string();
    name.starts_with('_')
        .then(|| quote::format_ident!("__observe_arg{}", name))
}

/// Opens the span on `__observe` when it is wanted.
pub fn open(spec: &AnnotatedFn) -> TokenStream {
    let p = private();
    let aliases: TokenStream = spec
        .params
        .iter()
        .filter(|param| matches!(param.recording, Recording::Value | Recording::Hashed))
        .filter_map(|param| {
            let ident = &param.ident;
            let alias = underscore_alias(ident)?;
            Some(quote! {
                #[allow(clippy::used_underscore_binding)]
                let #alias = &#ident;
            })
        })
        .collect();
    let values: Vec<TokenStream> = recorded(spec).map(|(_, value)| value).collect();
    if values.is_empty() {
        return quote! {
            if let ::core::option::Option::Some(__observe_open) = #p::Observation::wanting_span(&mut __observe) {
                __observe_open.open_span(&[]);
            }
        };
    }
    quote! {
        #aliases
        if let ::core::option::Option::Some(__observe_open) = #p::Observation::wanting_span(&mut __observe) {
            #[allow(unused_imports)]
            use #p::probe::*;
            __observe_open.open_span(&[#(#p::Recorded::value(&#values)),*]);
        }
    }
}

/// Each recorded argument and field: its name and the expression of its
/// `Recorded` value.
fn recorded(spec: &AnnotatedFn) -> impl Iterator<Item = (String, TokenStream)> + '_ {
    let p = private();
    let params = spec.params.iter().filter_map(move |param| {
        let ident = &param.ident;
        let reference = match underscore_alias(ident) {
            Some(alias) => quote!(#alias),
            None => quote_spanned!(ident.span()=> &#ident),
        };
        let value = match param.recording {
            Recording::Skipped => return None,
            Recording::Value => {
                quote_spanned!(ident.span()=> (&&&&#p::Probe(#reference)).observe_arg())
            }
            Recording::Redacted | Recording::RedactedByName => quote!(#p::Recorded::REDACTED),
            Recording::Hashed => {
                quote_spanned!(ident.span()=> (&&&#p::Probe(#reference)).observe_hash())
            }
        };
        Some((param.field_name.clone(), value))
    });
    let p = private();
    let fields = spec.fields.iter().map(move |field| {
        let expr = &field.value;
        let value = if field.redacted {
            quote!(#p::Recorded::REDACTED)
        } else {
            let record = match field.sigil {
                FieldSigil::Value => {
                    quote_spanned!(expr.span()=> (&&&&#p::Probe(&(#expr))).observe_arg())
                }
                FieldSigil::Display => quote_spanned!(expr.span()=> #p::field_display(&(#expr))),
                FieldSigil::Debug => quote_spanned!(expr.span()=> #p::field_debug(&(#expr))),
            };
            quote!(#p::field(|| #record))
        };
        (field.key.clone(), value)
    });
    params.chain(fields)
}
