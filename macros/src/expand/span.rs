//! The call's span: `flow`, `code.function`, `code.namespace`, the recorded
//! arguments and `fields(...)`, with `otel.status_code` and `error.type`
//! declared empty so the runtime can record them at exit. Field values are
//! inside `span!`, so they are only computed when a subscriber wants the span.

use observe_spec::args::FieldSigil;
use observe_spec::model::{FunctionName, Recording, Spec};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::private;

/// An expression creating the span.
pub fn create(spec: &Spec, self_type: &TokenStream) -> TokenStream {
    let p = private();
    let level = format_ident!("{}", spec.level.const_name());
    let name = spec.name.static_part();
    let otel_name = matches!(spec.name, FunctionName::SelfQualified(_))
        .then(|| quote!(otel.name = #p::CallSite::function(&__OBSERVE_SITE, #self_type),));
    let flow = &spec.flow;
    let args = spec.params.iter().filter_map(|param| {
        let field = field_name(&param.field_name, param.ident.span());
        let ident = &param.ident;
        let value = match param.recording {
            Recording::Skipped => return None,
            Recording::Value => quote_spanned!(ident.span()=> (&&&&#p::probe::Probe(&#ident)).observe_arg()),
            Recording::Redacted | Recording::RedactedByName => quote!(#p::REDACTED),
            Recording::Hashed => {
                quote_spanned!(ident.span()=> #p::probe::hashed((&&&#p::probe::Probe(&#ident)).observe_hash()))
            }
        };
        Some(quote!(#field = #value,))
    });
    let fields = spec.fields.iter().map(|field| {
        let key = field_name(&field.key, field.value.span());
        let expr = &field.value;
        let value = if field.redacted {
            quote!(#p::REDACTED)
        } else {
            match field.sigil {
                FieldSigil::Value => quote!(#expr),
                FieldSigil::Display => {
                    quote_spanned!(expr.span()=> #p::probe::field_display(&(#expr)))
                }
                FieldSigil::Debug => quote_spanned!(expr.span()=> #p::probe::field_debug(&(#expr))),
            }
        };
        quote!(#key = #value,)
    });
    quote! {{
        #[allow(unused_imports)]
        use #p::probe::{
            HashDebug as _, HashDisplay as _, HashNothing as _, RecordDebug as _, RecordNative as _,
            RecordNothing as _, RecordText as _,
        };
        #p::tracing::span!(
            target: ::core::module_path!(),
            #p::tracing::Level::#level,
            #name,
            flow = #flow,
            code.function = #p::CallSite::function(&__OBSERVE_SITE, #self_type),
            code.namespace = ::core::module_path!(),
            #otel_name
            otel.status_code = #p::tracing::field::Empty,
            error.type = #p::tracing::field::Empty,
            #(#args)*
            #(#fields)*
        )
    }}
}

/// A possibly dotted field name as `tracing` macro tokens (`order.total`).
fn field_name(name: &str, span: Span) -> TokenStream {
    let parts = name.split('.').map(|part| match part.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, span),
        None => Ident::new(part, span),
    });
    quote!(#(#parts).*)
}
