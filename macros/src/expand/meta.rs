//! The per-function statics: the description (`SiteMeta`), the call site
//! that holds the run-time call sites and metric handles, and the catalog
//! entry.

use observe_attr::model::{AnnotatedFn, FunctionName};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{private, span};

/// `static` items declared at the top of the instrumented body.
pub fn statics(spec: &AnnotatedFn) -> TokenStream {
    let p = private();
    let flow = &spec.flow;
    let (function, qualified) = match &spec.name {
        FunctionName::Static(name) => (name.as_str(), false),
        FunctionName::SelfQualified(method) => (method.as_str(), true),
    };
    let keys = spec.labels.iter().map(|l| &l.key);
    let level = format_ident!("{}", spec.level.const_name());
    let slow = option(spec.slow_us.map(|us| quote!(#us)));
    let sample = option(spec.sample.map(|s| quote!(#s)));
    let slo = option(spec.slo.as_ref().map(|slo| {
        let availability = option(slo.availability.map(|a| quote!(#a)));
        let latency = option(slo.latency_us.map(|l| quote!(#l)));
        let percentile = option(slo.percentile.map(|p| quote!(#p)));
        quote!(#p::SloMeta { availability: #availability, latency_us: #latency, percentile: #percentile })
    }));
    let max_series = spec.max_series;
    let fields = span::field_names(spec);
    quote! {
        static __OBSERVE_META: #p::SiteMeta = #p::SiteMeta {
            flow: #flow,
            function: #function,
            qualified_at_runtime: #qualified,
            module: ::core::module_path!(),
            file: ::core::file!(),
            line: ::core::line!(),
            label_keys: &[#(#keys),*],
            level: #p::Level::#level,
            slow_us: #slow,
            sample: #sample,
            slo: #slo,
            max_series: #max_series,
            span_fields: &[#(#fields),*],
        };
        static __OBSERVE_SITE: #p::CallSite = #p::CallSite::new(&__OBSERVE_META);
        #p::inventory::submit! { #p::FunctionInfo { meta: &__OBSERVE_META } }
    }
}

fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// The `Option<fn() -> &'static str>` naming `Self` for methods annotated on
/// their own.
pub fn self_type(spec: &AnnotatedFn) -> TokenStream {
    match spec.name {
        FunctionName::SelfQualified(_) => quote! {
            ::core::option::Option::Some((|| ::core::any::type_name::<Self>()) as fn() -> &'static str)
        },
        FunctionName::Static(_) => quote!(::core::option::Option::None),
    }
}
