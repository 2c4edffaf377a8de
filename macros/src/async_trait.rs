//! Recognising a method that `#[async_trait]` has already rewritten: its body
//! is `Box::pin(async move { ... })`. The observation must wrap that inner
//! future, not the call that merely creates it.

use syn::{Block, Expr, ExprAsync, Stmt};

/// The `async move` block of an `#[async_trait]`-rewritten body.
pub fn boxed_async_body(block: &mut Block) -> Option<&mut ExprAsync> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = block.stmts.last_mut() else {
        return None;
    };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !segments.ends_with(&["Box".to_string(), "pin".to_string()]) || call.args.len() != 1 {
        return None;
    }
    match call.args.first_mut() {
        Some(Expr::Async(inner)) if inner.capture.is_some() => Some(inner),
        _ => None,
    }
}
