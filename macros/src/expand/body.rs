//! A synchronous body runs inline, in a labeled block, so that
//! `#[track_caller]`, borrows of arguments, drop order and lints stay the
//! plain function's (a closure would change all four). Every way out of
//! the block that the expansion can see comes back through the
//! observation: `return e` becomes `break 'label e`, and `expr?` becomes a
//! `match` that breaks with the residual, through the runtime's mirror of
//! the standard `Try` traits. Nested closures, async blocks and items keep
//! their own `return` and `?`; a `return` hidden inside a macro call still
//! leaves the function directly, and the observation's drop guard records
//! that exit.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, ExprBreak, ExprMatch, Item, Lifetime, Token};

use super::private_at;

/// The label of the body's block.
pub fn label() -> Lifetime {
    Lifetime::new("'__observe_body", Span::call_site())
}

/// Rewrites the `return`s and `?`s of `block` that belong to the function.
pub fn redirect_exits(block: &mut Block) {
    Exits { label: label() }.visit_block_mut(block);
}

struct Exits {
    label: Lifetime,
}

impl VisitMut for Exits {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            // Their `return` and `?` are their own.
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) | Expr::Macro(_) => {}
            Expr::Return(ret) => {
                if let Some(value) = ret.expr.as_mut() {
                    self.visit_expr_mut(value);
                }
                // Its attributes (`#[cfg(...)]`) stay on the `break`.
                *expr = Expr::Break(ExprBreak {
                    attrs: std::mem::take(&mut ret.attrs),
                    break_token: Token![break](ret.return_token.span),
                    label: Some(self.label.clone()),
                    expr: ret.expr.take(),
                });
            }
            Expr::Try(try_expr) => {
                self.visit_expr_mut(&mut try_expr.expr);
                let template = question_mark(&self.label, try_expr.span());
                if let Ok(mut parsed) = syn::parse2::<ExprMatch>(template) {
                    // The operand goes in as a tree: parsing it again would
                    // cost as much as the user's code, once per `?` it nests.
                    if let Expr::Call(call) = &mut *parsed.expr
                        && let Some(slot) = call.args.first_mut()
                    {
                        let operand = std::mem::replace(&mut *try_expr.expr, Expr::PLACEHOLDER);
                        *slot = unbraced(operand);
                        parsed.attrs = std::mem::take(&mut try_expr.attrs);
                        // Its last token at the `?`: rustc then sees it span
                        // the whole `x?` (a lint's fix of `(x?)` removes the
                        // parentheses, not the `?`).
                        parsed.brace_token = syn::token::Brace(try_expr.question_token.span);
                        *expr = Expr::Match(parsed);
                    }
                }
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_item_mut(&mut self, _: &mut Item) {}
}

/// A block operand of `?` (`{ x }?`) as the argument of the branch call
/// would be linted `unused_braces` (a function argument), which it is not
/// as the operand of `?`: it goes in as `({ x },).0`, the same value, which
/// rustc does not lint.
fn unbraced(operand: Expr) -> Expr {
    match operand {
        Expr::Block(block) if block.label.is_none() && block.attrs.is_empty() => {
            let span = block.span();
            let mut elems = syn::punctuated::Punctuated::new();
            elems.push(Expr::Block(block));
            elems.push_punct(Token![,](span));
            Expr::Field(syn::ExprField {
                attrs: Vec::new(),
                base: Box::new(Expr::Tuple(syn::ExprTuple {
                    attrs: Vec::new(),
                    paren_token: syn::token::Paren(span),
                    elems,
                })),
                dot_token: Token![.](span),
                member: syn::Member::Unnamed(syn::Index { index: 0, span }),
            })
        }
        other => other,
    }
}

/// `expr?` as a `break` out of the body with the residual.
/// The operand's place is taken by `()`, replaced by the caller.
fn question_mark(label: &Lifetime, span: Span) -> TokenStream {
    // At the `?`'s span, so a `#[track_caller]` `From` sees the `?` as
    // its caller.
    let p = private_at(span);
    quote_spanned! {span=>
        match #p::Branch::observe_branch(()) {
            ::core::ops::ControlFlow::Continue(__observe_value) => __observe_value,
            ::core::ops::ControlFlow::Break(__observe_residual) => {
                break #label #p::FromResidual::observe_from_residual(__observe_residual)
            }
        }
    }
}
