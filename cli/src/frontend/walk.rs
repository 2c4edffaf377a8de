//! The walk over one parsed file: tracks where it is (module, impl
//! block, enclosing statement) in a [`Context`] and hands each construct
//! to the rule that reads it.

use proc_macro2::{Span, TokenStream};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Expr, Token};

use crate::checks::{Context, attribute, labels, secrets};
use crate::observed::LabelEnum;

/// The syn visitor; the rules see only its [`Context`].
pub struct Walk<'a> {
    pub cx: Context<'a>,
}

impl Walk<'_> {
    fn with_anchor(&mut self, span: Option<Span>, f: impl FnOnce(&mut Self)) {
        let saved = self.cx.anchor;
        if let Some(span) = span {
            self.cx.anchor = self.cx.src.locate(span).line;
        }
        f(self);
        self.cx.anchor = saved;
    }

    /// Reads the arguments of a macro this linter does not know, looking
    /// for the calls it checks (a `counter!` inside `vec![...]`, a
    /// `KeyValue` inside `tokio::select!`).
    fn visit_unknown_macro(&mut self, tokens: &TokenStream) {
        if !crate::tokens::worth_reparsing(tokens) {
            return;
        }
        let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
        if let Ok(exprs) = syn::parse::Parser::parse2(parser, tokens.clone()) {
            for expr in &exprs {
                self.visit_expr(expr);
            }
            return;
        }
        if let Ok(stmts) = syn::parse::Parser::parse2(syn::Block::parse_within, tokens.clone()) {
            for stmt in &stmts {
                self.visit_stmt(stmt);
            }
        }
    }
}

/// The span of the first token of an expression, for the common shapes.
fn first_token(expr: &Expr) -> Option<Span> {
    Some(match expr {
        Expr::MethodCall(m) => return first_token(&m.receiver),
        Expr::Call(c) => return first_token(&c.func),
        Expr::Field(f) => return first_token(&f.base),
        Expr::Await(a) => return first_token(&a.base),
        Expr::Try(t) => return first_token(&t.expr),
        Expr::Assign(a) => return first_token(&a.left),
        Expr::Binary(b) => return first_token(&b.left),
        Expr::Index(i) => return first_token(&i.expr),
        Expr::Cast(c) => return first_token(&c.expr),
        Expr::Path(p) => p.path.segments.first()?.ident.span(),
        Expr::Macro(m) => m.mac.path.segments.first()?.ident.span(),
        Expr::Reference(r) => r.and_token.span,
        Expr::Return(r) => r.return_token.span,
        Expr::If(i) => i.if_token.span,
        Expr::Match(m) => m.match_token.span,
        Expr::Let(l) => l.let_token.span,
        _ => return None,
    })
}

impl<'ast> Visit<'ast> for Walk<'_> {
    fn visit_stmt(&mut self, stmt: &'ast syn::Stmt) {
        let first = match stmt {
            syn::Stmt::Local(local) => Some(local.let_token.span),
            syn::Stmt::Macro(m) => m.mac.path.segments.first().map(|s| s.ident.span()),
            syn::Stmt::Expr(expr, _) => first_token(expr),
            syn::Stmt::Item(_) => None,
        };
        self.with_anchor(first, |this| visit::visit_stmt(this, stmt));
    }

    fn visit_item(&mut self, item: &'ast syn::Item) {
        attribute::check_misplaced(&mut self.cx, item);
        visit::visit_item(self, item);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        let saved = std::mem::take(&mut self.cx.module);
        self.cx.module = format!(
            "{saved}::{}",
            item.ident.to_string().trim_start_matches("r#")
        );
        let saved_impl = self.cx.impl_cx.take();
        visit::visit_item_mod(self, item);
        self.cx.impl_cx = saved_impl;
        self.cx.module = saved;
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        let anchor = item_anchor(&item.attrs, item.sig.fn_token.span);
        self.with_anchor(Some(anchor), |this| {
            attribute::check_fn(&mut this.cx, &item.attrs, &item.sig, false);
            secrets::check_instrument(&mut this.cx, &item.attrs, &item.sig);
        });
        let saved_impl = self.cx.impl_cx.take();
        visit::visit_item_fn(self, item);
        self.cx.impl_cx = saved_impl;
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let saved = self.cx.impl_cx.take();
        let anchor = item_anchor(&item.attrs, item.impl_token.span);
        self.with_anchor(Some(anchor), |this| {
            this.cx.impl_cx = Some(attribute::impl_context(&mut this.cx, item));
        });
        visit::visit_item_impl(self, item);
        self.cx.impl_cx = saved;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        let anchor = item_anchor(&item.attrs, item.sig.fn_token.span);
        self.with_anchor(Some(anchor), |this| {
            attribute::check_fn(&mut this.cx, &item.attrs, &item.sig, true);
            secrets::check_instrument(&mut this.cx, &item.attrs, &item.sig);
        });
        let saved_impl = self.cx.impl_cx.take();
        visit::visit_impl_item_fn(self, item);
        self.cx.impl_cx = saved_impl;
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        let anchor = item_anchor(&item.attrs, item.sig.fn_token.span);
        self.with_anchor(Some(anchor), |this| {
            attribute::check_trait_fn(&mut this.cx, item);
            secrets::check_instrument(&mut this.cx, &item.attrs, &item.sig);
        });
        visit::visit_trait_item_fn(self, item);
    }

    fn visit_item_enum(&mut self, item: &'ast syn::ItemEnum) {
        if attribute::derives_label(&item.attrs) {
            self.cx.label_enums.push(LabelEnum {
                name: item.ident.to_string(),
                variants: item.variants.len() as u64,
            });
        }
        visit::visit_item_enum(self, item);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if mac.path.is_ident("macro_rules") {
            return;
        }
        // Inside a statement the statement's first line stays the anchor.
        let anchor = if self.cx.anchor == 0 {
            mac.path.segments.first().map(|s| s.ident.span())
        } else {
            None
        };
        let tokens = mac.tokens.clone();
        self.with_anchor(anchor, |this| {
            if labels::is_metrics_macro(&mac.path) {
                labels::check_metrics_macro(&mut this.cx, tokens);
            } else if let Some(kind) = secrets::tracing_macro(&mac.path) {
                secrets::check_tracing_macro(&mut this.cx, kind, tokens);
            } else if labels::is_prometheus_vec_macro(&mac.path) {
                labels::check_prometheus_macro(&mut this.cx, tokens.clone());
                this.visit_unknown_macro(&tokens);
            } else {
                this.visit_unknown_macro(&tokens);
            }
        });
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        labels::check_method_call(&mut self.cx, call);
        visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        labels::check_call(&mut self.cx, call);
        visit::visit_expr_call(self, call);
    }
}

/// Where an item's findings anchor for suppression comments: its first
/// attribute, else the given token.
fn item_anchor(attrs: &[syn::Attribute], fallback: proc_macro2::Span) -> proc_macro2::Span {
    attrs.first().map_or(fallback, |a| a.pound_token.span)
}
