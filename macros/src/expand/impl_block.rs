//! `#[observe]` on an `impl` block: every method with a body is observed,
//! named `Type::method`; a method's own `#[observe(...)]` adds to or
//! overrides the block's options, and `#[observe(skip)]` opts it out.

use observe_attr::{Args, Context};
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Attribute, ImplItem, ItemFn, ItemImpl, Meta, Type};

use super::function;

pub fn expand(args: TokenStream, mut block: ItemImpl) -> TokenStream {
    let original = block.to_token_stream();
    let base = match observe_attr::args::parse(args) {
        Ok(base) => base,
        Err(error) => return crate::fallback::with_original(original, error),
    };
    let context = Context {
        impl_type: type_name(&block.self_ty),
    };
    let mut errors = Vec::new();
    let items = std::mem::take(&mut block.items);
    for item in items {
        let ImplItem::Fn(mut method) = item else {
            block.items.push(item);
            continue;
        };
        let own = match take_observe_attr(&mut method.attrs) {
            Ok(own) => own,
            Err(error) => {
                errors.push(error);
                block.items.push(ImplItem::Fn(method));
                continue;
            }
        };
        let args = match &own {
            Some(own) if own.opt_out.is_some() => {
                block.items.push(ImplItem::Fn(method));
                continue;
            }
            Some(own) => own.over(&base),
            None => base.clone(),
        };
        let as_fn = ItemFn {
            attrs: method.attrs.clone(),
            vis: method.vis.clone(),
            modifiers: method.modifiers.clone(),
            sig: method.sig.clone(),
            block: Box::new(method.block.clone()),
        };
        match function::expand_parsed(&args, as_fn, &context) {
            // As tokens: parsing the rewritten method back would parse the
            // user's body a second time.
            Ok(tokens) => block.items.push(ImplItem::Verbatim(tokens)),
            Err(error) => {
                errors.push(error);
                block.items.push(ImplItem::Fn(method));
            }
        }
    }
    let errors = errors.into_iter().map(|e| e.to_compile_error());
    quote! {
        #(#errors)*
        #block
    }
}

/// Removes the method's own `#[observe(...)]`, returning its parsed options.
fn take_observe_attr(attrs: &mut Vec<Attribute>) -> syn::Result<Option<Args>> {
    let Some(position) = attrs.iter().position(observe_attr::item::is_observe_attr) else {
        return Ok(None);
    };
    let attr = attrs.remove(position);
    let tokens = match &attr.meta {
        Meta::Path(_) => TokenStream::new(),
        Meta::List(list) => list.tokens.clone(),
        Meta::NameValue(nv) => {
            return Err(syn::Error::new_spanned(
                nv,
                "write #[observe] or #[observe(option, ...)], not #[observe = ...]",
            ));
        }
    };
    if let Some(second) = attrs
        .iter()
        .find(|a| observe_attr::item::is_observe_attr(a))
    {
        return Err(syn::Error::new_spanned(
            second,
            "a method takes one #[observe(...)]; merge the options into one",
        ));
    }
    observe_attr::args::parse(tokens).map(Some)
}

/// `Cart` for `impl Cart`, `impl<T> Cart<T>` and `impl Trait for Cart`.
fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        Type::Reference(reference) => type_name(&reference.elem),
        Type::Paren(paren) => type_name(&paren.elem),
        _ => None,
    }
}
