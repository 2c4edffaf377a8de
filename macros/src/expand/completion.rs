//! The end of a call: the classifier that tells an `Err` from a success,
//! names its kind and message, and renders `ret`. It is generated at the
//! call site because the probes dispatch on the concrete type there; the
//! completion event itself is emitted by the runtime.

use observe_attr::model::AnnotatedFn;
use proc_macro2::TokenStream;
use quote::quote;

use super::private;

/// A closure `|&Output| -> (Outcome, Option<String>)`.
pub fn classifier(spec: &AnnotatedFn) -> TokenStream {
    let body = classify(spec);
    quote!(|__observe_value| #body)
}

/// A `&mut dyn FnMut() -> (Outcome, Option<String>)` reading the local
/// `__observe_value` (whose type is known by then, as the probes need).
pub fn classifier_of_local(spec: &AnnotatedFn) -> TokenStream {
    let body = classify(spec);
    quote!(&mut || { let __observe_value = &__observe_value; #body })
}

/// The classification of `__observe_value: &Output`.
fn classify(spec: &AnnotatedFn) -> TokenStream {
    let p = private();
    let ret = if spec.ret {
        quote!((&&&#p::Probe(__observe_value)).observe_return())
    } else {
        quote!(::core::option::Option::None)
    };
    quote! {
        {
            #[allow(unused_imports)]
            use #p::probe::*;
            (match (&&#p::Probe(__observe_value)).observe_error() {
                ::core::option::Option::Some(error) => #p::Outcome::error(
                    (&&#p::Probe(error)).observe_error_kind::<{ __OBSERVE_ERROR_ROOM }>(),
                    (&&&#p::Probe(error)).observe_error_message(),
                    error,
                ),
                ::core::option::Option::None => #p::Outcome::Ok,
            }, #ret)
        }
    }
}
