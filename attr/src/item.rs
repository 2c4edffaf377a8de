//! The annotated item: which shapes `#[observe]` instruments, which it
//! refuses (with the reason), and the argument names a signature binds.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{FnArg, Ident, Item, ItemFn, ItemImpl, Pat, Signature, Type};

/// What `#[observe]` was put on.
pub enum Target {
    /// A function or method with a body.
    Fn(ItemFn),
    /// An `impl` block: every method with a body is instrumented.
    Impl(ItemImpl),
}

/// Why an item is not instrumented.
pub enum Refusal {
    /// A shape `#[observe]` cannot instrument, with the error to show.
    Unsupported(syn::Error),
    /// Tokens that do not parse (code being written): the compiler's own
    /// syntax error says more than we could.
    Unreadable,
}

/// Reads the annotated item. Refused shapes get an error pointing at them.
pub fn classify(tokens: TokenStream) -> Result<Target, Refusal> {
    // A method in a trait definition without a default body.
    if let Ok(method) = syn::parse2::<syn::TraitItemFn>(tokens.clone())
        && method.default.is_none()
    {
        return Err(Refusal::Unsupported(syn::Error::new_spanned(
            &method.sig,
            "#[observe] needs a function body to instrument, and this trait method has none; \
                 put #[observe] on the method in each impl (or on the impl block) instead",
        )));
    }
    if let Ok(item) = syn::parse2::<Item>(tokens.clone()) {
        return match item {
            Item::Fn(function) => Ok(Target::Fn(function)),
            Item::Impl(block) => Ok(Target::Impl(block)),
            other => Err(Refusal::Unsupported(refuse_item(&other))),
        };
    }
    // A function inside an impl block may carry `default`, which `Item` rejects.
    if let Ok(method) = syn::parse2::<syn::ImplItemFn>(tokens.clone()) {
        return Ok(Target::Fn(ItemFn {
            attrs: method.attrs,
            vis: method.vis,
            sig: method.sig,
            block: Box::new(method.block),
            modifiers: method.modifiers,
        }));
    }
    Err(Refusal::Unreadable)
}

fn pair(keyword: &impl ToTokens, ident: &Ident) -> TokenStream {
    let mut tokens = keyword.to_token_stream();
    ident.to_tokens(&mut tokens);
    tokens
}

fn refuse_item(item: &Item) -> syn::Error {
    let (what, tokens): (&str, TokenStream) = match item {
        Item::Struct(s) => ("a struct", pair(&s.struct_token, &s.ident)),
        Item::Enum(e) => ("an enum", pair(&e.enum_token, &e.ident)),
        Item::Union(u) => ("a union", pair(&u.union_token, &u.ident)),
        Item::Trait(t) => ("a trait definition", pair(&t.trait_token, &t.ident)),
        Item::Const(c) => ("a const", pair(&c.const_token, &c.ident)),
        Item::Static(s) => ("a static", pair(&s.static_token, &s.ident)),
        Item::Mod(m) => ("a module", pair(&m.mod_token, &m.ident)),
        Item::Type(t) => ("a type alias", pair(&t.type_token, &t.ident)),
        Item::Use(u) => ("a use declaration", u.use_token.to_token_stream()),
        Item::ForeignMod(f) => ("an extern block", f.abi.to_token_stream()),
        Item::Macro(m) => ("a macro invocation", m.mac.path.to_token_stream()),
        other => ("this item", other.to_token_stream()),
    };
    syn::Error::new_spanned(
        tokens,
        format!(
            "#[observe] cannot be applied to {what}: it instruments functions, methods and impl blocks; \
             put it on the function whose calls you want to observe"
        ),
    )
}

/// Refuses function shapes that cannot carry the instrumentation.
pub fn check_signature(sig: &Signature) -> syn::Result<()> {
    if let Some(token) = &sig.constness {
        return Err(syn::Error::new_spanned(
            token,
            "#[observe] cannot instrument a `const fn`: spans, clocks and metrics do not exist during \
             const evaluation; remove `const`, or move #[observe] to a non-const caller",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            variadic,
            "#[observe] cannot instrument a C-variadic function; wrap it in a non-variadic function and observe that",
        ));
    }
    Ok(())
}

/// An argument binding of the signature.
#[derive(Clone, Debug)]
pub struct Binding {
    /// The bound name.
    pub ident: Ident,
    /// The declared type, when the binding is the whole argument
    /// (`x: T`); `None` for a name inside a pattern or for `self`.
    pub ty: Option<Type>,
    /// The receiver.
    pub is_self: bool,
    /// The struct field a destructuring pattern binds it from
    /// (`password` in `Login { password: pw }`).
    pub field: Option<String>,
    /// The argument's `#[cfg(...)]`/`#[cfg_attr(...)]` attributes: it may
    /// be configured out, so generated code names it only under them.
    pub cfg: Vec<syn::Attribute>,
    /// Bound with `mut`.
    pub mutable: bool,
    /// Bound with `ref` (or inside a pattern): not rebound by value.
    pub by_ref: bool,
}

/// Every name the signature binds, in order, looking inside patterns
/// such as `(a, b): (u32, u32)`.
pub fn bindings(sig: &Signature) -> Vec<Binding> {
    let mut out = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => out.push(Binding {
                ident: Ident::new("self", receiver.self_token.span),
                ty: None,
                is_self: true,
                field: None,
                cfg: cfg_attrs(&receiver.attrs),
                mutable: false,
                by_ref: true,
            }),
            FnArg::Typed(typed) => {
                let cfg = cfg_attrs(&typed.attrs);
                match &*typed.pat {
                    Pat::Ident(pat) if pat.subpat.is_none() => out.push(Binding {
                        ident: pat.ident.clone(),
                        ty: Some((*typed.ty).clone()),
                        is_self: pat.ident == "self",
                        field: None,
                        cfg,
                        mutable: pat.mutability.is_some(),
                        by_ref: pat.by_ref.is_some(),
                    }),
                    other => collect_pattern(other, None, &cfg, &mut out),
                }
            }
        }
    }
    out
}

fn cfg_attrs(attrs: &[syn::Attribute]) -> Vec<syn::Attribute> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr"))
        .cloned()
        .collect()
}

fn collect_pattern(
    pat: &Pat,
    field: Option<String>,
    cfg: &[syn::Attribute],
    out: &mut Vec<Binding>,
) {
    let mut each = |p: &Pat| collect_pattern(p, None, cfg, out);
    match pat {
        Pat::Ident(p) => {
            out.push(Binding {
                ident: p.ident.clone(),
                ty: None,
                is_self: false,
                field,
                cfg: cfg.to_vec(),
                mutable: p.mutability.is_some(),
                by_ref: true,
            });
            if let Some((_, sub)) = &p.subpat {
                collect_pattern(sub, None, cfg, out);
            }
        }
        Pat::Tuple(t) => t.elems.iter().for_each(&mut each),
        Pat::TupleStruct(t) => t.elems.iter().for_each(&mut each),
        Pat::Struct(s) => s.fields.iter().for_each(|f| {
            let name = match &f.member {
                syn::Member::Named(ident) => {
                    Some(ident.to_string().trim_start_matches("r#").to_string())
                }
                syn::Member::Unnamed(_) => None,
            };
            collect_pattern(&f.pat, name, cfg, out)
        }),
        Pat::Slice(s) => s.elems.iter().for_each(&mut each),
        Pat::Reference(r) => collect_pattern(&r.pat, field, cfg, out),
        Pat::Type(t) => collect_pattern(&t.pat, field, cfg, out),
        Pat::Paren(p) => collect_pattern(&p.pat, field, cfg, out),
        _ => {}
    }
}

/// Whether `path` is one of `candidates`, each given as its segments
/// (`&["tracing", "instrument"]`).
pub fn path_is(path: &syn::Path, candidates: &[&[&str]]) -> bool {
    candidates.iter().any(|candidate| {
        path.segments.len() == candidate.len()
            && path
                .segments
                .iter()
                .zip(*candidate)
                .all(|(s, c)| s.ident == c)
    })
}

/// `#[observe]`, `#[observe(...)]`, `#[observe::observe(...)]`.
pub fn is_observe_attr(attr: &syn::Attribute) -> bool {
    path_is(attr.path(), &[&["observe"], &["observe", "observe"]])
}

/// Whether `path` ends with the segments `suffix` (`::std::boxed::Box::pin`
/// ends with `["Box", "pin"]`).
pub fn path_ends_with(path: &syn::Path, suffix: &[&str]) -> bool {
    path.segments.len() >= suffix.len()
        && path
            .segments
            .iter()
            .rev()
            .zip(suffix.iter().rev())
            .all(|(segment, name)| segment.ident == name)
}
