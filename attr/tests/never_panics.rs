//! The parse and validation stages return errors on any input, never panic:
//! random token soup, mutations of valid attributes, and random item shapes.

use proc_macro2::TokenStream;
use proptest::prelude::*;

const VALID: &[&str] = &[
    r#"flow = "checkout", labels(tier = tier, region = "eu"), slow = "250ms", sample = 0.1"#,
    r#"name = "Cart::add", level = "debug", ret, skip(blob), redact(note), hash(email)"#,
    r#"fields(order.total = %total, note = ?note), slo(availability = 99.9, latency = "300ms", percentile = 99.0)"#,
    r#"skip_all, max_series = 512"#,
    r#"skip"#,
];

const PIECES: &[&str] = &[
    "flow",
    "name",
    "level",
    "labels",
    "fields",
    "skip",
    "skip_all",
    "redact",
    "hash",
    "ret",
    "slow",
    "sample",
    "slo",
    "max_series",
    "=",
    ",",
    "(",
    ")",
    "\"x\"",
    "\"250ms\"",
    "0.5",
    "12",
    "-1",
    "true",
    "%",
    "?",
    ".",
    "::",
    "availability",
    "latency",
    "percentile",
    "tier",
    "self",
    "r#type",
    "__x",
    "\"\"",
    "'a'",
    "b\"x\"",
    "[1]",
    "{}",
    "#",
    "!",
    "1e9",
    "\"1h\"",
    "\"Checkout\"",
    "user_id",
    "le",
    "format!(\"{}\", x)",
];

const ITEMS: &[&str] = &[
    "fn f(tier: u8, blob: Vec<u8>, note: &str, email: &str, total: u64) {}",
    "async fn f(&self, (a, b): (u32, u32)) -> Result<(), E> { Ok(()) }",
    "const fn f() {}",
    "struct S;",
    "fn f(",
    "impl S { fn g(&self) {} }",
    "fn f<T: Debug>(x: T, ...) where T: Clone {}",
    "",
];

fn analyze(args: &str, item: &str) {
    let Ok(args) = args.parse::<TokenStream>() else {
        return;
    };
    let Ok(item) = item.parse::<TokenStream>() else {
        return;
    };
    let _ = observe_attr::args::parse(args.clone());
    match observe_attr::item::classify(item) {
        Ok(observe_attr::item::Target::Fn(function)) => {
            let _ = observe_attr::analyze(args, &function.sig, &observe_attr::Context::default());
        }
        Ok(observe_attr::item::Target::Impl(_)) | Err(_) => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_token_soup(pieces in prop::collection::vec(prop::sample::select(PIECES), 0..24), item in prop::sample::select(ITEMS)) {
        analyze(&pieces.join(" "), item);
    }

    #[test]
    fn mutated_valid_attributes(
        base in prop::sample::select(VALID),
        cut in 0usize..200,
        insert in prop::sample::select(PIECES),
        item in prop::sample::select(ITEMS),
    ) {
        let mut text = base.to_string();
        let at = cut.min(text.len());
        let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.insert_str(at, &format!(" {insert} "));
        analyze(&text, item);
        analyze(&text[..at], item);
    }

    #[test]
    fn arbitrary_strings(args in ".{0,80}", item in ".{0,80}") {
        analyze(&args, &item);
    }
}

#[test]
fn valid_attributes_are_accepted() {
    let item: syn::ItemFn =
        syn::parse_str("fn f(tier: u8, blob: Vec<u8>, note: &str, email: &str, total: u64) {}")
            .unwrap();
    for args in &VALID[..4] {
        let result = observe_attr::analyze(
            args.parse().unwrap(),
            &item.sig,
            &observe_attr::Context::default(),
        );
        assert!(
            result.is_ok(),
            "{args}: {:?}",
            result.err().map(|e| e.to_string())
        );
    }
}
