//! Recognising a method that `#[async_trait]` has already rewritten: its
//! signature carries async-trait's `'async_trait` lifetime, and its body is
//! `Box::pin(async move { ... })`. The observation must wrap that inner
//! future, not the call that merely creates it. Only the marker decides: a
//! hand-written `Box::pin(async move { .. })` body is an ordinary function.

use syn::{Block, Expr, ExprAsync, GenericParam, Signature, Stmt};

/// Whether `sig` is the output of `#[async_trait]`.
pub fn is_expansion(sig: &Signature) -> bool {
    sig.generics.params.iter().any(|param| match param {
        GenericParam::Lifetime(lifetime) => lifetime.lifetime.ident == "async_trait",
        _ => false,
    })
}

/// The `async move` block of an `#[async_trait]`-rewritten body.
pub fn boxed_async_body(block: &mut Block) -> Option<&mut ExprAsync> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = block.stmts.last_mut() else {
        return None;
    };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    if !observe_attr::item::path_ends_with(&path.path, &["Box", "pin"]) || call.args.len() != 1 {
        return None;
    }
    match call.args.first_mut() {
        Some(Expr::Async(inner)) if inner.capture.is_some() => Some(inner),
        _ => None,
    }
}
