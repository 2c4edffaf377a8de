//! `#[derive(Label)]`: an enum's variants as its label values.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr};

pub fn derive(input: TokenStream) -> TokenStream {
    match try_derive(input) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

fn try_derive(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let data = match &input.data {
        Data::Enum(data) => data,
        Data::Struct(s) => {
            return Err(syn::Error::new_spanned(
                s.struct_token,
                "`Label` can only be derived for enums: a struct's values are not a known, finite set; \
                 record it with `fields(...)`, or label with an enum field of it",
            ));
        }
        Data::Union(u) => {
            return Err(syn::Error::new_spanned(
                u.union_token,
                "`Label` can only be derived for enums, not unions",
            ));
        }
    };
    let mut values = Vec::new();
    let mut arms_label = Vec::new();
    let mut arms_index = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for (index, variant) in data.variants.iter().enumerate() {
        let value = match rename(&variant.attrs) {
            Ok(Some(name)) => name,
            Ok(None) => observe_attr::args::snake_case(&variant.ident.to_string()),
            Err(error) => {
                match &mut errors {
                    Some(all) => all.combine(error),
                    None => errors = Some(error),
                }
                continue;
            }
        };
        if let Some(previous) = values.iter().position(|v| v == &value) {
            let error = syn::Error::new_spanned(
                &variant.ident,
                format!(
                    "two variants have the label value \"{value}\" (the other is variant #{previous}); give one a `#[label(rename = \"...\")]`"
                ),
            );
            match &mut errors {
                Some(all) => all.combine(error),
                None => errors = Some(error),
            }
        }
        let ident = &variant.ident;
        let pattern = match &variant.fields {
            Fields::Unit => quote!(Self::#ident),
            Fields::Unnamed(_) => quote!(Self::#ident(..)),
            Fields::Named(_) => quote!(Self::#ident { .. }),
        };
        arms_label.push(quote!(#pattern => #value));
        arms_index.push(quote!(#pattern => #index));
        values.push(value);
    }
    if let Some(errors) = errors {
        return Err(errors);
    }
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::observe::Label for #name #ty_generics #where_clause {
            const VALUES: &'static [&'static str] = &[#(#values),*];

            fn label(&self) -> &'static str {
                match *self {
                    #(#arms_label,)*
                }
            }

            fn label_index(&self) -> usize {
                match *self {
                    #(#arms_index,)*
                }
            }
        }
    })
}

/// `#[label(rename = "...")]`.
fn rename(attrs: &[syn::Attribute]) -> syn::Result<Option<String>> {
    let mut renamed = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("label")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: LitStr = meta.value()?.parse()?;
                if value.value().is_empty() {
                    return Err(syn::Error::new_spanned(
                        &value,
                        "a label value cannot be empty",
                    ));
                }
                if renamed.is_some() {
                    return Err(meta.error("duplicate `rename`"));
                }
                renamed = Some(value.value());
                Ok(())
            } else {
                Err(meta.error(
                    "unknown `label` attribute; the only one is `#[label(rename = \"...\")]`",
                ))
            }
        })?;
    }
    Ok(renamed)
}
