//! The function shapes `tracing-attributes` is tested on (its `async_fn`,
//! `destructuring`, `err`, `fields`, `levels`, `names`, `parents`, `ret`,
//! `targets` tests, the unused-function lint and the type-shadowing
//! regression), written here with `#[observe]`: every one compiles under
//! `#![deny(warnings)]` (the attribute adds no warning and hides none), runs,
//! and records one call.
#![deny(warnings)]
#![deny(unfulfilled_lint_expectations)]

mod support;

use std::fmt;
use std::future::Future;

use observe::observe;
use support::{capture, capture_async};

// ---- async_fn ----

#[observe]
async fn async_plain(x: u32) -> u32 {
    x + 1
}

#[observe]
async fn async_generic<T: fmt::Debug + Send>(value: T) -> T {
    value
}

#[observe]
async fn async_borrows<'a>(text: &'a str, _ignored: u8) -> &'a str {
    &text[1..]
}

#[observe]
async fn async_impl_arg(items: impl IntoIterator<Item = u8>) -> u32 {
    items.into_iter().map(u32::from).sum()
}

#[observe]
async fn async_result(fail: bool) -> Result<u8, String> {
    let value: u8 = if fail { "x" } else { "7" }
        .parse()
        .map_err(|_| "bad".to_string())?;
    Ok(value)
}

#[observe]
async fn async_with_closure(x: u8) -> u8 {
    let add = async move |y: u8| x + y;
    add(1).await
}

// A body that is one expression: the async block must not make it a
// block's block (`unused_braces`).
#[observe]
async fn async_tail_literal() -> u64 {
    1
}

#[observe]
async fn async_tail_field(pair: &Pair) -> u8 {
    pair.0
}

// A synchronous function returning a future whose `?` needs the declared
// `Output` to know its error type.
#[observe]
#[allow(clippy::manual_async_fn)]
fn future_with_question_mark(text: &str) -> impl Future<Output = Result<u8, String>> + '_ {
    async move {
        let value: u8 = text.parse().map_err(|_| "bad".to_string())?;
        Ok(value)
    }
}

struct Counter(u32);

impl Counter {
    #[observe]
    async fn bump(&mut self, by: u32) -> u32 {
        self.0 += by;
        self.0
    }

    #[observe]
    async fn consume(mut self) -> u32 {
        self.0 += 1;
        self.0
    }
}

#[async_trait::async_trait]
trait Store {
    async fn get(&self, key: u8) -> Option<u8>;
}

struct Memory;

#[async_trait::async_trait]
impl Store for Memory {
    #[observe]
    async fn get(&self, key: u8) -> Option<u8> {
        Some(key)
    }
}

// ---- destructuring ----

struct Point {
    x: i32,
    y: i32,
}

struct Pair(u8, #[allow(dead_code)] u8);

#[observe]
fn tuple_pattern((a, b): (u32, u32)) -> u32 {
    a + b
}

#[observe]
fn nested_pattern(((a, b), c): ((u8, u8), u8)) -> u8 {
    a + b + c
}

#[observe]
fn struct_pattern(Point { x, y: renamed }: Point) -> i32 {
    x + renamed
}

#[observe]
fn tuple_struct_pattern(Pair(a, _): Pair) -> u8 {
    a
}

#[observe]
fn reference_pattern(&(a, b): &(u8, u8)) -> u8 {
    a * b
}

// ---- err ----

#[derive(Debug)]
struct AppError;

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("app error")
    }
}

impl From<std::num::ParseIntError> for AppError {
    fn from(_: std::num::ParseIntError) -> Self {
        AppError
    }
}

#[observe]
fn err_question_mark(text: &str) -> Result<u8, AppError> {
    Ok(text.parse::<u8>()?)
}

#[observe]
fn err_early_return(fail: bool) -> Result<(), AppError> {
    if fail {
        return Err(AppError);
    }
    Ok(())
}

#[observe]
fn err_boxed(fail: bool) -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
    if fail { Err("boxed".into()) } else { Ok(1) }
}

#[observe]
fn err_impl_display(fail: bool) -> Result<u8, impl fmt::Display> {
    if fail { Err(AppError) } else { Ok(2) }
}

#[observe]
fn err_io() -> std::io::Result<u8> {
    Err(std::io::Error::other("io"))
}

// A block as the operand of `?`: rustc does not lint its braces there.
#[observe]
fn err_block_operand(text: Option<String>) -> Option<usize> {
    let text = { text }?;
    Some(text.len())
}

// ---- fields, levels, names, targets ----

const FIELD_VALUE: &str = "constant";

#[observe(fields(literal = "yes", dotted.key = 3, display = %x, debug = ?x, expr = x * 2, constant = FIELD_VALUE))]
fn with_fields(x: u32) -> u32 {
    x
}

#[observe(level = "trace")]
fn level_trace() {}

#[observe(level = "debug")]
fn level_debug() {}

#[observe(level = "warn")]
fn level_warn() {}

#[observe(level = "error")]
fn level_error() {}

#[observe(name = "custom.name")]
fn renamed() {}

mod nested {
    pub mod deeper {
        #[observe::observe]
        pub fn targeted() -> u8 {
            1
        }
    }
}

// ---- parents: spans nest like tracing's ----

#[observe]
fn parent() -> u8 {
    child()
}

#[observe]
fn child() -> u8 {
    1
}

// ---- ret ----

#[observe(ret)]
fn ret_value() -> (u8, &'static str) {
    (1, "one")
}

#[observe(ret)]
fn ret_impl_trait() -> impl Iterator<Item = u8> {
    [1, 2].into_iter()
}

#[observe(ret)]
fn ret_unit() {}

// `-> impl Trait` bodies checked against the declared type, as without the
// attribute: closure argument types from the bound, a diverging body.
#[observe]
fn returns_closure() -> impl FnMut(&str) -> usize {
    |text| text.len()
}

#[observe]
fn returns_a_stub() -> impl fmt::Debug {
    todo!("a stub")
}

// ---- dead code and type shadowing ----

#[expect(dead_code)]
#[observe]
fn unused_function() {}

#[derive(Debug, PartialEq)]
enum Shape {
    Circle,
}

#[allow(dead_code)]
enum Shadow {
    Shape,
}

#[observe]
fn shadowed_return() -> Shape {
    #[allow(unused_imports)]
    use Shadow::*;
    self::Shape::Circle
}

#[test]
fn every_shape_compiles_runs_and_records() {
    let (values, captured) = capture_async(async {
        let mut counter = Counter(1);
        (
            async_plain(1).await,
            async_generic("g").await,
            async_borrows("xyz", 0).await,
            async_impl_arg([1, 2, 3]).await,
            async_result(false).await,
            async_result(true).await.is_err(),
            async_with_closure(1).await,
            counter.bump(2).await,
            counter.consume().await,
            Memory.get(4).await,
            async_tail_literal().await,
            async_tail_field(&Pair(7, 8)).await,
        )
    });
    assert_eq!(
        values,
        (2, "g", "yz", 6, Ok(7), true, 2, 3, 4, Some(4), 1, 7)
    );
    let (value, future_captured) = capture_async(async { future_with_question_mark("9").await });
    assert_eq!(value, Ok(9));
    assert_eq!(
        future_captured.counter(
            "flow_calls_total",
            &[("function", "future_with_question_mark"), ("outcome", "ok")]
        ),
        1
    );
    for function in [
        "async_plain",
        "async_generic",
        "async_borrows",
        "async_impl_arg",
        "async_with_closure",
        "Counter::bump",
        "Counter::consume",
        "Memory::get",
        "async_tail_literal",
        "async_tail_field",
    ] {
        assert_eq!(
            captured.counter("flow_calls_total", &[("function", function)]),
            1,
            "{function}"
        );
    }
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("function", "async_result"), ("outcome", "error")]
        ),
        1
    );

    let (_, captured) = capture(|| {
        assert_eq!(tuple_pattern((1, 2)), 3);
        assert_eq!(nested_pattern(((1, 2), 3)), 6);
        assert_eq!(struct_pattern(Point { x: 1, y: 2 }), 3);
        assert_eq!(tuple_struct_pattern(Pair(4, 5)), 4);
        assert_eq!(reference_pattern(&(2, 3)), 6);
        assert!(err_question_mark("x").is_err());
        assert!(err_early_return(true).is_err());
        assert!(err_boxed(true).is_err());
        assert!(err_impl_display(true).is_err());
        assert!(err_io().is_err());
        assert_eq!(err_block_operand(Some("abc".into())), Some(3));
        assert_eq!(err_block_operand(None), None);
        assert_eq!(with_fields(5), 5);
        level_trace();
        level_debug();
        level_warn();
        level_error();
        renamed();
        assert_eq!(nested::deeper::targeted(), 1);
        assert_eq!(parent(), 1);
        assert_eq!(ret_value(), (1, "one"));
        assert_eq!(ret_impl_trait().count(), 2);
        assert_eq!(returns_closure()("abc"), 3);
        assert!(std::panic::catch_unwind(returns_a_stub).is_err());
        ret_unit();
        assert_eq!(shadowed_return(), Shape::Circle);
    });
    for function in [
        "err_question_mark",
        "err_early_return",
        "err_boxed",
        "err_impl_display",
        "err_io",
    ] {
        assert_eq!(
            captured.counter(
                "flow_calls_total",
                &[("function", function), ("outcome", "error")]
            ),
            1,
            "{function}"
        );
    }
    for (function, outcome) in [("returns_closure", "ok"), ("returns_a_stub", "panic")] {
        assert_eq!(
            captured.counter(
                "flow_calls_total",
                &[("function", function), ("outcome", outcome)]
            ),
            1,
            "{function}"
        );
    }
    let point = &captured.spans_named("struct_pattern")[0];
    assert_eq!(point.field("x").and_then(|v| v.as_i64()), Some(1));
    assert_eq!(point.field("renamed").and_then(|v| v.as_i64()), Some(2));
    let fields = &captured.spans_named("with_fields")[0];
    assert_eq!(fields.str("literal"), Some("yes"));
    assert_eq!(fields.field("dotted.key").and_then(|v| v.as_u64()), Some(3));
    assert_eq!(fields.str("display"), Some("5"));
    assert_eq!(fields.field("expr").and_then(|v| v.as_u64()), Some(10));
    assert_eq!(fields.str("constant"), Some("constant"));
    assert_eq!(captured.spans_named("custom.name").len(), 1);
    let targeted = &captured.spans_named("targeted")[0];
    assert_eq!(targeted.target, "instrument_shapes::nested::deeper");
    let parent_span = &captured.spans_named("parent")[0];
    assert_eq!(
        captured.spans_named("child")[0].parent,
        Some(parent_span.id)
    );
    let levels: Vec<_> = ["level_trace", "level_debug", "level_warn", "level_error"]
        .iter()
        .map(|name| captured.spans_named(name)[0].level)
        .collect();
    assert_eq!(
        levels,
        [
            tracing::Level::TRACE,
            tracing::Level::DEBUG,
            tracing::Level::WARN,
            tracing::Level::ERROR
        ]
    );
    let ret = captured
        .completions()
        .into_iter()
        .find(|e| e.str("function") == Some("ret_value"))
        .unwrap();
    assert_eq!(ret.str("return"), Some("(1, \"one\")"));
}
