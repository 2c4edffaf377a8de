//! What the macro emits when it cannot instrument: the errors beside the
//! item exactly as the user wrote it, so one mistake gives one error and
//! the rest of the crate (and IDE help) keeps working.

use proc_macro2::TokenStream;
use quote::quote;

pub fn with_original(original: TokenStream, error: syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    quote! {
        #errors
        #original
    }
}
