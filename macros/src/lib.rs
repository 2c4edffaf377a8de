//! Procedural macros of `observe`. Use them through the `observe` crate:
//! `#[observe::observe]` and `#[derive(observe::Label)]`.
//!
//! Each entry point runs parse -> model -> check (in `observe-attr`, shared
//! with `cargo observe`) -> expand, and on any error emits the errors beside
//! the untouched original item, so the rest of the crate still type-checks.

#![deny(missing_docs)]

mod async_trait;
mod expand;
mod fallback;
mod label_derive;

use proc_macro::TokenStream;

/// Instruments a function, method or `impl` block: a span, RED metrics and a
/// redacted completion log line per call. See the `observe` crate docs.
#[proc_macro_attribute]
pub fn observe(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::observe(args.into(), item.into()).into()
}

/// Implements `observe::Label` for an enum: each variant is one label value,
/// its name in snake_case unless `#[label(rename = "...")]` says otherwise.
#[proc_macro_derive(Label, attributes(label))]
pub fn derive_label(input: TokenStream) -> TokenStream {
    label_derive::derive(input.into()).into()
}

/// The macro never panics: every compile-fail case of `tests/ui/`, and
/// random attribute tokens on random item shapes, expand to tokens (with
/// errors where due), never to "custom attribute panicked".
#[cfg(test)]
mod never_panics {
    use proc_macro2::TokenStream;
    use proptest::prelude::*;
    use quote::ToTokens;

    fn expands(args: TokenStream, item: TokenStream) {
        let result =
            std::panic::catch_unwind(|| crate::expand::observe(args.clone(), item.clone()));
        assert!(
            result.is_ok(),
            "the macro panicked on #[observe({args})] {item}"
        );
    }

    /// Every `#[observe(...)]` item of a source file, expanded as rustc would.
    fn expand_file(source: &str) -> usize {
        let Ok(file) = syn::parse_file(source) else {
            return 0;
        };
        let mut count = 0;
        for mut item in file.items {
            let attrs = match &mut item {
                syn::Item::Fn(f) => &mut f.attrs,
                syn::Item::Impl(i) => &mut i.attrs,
                _ => continue,
            };
            let Some(at) = attrs.iter().position(observe_attr::item::is_observe_attr) else {
                continue;
            };
            let attr = attrs.remove(at);
            let args = match attr.meta {
                syn::Meta::List(list) => list.tokens,
                _ => TokenStream::new(),
            };
            expands(args, item.to_token_stream());
            count += 1;
        }
        count
    }

    #[test]
    fn every_ui_case_expands_without_panicking() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests");
        let mut count = 0;
        for sub in ["ui", "."] {
            for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "rs") {
                    count += expand_file(&std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        assert!(count > 100, "only {count} annotated items found");
    }

    const PIECES: &[&str] = &[
        "flow",
        "name",
        "labels",
        "fields",
        "skip",
        "hash",
        "redact",
        "ret",
        "slow",
        "sample",
        "slo",
        "max_series",
        "level",
        "=",
        ",",
        "(",
        ")",
        "\"x\"",
        "\"x-api-key\"",
        "r#type",
        "1",
        "0.5",
        "%",
        "?",
        ".",
        "a",
        "b",
        "self",
        "::",
        "'a",
        "#",
        "[",
        "]",
        "{",
        "}",
    ];

    const ITEMS: &[&str] = &[
        "fn f(a: u32, b: &str) -> Result<u32, E> { Ok(a) }",
        "async fn f(mut a: String) -> u32 { return 1; }",
        "fn f() -> ! { panic!() }",
        "fn f(#[cfg(any())] a: u32) {}",
        "fn f(Login { user, password: pw }: Login) -> impl Future<Output = u8> { async { 1 } }",
        "impl A { fn f(&self) -> u8 { self.0? } }",
        "fn f<'a, 'async_trait>(x: &'a u8) -> Pin<Box<dyn Future<Output = u8> + 'async_trait>> { Box::pin(async move { 1 }) }",
        "fn f() { || return 1; async { 2? }; }",
    ];

    fn tokens(picks: &[usize]) -> TokenStream {
        let text: Vec<&str> = picks.iter().map(|&i| PIECES[i % PIECES.len()]).collect();
        text.join(" ").parse().unwrap_or_default()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn random_attributes_on_every_shape(picks in prop::collection::vec(0usize..64, 0..24), item in 0usize..ITEMS.len()) {
            let item: TokenStream = ITEMS[item].parse().unwrap();
            expands(tokens(&picks), item);
        }

        #[test]
        fn random_items(picks in prop::collection::vec(0usize..64, 0..32)) {
            let mut text = String::from("fn f(");
            text.push_str(&tokens(&picks).to_string());
            text.push_str(") {}");
            if let Ok(item) = text.parse::<TokenStream>() {
                expands(TokenStream::new(), item);
            }
        }
    }
}
