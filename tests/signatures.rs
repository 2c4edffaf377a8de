//! The signature corpus: every function shape #[observe] supports, all
//! annotated, all called, all recording a call each.

mod support;

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use observe::{Label, observe};
use support::{capture, capture_async};

#[derive(Debug, Clone, Copy, PartialEq, Label)]
pub enum Kind {
    A,
    B,
}

/// Not Debug: recorded as nothing, never a compile error.
pub struct Opaque(u32);

#[derive(Debug)]
pub struct Point {
    x: i32,
    y: i32,
}

#[observe]
fn s01_unit() {}

#[observe]
fn s02_value(x: u32) -> u32 {
    x + 1
}

#[observe]
fn s03_generic<T: Debug + Clone>(value: T) -> T {
    value.clone()
}

#[observe]
fn s04_generic_no_debug<T>(value: T) -> T {
    value
}

#[observe]
fn s05_where<T>(items: Vec<T>) -> usize
where
    T: Clone,
{
    items.len()
}

#[observe]
fn s06_lifetime<'a>(text: &'a str) -> &'a str {
    &text[..1]
}

#[observe]
fn s07_elided(text: &str) -> &str {
    text.trim()
}

#[observe]
fn s08_impl_arg(items: impl IntoIterator<Item = u32>) -> u32 {
    items.into_iter().sum()
}

#[observe]
fn s09_impl_return(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[observe]
fn s10_tuple_pattern((a, b): (u32, u32)) -> u32 {
    a + b
}

#[observe]
fn s11_struct_pattern(Point { x, y }: Point) -> i32 {
    x * y
}

#[observe]
fn s12_mut_arg(mut total: u32) -> u32 {
    total += 1;
    total
}

#[observe]
unsafe fn s13_unsafe(pointer: *const u32) -> u32 {
    unsafe { *pointer }
}

#[observe]
fn s14_question(text: &str) -> Result<u32, std::num::ParseIntError> {
    let value: u32 = text.parse()?;
    Ok(value * 2)
}

#[observe]
fn s15_early_return(x: i32) -> &'static str {
    if x < 0 {
        return "negative";
    }
    "non-negative"
}

#[observe]
fn s16_io_result(path: &str) -> std::io::Result<usize> {
    if path.is_empty() {
        return Err(std::io::Error::other("empty"));
    }
    Ok(path.len())
}

#[observe]
fn s17_boxed_error(text: &str) -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
    Ok(text.parse::<u8>()?)
}

#[observe]
fn s18_non_debug(opaque: Opaque) -> u32 {
    opaque.0
}

#[observe]
fn s19_const_generic<const N: usize>(values: [u8; N]) -> usize {
    values.len() + N
}

#[observe]
extern "C" fn s20_extern_c(x: u32) -> u32 {
    x
}

#[observe]
fn s21_raw_ident(r#type: &str) -> usize {
    r#type.len()
}

#[observe]
fn s22_closure_return(base: u32) -> Box<dyn Fn(u32) -> u32> {
    Box::new(move |x| x + base)
}

#[observe]
fn s23_nested_item() -> u32 {
    fn helper() -> u32 {
        3
    }
    helper()
}

#[observe]
fn s24_recursive(n: u64) -> u64 {
    if n == 0 { 1 } else { n * s24_recursive(n - 1) }
}

#[observe]
fn s25_map(map: &mut HashMap<String, u32>, key: &str) -> Option<u32> {
    map.insert(key.to_string(), 1)
}

#[observe]
fn s26_never_returns_err(flag: bool) -> Result<bool, std::convert::Infallible> {
    Ok(flag)
}

#[observe]
async fn s27_async(x: u32) -> u32 {
    tokio::task::yield_now().await;
    x
}

#[observe]
async fn s28_async_generic<T: Send + Debug>(value: T) -> T {
    value
}

#[observe]
async fn s29_async_question(text: &str) -> Result<u32, std::num::ParseIntError> {
    let value: u32 = text.parse()?;
    tokio::task::yield_now().await;
    Ok(value)
}

#[observe]
async fn s30_async_early_return(x: i32) -> Result<i32, String> {
    if x < 0 {
        return Err("negative".into());
    }
    Ok(x)
}

#[observe]
async fn s31_async_borrow(text: &str) -> &str {
    text
}

pub struct Service {
    name: String,
    count: u32,
}

impl Service {
    #[observe]
    fn s32_new(name: &str) -> Self {
        Service {
            name: name.into(),
            count: 0,
        }
    }

    #[observe]
    fn s33_ref(&self) -> &str {
        &self.name
    }

    #[observe]
    fn s34_mut(&mut self) -> &mut u32 {
        self.count += 1;
        &mut self.count
    }

    #[observe]
    fn s35_by_value(self) -> String {
        self.name
    }

    // The shape under test; clippy says the same of the plain method.
    #[allow(clippy::boxed_local)]
    #[observe]
    fn s36_boxed(self: Box<Self>) -> u32 {
        self.count
    }

    #[observe]
    fn s37_arc(self: Arc<Self>) -> usize {
        Arc::strong_count(&self)
    }

    #[observe]
    async fn s38_async_ref(&self, add: u32) -> u32 {
        self.count + add
    }

    #[observe(labels(kind = kind))]
    fn s39_label_from_arg(&self, kind: Kind) -> Kind {
        kind
    }
}

pub trait Store {
    fn s40_get(&self, key: u32) -> Option<u32>;
    #[observe]
    fn s41_default_method(&self) -> u32 {
        41
    }
}

impl Store for Service {
    #[observe]
    fn s40_get(&self, key: u32) -> Option<u32> {
        Some(key + self.count)
    }
}

#[async_trait]
pub trait Payments {
    async fn s42_authorize(&self, amount: u64) -> Result<u64, String>;
    async fn s43_refund(&self, amount: u64) -> Result<u64, String>;
}

pub struct Gateway;

// #[async_trait] outside, #[observe] on the methods.
#[async_trait]
impl Payments for Gateway {
    #[observe]
    async fn s42_authorize(&self, amount: u64) -> Result<u64, String> {
        tokio::task::yield_now().await;
        if amount == 0 {
            Err("zero".into())
        } else {
            Ok(amount)
        }
    }

    #[observe(flow = "refunds")]
    async fn s43_refund(&self, amount: u64) -> Result<u64, String> {
        Ok(amount)
    }
}

#[async_trait]
pub trait Ledger {
    async fn s44_post(&self, cents: i64) -> i64;
}

pub struct Book;

// #[observe] on the impl block, above #[async_trait].
#[observe(flow = "ledger")]
#[async_trait]
impl Ledger for Book {
    async fn s44_post(&self, cents: i64) -> i64 {
        cents
    }
}

pub struct Book2;

// #[async_trait] above #[observe] on the impl block works too.
#[async_trait]
#[observe(flow = "ledger2")]
impl Ledger for Book2 {
    async fn s44_post(&self, cents: i64) -> i64 {
        cents * 2
    }
}

pub struct Wrapper<T>(T);

#[observe]
impl<T: Clone + Debug> Wrapper<T> {
    fn s45_generic_impl(&self) -> T {
        self.0.clone()
    }

    fn s46_generic_assoc(value: T) -> Self {
        Wrapper(value)
    }
}

pub struct Cache<'a> {
    entries: &'a [u32],
}

impl<'a> Cache<'a> {
    #[observe]
    fn s47_impl_lifetime(&self, index: usize) -> Option<&'a u32> {
        self.entries.get(index)
    }
}

#[observe]
fn s48_dyn_arg(value: &dyn Debug) -> String {
    format!("{value:?}")
}

#[observe]
fn s49_slice_pattern([first, ..]: [u8; 3]) -> u8 {
    first
}

#[observe]
fn s50_nested_observed() -> u32 {
    s02_value(1) + s02_value(2)
}

const ALL_FLOWS: &[&str] = &[
    "s01_unit",
    "s02_value",
    "s03_generic",
    "s04_generic_no_debug",
    "s05_where",
    "s06_lifetime",
    "s07_elided",
    "s08_impl_arg",
    "s09_impl_return",
    "s10_tuple_pattern",
    "s11_struct_pattern",
    "s12_mut_arg",
    "s13_unsafe",
    "s14_question",
    "s15_early_return",
    "s16_io_result",
    "s17_boxed_error",
    "s18_non_debug",
    "s19_const_generic",
    "s20_extern_c",
    "s21_raw_ident",
    "s22_closure_return",
    "s23_nested_item",
    "s24_recursive",
    "s25_map",
    "s26_never_returns_err",
    "s27_async",
    "s28_async_generic",
    "s29_async_question",
    "s30_async_early_return",
    "s31_async_borrow",
    "s32_new",
    "s33_ref",
    "s34_mut",
    "s35_by_value",
    "s36_boxed",
    "s37_arc",
    "s38_async_ref",
    "s39_label_from_arg",
    "s40_get",
    "s41_default_method",
    "s42_authorize",
    "refunds",
    "ledger",
    "ledger2",
    "s45_generic_impl",
    "s46_generic_assoc",
    "s47_impl_lifetime",
    "s48_dyn_arg",
    "s49_slice_pattern",
    "s50_nested_observed",
];

#[test]
fn every_shape_compiles_runs_and_records() {
    let ((), captured) = capture_async(async {
        s01_unit();
        assert_eq!(s02_value(1), 2);
        assert_eq!(s03_generic(String::from("a")), "a");
        assert_eq!(s04_generic_no_debug(Opaque(4)).0, 4);
        assert_eq!(s05_where(vec![1, 2]), 2);
        assert_eq!(s06_lifetime("abc"), "a");
        assert_eq!(s07_elided(" x "), "x");
        assert_eq!(s08_impl_arg(vec![1, 2, 3]), 6);
        assert_eq!(s09_impl_return(3).count(), 3);
        assert_eq!(s10_tuple_pattern((2, 3)), 5);
        assert_eq!(s11_struct_pattern(Point { x: 2, y: 3 }), 6);
        assert_eq!(s12_mut_arg(1), 2);
        let seven = 7u32;
        assert_eq!(unsafe { s13_unsafe(&seven) }, 7);
        assert_eq!(s14_question("21"), Ok(42));
        assert!(s14_question("x").is_err());
        assert_eq!(s15_early_return(-1), "negative");
        assert!(s16_io_result("").is_err());
        assert!(s17_boxed_error("300").is_err());
        assert_eq!(s18_non_debug(Opaque(9)), 9);
        assert_eq!(s19_const_generic([1, 2]), 4);
        assert_eq!(s20_extern_c(5), 5);
        assert_eq!(s21_raw_ident("ab"), 2);
        assert_eq!(s22_closure_return(1)(1), 2);
        assert_eq!(s23_nested_item(), 3);
        assert_eq!(s24_recursive(3), 6);
        assert_eq!(s25_map(&mut HashMap::new(), "k"), None);
        assert_eq!(s26_never_returns_err(true), Ok(true));
        assert_eq!(s27_async(3).await, 3);
        assert_eq!(s28_async_generic(Kind::B).await, Kind::B);
        assert_eq!(s29_async_question("4").await, Ok(4));
        assert_eq!(
            s30_async_early_return(-1).await,
            Err("negative".to_string())
        );
        assert_eq!(s31_async_borrow("b").await, "b");
        let mut service = Service::s32_new("svc");
        assert_eq!(service.s33_ref(), "svc");
        *service.s34_mut() += 10;
        assert_eq!(service.s38_async_ref(1).await, 12);
        assert_eq!(service.s39_label_from_arg(Kind::A), Kind::A);
        assert_eq!(service.s40_get(1), Some(12));
        assert_eq!(service.s41_default_method(), 41);
        assert_eq!(Box::new(Service::s32_new("b")).s36_boxed(), 0);
        assert_eq!(Arc::new(Service::s32_new("c")).s37_arc(), 1);
        assert_eq!(service.s35_by_value(), "svc");
        assert_eq!(Gateway.s42_authorize(5).await, Ok(5));
        assert!(Gateway.s42_authorize(0).await.is_err());
        assert_eq!(Gateway.s43_refund(2).await, Ok(2));
        assert_eq!(Book.s44_post(3).await, 3);
        assert_eq!(Book2.s44_post(3).await, 6);
        let wrapper = Wrapper::s46_generic_assoc(5u8);
        assert_eq!(wrapper.s45_generic_impl(), 5);
        let entries = [1, 2];
        assert_eq!(Cache { entries: &entries }.s47_impl_lifetime(1), Some(&2));
        assert_eq!(s48_dyn_arg(&1), "1");
        assert_eq!(s49_slice_pattern([7, 8, 9]), 7);
        assert_eq!(s50_nested_observed(), 5);
    });
    for flow in ALL_FLOWS {
        assert!(
            captured.counter("flow_calls_total", &[("flow", flow)]) >= 1,
            "{flow} recorded no call"
        );
        assert!(
            !captured
                .find("flow_call_duration_seconds", &[("flow", flow)])
                .is_empty(),
            "{flow}: no duration"
        );
    }
    assert!(ALL_FLOWS.len() >= 50);

    // Shapes whose recording is worth a closer look.
    let tuple = captured
        .spans
        .iter()
        .find(|s| s.str("flow") == Some("s10_tuple_pattern"))
        .unwrap();
    assert_eq!(
        (tuple.field("a"), tuple.field("b")),
        (Some(&serde_json::json!(2)), Some(&serde_json::json!(3)))
    );
    let opaque = captured
        .spans
        .iter()
        .find(|s| s.str("flow") == Some("s18_non_debug"))
        .unwrap();
    assert!(
        opaque.field("opaque").is_none(),
        "non-Debug arguments are not recorded"
    );
    let raw = captured
        .spans
        .iter()
        .find(|s| s.str("flow") == Some("s21_raw_ident"))
        .unwrap();
    assert_eq!(raw.str("type"), Some("ab"));
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("flow", "s14_question"), ("outcome", "error")]
        ),
        1
    );
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("flow", "s42_authorize"), ("outcome", "error")]
        ),
        1
    );
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("flow", "s16_io_result"), ("outcome", "error")]
        ),
        1
    );
    assert_eq!(
        captured.counter("flow_calls_total", &[("function", "Service::s33_ref")]),
        1
    );
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("function", "Gateway::s42_authorize")]
        ),
        2
    );
    assert_eq!(
        captured.counter("flow_calls_total", &[("function", "Book::s44_post")]),
        1
    );
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("function", "Wrapper::s45_generic_impl")]
        ),
        1
    );
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("function", "Wrapper::s46_generic_assoc")]
        ),
        1
    );
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("flow", "s39_label_from_arg"), ("kind", "a")]
        ),
        1
    );
    // async_trait futures are measured as futures: the span covers the await.
    let authorize = captured
        .completions()
        .into_iter()
        .find(|e| e.str("flow") == Some("s42_authorize"))
        .unwrap();
    assert_eq!(
        authorize.span_name.as_deref(),
        Some("Gateway::s42_authorize")
    );
}

#[test]
fn sync_shapes_work_without_a_runtime() {
    let (_, captured) = capture(|| s02_value(1));
    assert_eq!(
        captured.counter("flow_calls_total", &[("flow", "s02_value")]),
        1
    );
}
