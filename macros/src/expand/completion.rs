//! The end of a call: the classifier that tells an `Err` from a success,
//! and the emitter of the completion event. The emitter is generated in the
//! user's module so the event's target and call site are theirs, and it
//! has one `event!` per severity because a `tracing` level is static.

use observe_attr::model::AnnotatedFn;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::private;

/// A nested `fn __observe_emit(&Completion)`.
pub fn emitter(spec: &AnnotatedFn) -> TokenStream {
    let p = private();
    let level = format_ident!("{}", spec.level.const_name());
    let event = |level: TokenStream| {
        quote! {
            #p::tracing::event!(
                target: ::core::module_path!(),
                #p::tracing::Level::#level,
                flow = completion.flow,
                function = completion.function,
                outcome = completion.outcome,
                duration_ms = completion.duration_ms,
                error.kind = completion.error_kind,
                error.message = completion.error_message,
                slow = completion.slow,
                return = completion.ret,
                message = completion.message,
            )
        }
    };
    let normal = event(quote!(#level));
    let warn = event(quote!(WARN));
    let error = event(quote!(ERROR));
    quote! {
        fn __observe_emit(completion: &#p::Completion<'_>) {
            match completion.severity {
                #p::Severity::Normal => #normal,
                #p::Severity::Warn => #warn,
                #p::Severity::Error => #error,
            }
        }
    }
}

/// A closure `|&Output| -> (Outcome, Option<String>)`.
pub fn classifier(spec: &AnnotatedFn) -> TokenStream {
    let p = private();
    let ret = if spec.ret {
        quote!((&&&#p::probe::Probe(__observe_value)).observe_return())
    } else {
        quote!(::core::option::Option::None)
    };
    quote! {
        |__observe_value| {
            #[allow(unused_imports)]
            use #p::probe::{
                ErrorOf as _, KindByLabel as _, KindDefault as _, MessageDebug as _, MessageDisplay as _,
                MessageTypeName as _, NoErrorOf as _, ReturnDebug as _, ReturnNothing as _, ReturnText as _,
            };
            let outcome = match (&&#p::probe::Probe(__observe_value)).observe_error() {
                ::core::option::Option::Some(error) => #p::Outcome::Error(#p::ErrorInfo {
                    kind: (&&#p::probe::Probe(error)).observe_error_kind(),
                    message: (&&&#p::probe::Probe(error)).observe_error_message(),
                    type_name: ::core::any::type_name_of_val(error),
                }),
                ::core::option::Option::None => #p::Outcome::Ok,
            };
            (outcome, #ret)
        }
    }
}
