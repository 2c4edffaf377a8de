//! The call's span: `flow`, `code.function`, `code.namespace`, the recorded
//! arguments and `fields(...)`, with `otel.status_code` and `error.type`
//! declared empty so the runtime can record them at exit. Field values are
//! inside `span!`, so they are only computed when a subscriber wants the span.

use observe_attr::args::FieldSigil;
use observe_attr::model::{AnnotatedFn, FunctionName, Recording};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::private;

/// An expression creating the span.
pub fn create(spec: &AnnotatedFn, self_type: &TokenStream) -> TokenStream {
    let p = private();
    let level = format_ident!("{}", spec.level.const_name());
    let fields = fields(spec, self_type);
    let probes = quote! {
        #[allow(unused_imports)]
        use #p::probe::{
            HashDebug as _, HashDisplay as _, HashNothing as _, RecordDebug as _, RecordNative as _,
            RecordNothing as _, RecordText as _,
        };
    };
    if matches!(spec.name, FunctionName::SelfQualified(_)) {
        return run_time_named(&level, &fields, self_type, probes);
    }
    let name = spec.name.static_part();
    let pairs = fields
        .iter()
        .map(|(_, tokens, value)| quote!(#tokens = #value,));
    quote! {{
        #probes
        #p::tracing::span!(
            target: ::core::module_path!(),
            #p::tracing::Level::#level,
            #name,
            #(#pairs)*
        )
    }}
}

/// A method annotated on its own: its span is named `Type::method`, known
/// from `Self` at run time, through a call site built at first use.
fn run_time_named(
    level: &Ident,
    fields: &[(String, TokenStream, TokenStream)],
    self_type: &TokenStream,
    probes: TokenStream,
) -> TokenStream {
    let p = private();
    let names = fields.iter().map(|(name, _, _)| name);
    let count = fields.len();
    let values = fields.iter().enumerate().map(|(i, (_, _, value))| {
        quote!((&__observe_fields[#i], ::core::option::Option::Some(&(#value) as &dyn #p::tracing::field::Value)))
    });
    quote! {{
        #probes
        static __OBSERVE_SPAN: #p::SpanCallsite = #p::SpanCallsite::new(
            #p::tracing::Level::#level,
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
            &[#(#names),*],
        );
        match __OBSERVE_SPAN.enabled_metadata(#p::CallSite::function(&__OBSERVE_SITE, #self_type)) {
            ::core::option::Option::Some(metadata) => {
                let field_set = metadata.fields();
                let mut field_iter = field_set.iter();
                let __observe_fields: [#p::tracing::field::Field; #count] =
                    ::core::array::from_fn(|_| field_iter.next().expect("one field per name"));
                #p::tracing::Span::new(metadata, &field_set.value_set(&[#(#values),*]))
            }
            ::core::option::Option::None => #p::tracing::Span::none(),
        }
    }}
}

/// Every span field in order: its name, its tokens for `span!`, its value.
fn fields(spec: &AnnotatedFn, self_type: &TokenStream) -> Vec<(String, TokenStream, TokenStream)> {
    let p = private();
    let flow = &spec.flow;
    let mut out: Vec<(String, TokenStream, TokenStream)> = vec![
        ("flow".into(), quote!(flow), quote!(#flow)),
        (
            "code.function".into(),
            quote!(code.function),
            quote!(#p::CallSite::function(&__OBSERVE_SITE, #self_type)),
        ),
        (
            "code.namespace".into(),
            quote!(code.namespace),
            quote!(::core::module_path!()),
        ),
        (
            "otel.status_code".into(),
            quote!(otel.status_code),
            quote!(#p::tracing::field::Empty),
        ),
        (
            "error.type".into(),
            quote!(error.type),
            quote!(#p::tracing::field::Empty),
        ),
    ];
    for param in &spec.params {
        let ident = &param.ident;
        let value = match param.recording {
            Recording::Skipped => continue,
            Recording::Value => {
                quote_spanned!(ident.span()=> (&&&&#p::probe::Probe(&#ident)).observe_arg())
            }
            Recording::Redacted | Recording::RedactedByName => quote!(#p::REDACTED),
            Recording::Hashed => {
                quote_spanned!(ident.span()=> #p::probe::hashed((&&&#p::probe::Probe(&#ident)).observe_hash()))
            }
        };
        out.push((
            param.field_name.clone(),
            field_name(&param.field_name, ident.span()),
            value,
        ));
    }
    for field in &spec.fields {
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
        let name = field
            .key
            .split('.')
            .map(|part| part.trim_start_matches("r#"))
            .collect::<Vec<_>>()
            .join(".");
        out.push((name, field_name(&field.key, expr.span()), value));
    }
    out
}

/// A possibly dotted field name as `tracing` macro tokens (`order.total`).
fn field_name(name: &str, span: Span) -> TokenStream {
    let parts = name.split('.').map(|part| match part.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, span),
        None => Ident::new(part, span),
    });
    quote!(#(#parts).*)
}
