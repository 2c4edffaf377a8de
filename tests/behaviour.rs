//! Adding `#[observe]` changes nothing about the program: each case runs a
//! plain function and its annotated twin side by side, and they must agree
//! on return value, panic payload and location, `Location::caller()` and
//! drop order; the annotated one records exactly one outcome and leaves the
//! in-flight gauge at 0.
#![deny(unfulfilled_lint_expectations)]

mod support;

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;

use observe::{Label, observe};
use support::{Captured, capture, capture_async};

/// Exactly one `flow_calls_total` increment, and in-flight back to 0.
fn one_outcome(captured: &Captured, function: &str) -> String {
    let calls: Vec<_> = captured
        .find("flow_calls_total", &[("function", function)])
        .into_iter()
        .filter(|s| matches!(s.value, metrics_util::debugging::DebugValue::Counter(n) if n > 0))
        .collect();
    let total: u64 = calls
        .iter()
        .map(|s| match s.value {
            metrics_util::debugging::DebugValue::Counter(n) => n,
            _ => 0,
        })
        .sum();
    assert_eq!(total, 1, "exactly one outcome for {function}: {calls:?}");
    assert_eq!(
        captured.gauge("flow_calls_in_flight", &[("function", function)]),
        0.0
    );
    calls[0].labels["outcome"].clone()
}

// ---- formatting that panics or fails never reaches the call ----

struct PanickyDebug;
impl fmt::Debug for PanickyDebug {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug of PanickyDebug")
    }
}
impl fmt::Display for PanickyDebug {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Err(fmt::Error)
    }
}

#[derive(Debug)]
struct PanickyError;
impl fmt::Display for PanickyError {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Display of PanickyError")
    }
}

fn plain_takes(value: PanickyDebug) -> u32 {
    let _consumed = value;
    7
}

#[observe]
fn takes_panicky(value: PanickyDebug) -> u32 {
    let _consumed = value;
    7
}

#[observe(ret)]
fn returns_panicky() -> PanickyDebug {
    PanickyDebug
}

#[observe]
fn fails_panicky() -> Result<(), PanickyError> {
    Err(PanickyError)
}

#[observe(hash(value))]
fn hashes_failing_display(value: &PanickyDebug) -> u32 {
    let _ = value;
    1
}

#[test]
fn a_panicking_debug_of_an_argument_is_recorded_as_a_marker() {
    let (result, captured) = capture(|| takes_panicky(PanickyDebug));
    assert_eq!(result, plain_takes(PanickyDebug));
    assert_eq!(one_outcome(&captured, "takes_panicky"), "ok");
    let span = &captured.spans_named("takes_panicky")[0];
    assert_eq!(span.str("value"), Some("<unprintable: Debug panicked>"));
}

#[test]
fn a_panicking_ret_or_error_display_still_records_one_outcome() {
    let (_, captured) = capture(returns_panicky);
    assert_eq!(one_outcome(&captured, "returns_panicky"), "ok");
    assert_eq!(
        captured.completions()[0].str("return"),
        Some("<unprintable: Debug panicked>")
    );

    let (result, captured) = capture(fails_panicky);
    assert!(result.is_err());
    assert_eq!(one_outcome(&captured, "fails_panicky"), "error");
    assert_eq!(
        captured.completions()[0].str("error.message"),
        Some("<unprintable: Display panicked>")
    );
}

#[test]
fn hashing_a_value_whose_display_fails_does_not_panic() {
    observe::set_hash_key(b"behaviour-test-hash-key-32-bytes!".to_vec()).ok();
    let (result, captured) = capture(|| hashes_failing_display(&PanickyDebug));
    assert_eq!(result, 1);
    assert_eq!(one_outcome(&captured, "hashes_failing_display"), "ok");
}

// ---- #[track_caller] ----

#[track_caller]
fn plain_caller() -> &'static Location<'static> {
    Location::caller()
}

#[observe]
#[track_caller]
fn observed_caller() -> &'static Location<'static> {
    Location::caller()
}

#[observe]
#[track_caller]
fn observed_caller_panics() {
    panic!("from the caller's line")
}

#[test]
fn track_caller_reports_the_callers_location() {
    let (plain, observed) = (plain_caller(), observed_caller());
    assert_eq!(plain.file(), observed.file());
    assert_eq!(plain.line(), observed.line());

    static LOCATION: std::sync::Mutex<Option<(String, u32)>> = std::sync::Mutex::new(None);
    let previous = std::panic::take_hook();
    // The hook is process-wide and other tests panic on their own threads
    // meanwhile: keep only this panic.
    std::panic::set_hook(Box::new(|info| {
        if info.payload().downcast_ref::<&str>() == Some(&"from the caller's line") {
            *LOCATION.lock().unwrap() = info.location().map(|l| (l.file().to_string(), l.line()));
        }
    }));
    let line = line!() + 1;
    let result = std::panic::catch_unwind(|| observed_caller_panics());
    std::panic::set_hook(previous);
    assert!(result.is_err());
    assert_eq!(
        LOCATION.lock().unwrap().clone(),
        Some((file!().to_string(), line))
    );
}

/// An error whose `From` records where the `?` was (as error-stack and
/// snafu do).
#[derive(Debug)]
struct Located(&'static Location<'static>);

impl From<std::num::ParseIntError> for Located {
    #[track_caller]
    fn from(_: std::num::ParseIntError) -> Self {
        Located(Location::caller())
    }
}

fn question_mark_location_plain(text: &str) -> Result<u8, Located> {
    Ok(text.parse::<u8>()?)
}

#[observe]
fn question_mark_location(text: &str) -> Result<u8, Located> {
    Ok(text.parse::<u8>()?)
}

#[test]
fn a_track_caller_from_behind_question_mark_sees_the_question_mark() {
    let plain = question_mark_location_plain("x").unwrap_err().0;
    let (result, _) = capture(|| question_mark_location("x"));
    let observed = result.unwrap_err().0;
    // The `?` expression of each function's body, as without the attribute.
    assert_eq!(observed.file(), plain.file());
    assert_eq!(observed.line(), plain.line() + 5);
    assert_eq!(observed.column(), plain.column());
}

// ---- drop order ----

thread_local! {
    static DROPS: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

struct Noisy(&'static str);
impl Drop for Noisy {
    fn drop(&mut self) {
        DROPS.with(|d| d.borrow_mut().push(self.0));
    }
}

fn drops() -> Vec<&'static str> {
    DROPS.with(|d| std::mem::take(&mut *d.borrow_mut()))
}

fn plain_drops(a: Noisy, b: Noisy) {
    let _local = Noisy("local");
    let _ = (&a, &b);
}

#[observe(skip_all)]
fn observed_drops(a: Noisy, b: Noisy) {
    let _local = Noisy("local");
    let _ = (&a, &b);
}

async fn plain_async_drops(a: Noisy, b: Noisy) {
    let _local = Noisy("local");
    let _ = (&a, &b);
}

#[observe(skip_all)]
async fn observed_async_drops(a: Noisy, b: Noisy) {
    let _local = Noisy("local");
    let _ = (&a, &b);
}

async fn plain_async_pattern_drops((a, _): (Noisy, Noisy), b: Noisy) {
    let _local = Noisy("local");
    let _ = (&a, &b);
}

#[observe(skip_all)]
async fn observed_async_pattern_drops((a, _): (Noisy, Noisy), b: Noisy) {
    let _local = Noisy("local");
    let _ = (&a, &b);
}

#[test]
fn arguments_drop_in_the_plain_functions_order() {
    plain_drops(Noisy("a"), Noisy("b"));
    let plain = drops();
    capture(|| observed_drops(Noisy("a"), Noisy("b")));
    assert_eq!(drops(), plain);

    capture_async(plain_async_drops(Noisy("a"), Noisy("b")));
    let plain = drops();
    capture_async(observed_async_drops(Noisy("a"), Noisy("b")));
    assert_eq!(drops(), plain);

    // A pattern argument first (docs/attribute.md has the case that differs).
    capture_async(plain_async_pattern_drops(
        (Noisy("a"), Noisy("_")),
        Noisy("b"),
    ));
    let plain = drops();
    assert_eq!(plain, ["local", "b", "a", "_"]);
    capture_async(observed_async_pattern_drops(
        (Noisy("a"), Noisy("_")),
        Noisy("b"),
    ));
    assert_eq!(drops(), plain);
}

// ---- exits: `?`, early return, nested closures ----

#[derive(Debug, Label)]
enum ParseError {
    Empty,
    NotANumber,
}

impl From<std::num::ParseIntError> for ParseError {
    fn from(_: std::num::ParseIntError) -> Self {
        ParseError::NotANumber
    }
}

#[observe]
fn parse(text: &str) -> Result<u32, ParseError> {
    if text.is_empty() {
        return Err(ParseError::Empty);
    }
    let doubled = text
        .split(',')
        .map(|part| -> Result<u32, ParseError> { Ok(part.trim().parse::<u32>()? * 2) })
        .collect::<Result<Vec<_>, _>>()?;
    let first: u32 = text.split(',').next().unwrap_or_default().trim().parse()?;
    Ok(first + doubled.len() as u32)
}

#[observe]
fn configured_return(fail: bool) -> u8 {
    if fail {
        #[cfg(any())]
        return 1;
        #[cfg(test)]
        return 2;
    }
    3
}

#[observe]
fn first_char(text: &str) -> Option<char> {
    let c = text.chars().next()?;
    Some(c)
}

#[test]
fn question_mark_and_return_come_back_through_the_observation() {
    for (input, outcome, kind) in [
        ("", "error", Some("empty")),
        ("x", "error", Some("not_a_number")),
        ("1, 2", "ok", None),
    ] {
        let (_, captured) = capture(|| parse(input));
        assert_eq!(one_outcome(&captured, "parse"), outcome, "{input:?}");
        if let Some(kind) = kind {
            assert_eq!(
                captured.counter("flow_errors_total", &[("error_kind", kind)]),
                1
            );
        }
    }
    assert_eq!(parse("1, 2").ok(), Some(3));
    assert_eq!(configured_return(true), 2);
    assert_eq!(configured_return(false), 3);
    let (value, captured) = capture(|| first_char(""));
    assert_eq!(value, None);
    assert_eq!(one_outcome(&captured, "first_char"), "ok");
}

// ---- shapes that compile as they did without the attribute ----

#[observe]
fn never_returns() -> ! {
    panic!("never returns")
}

#[observe]
async fn serves_forever(stop: bool) -> ! {
    if stop {
        panic!("stopped");
    }
    loop {
        tokio::task::yield_now().await;
    }
}

#[observe]
fn configured_out(#[cfg(any())] gone: u32, kept: u32) -> u32 {
    kept
}

mod shadowing {
    #[derive(Debug)]
    pub struct Output(pub u8);

    pub enum Choice {
        Output,
    }

    #[observe::observe]
    pub fn shadowed() -> Output {
        #[allow(unused_imports)]
        use Choice::*;
        let _ = Choice::Output;
        self::Output(1)
    }
}

/// A hand-written boxed future, not `#[async_trait]`: the argument is only
/// borrowed to build it, so the future is `'static` and `Send`.
#[observe]
fn boxed_future(text: &str) -> Pin<Box<dyn Future<Output = usize> + Send + 'static>> {
    let length = text.len();
    Box::pin(async move { length })
}

#[observe(fields("x-api-key" = key, "x-request" = 7))]
fn quoted_field_keys(key: &str) -> usize {
    key.len()
}

#[expect(dead_code)]
#[observe]
fn never_called() {}

#[test]
fn unusual_shapes_compile_and_record() {
    assert!(std::panic::catch_unwind(|| never_returns()).is_err());
    let (result, captured) = capture(|| {
        std::panic::catch_unwind(|| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(serves_forever(true))
        })
    });
    assert!(result.is_err());
    assert_eq!(one_outcome(&captured, "serves_forever"), "panic");
    let (value, captured) = capture(|| configured_out(5));
    assert_eq!(value, 5);
    assert_eq!(one_outcome(&captured, "configured_out"), "ok");
    assert_eq!(shadowing::shadowed().0, 1);

    let future = boxed_future("four");
    assert_eq!(
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future),
        4
    );

    let (_, captured) = capture(|| quoted_field_keys("abcdef"));
    let span = &captured.spans_named("quoted_field_keys")[0];
    assert_eq!(span.str("x-api-key"), Some("[REDACTED]"));
    assert_eq!(span.field("x-request").and_then(|v| v.as_u64()), Some(7));
}

// ---- sync functions returning `impl Future` ----

#[observe]
fn later(fail: bool) -> impl Future<Output = Result<u8, ParseError>> {
    async move {
        tracing::info!("inside the future");
        if fail { Err(ParseError::Empty) } else { Ok(1) }
    }
}

#[test]
fn impl_future_returns_are_observed_through_their_future() {
    let (result, captured) = capture_async(async { later(true).await });
    assert!(result.is_err());
    assert_eq!(one_outcome(&captured, "later"), "error");
    let span = &captured.spans_named("later")[0];
    let inside = captured
        .events
        .iter()
        .find(|e| e.str("message") == Some("inside the future"))
        .expect("the event inside the future");
    assert_eq!(inside.span_id, Some(span.id));
}

// ---- names and series ----

trait Greet {
    #[observe]
    fn greet(&self) -> &'static str {
        "hello"
    }
}

struct Alice;
struct Bob;
impl Greet for Alice {}
impl Greet for Bob {}

trait Show {
    fn show(&self) -> usize;
}

impl Show for (u8, String) {
    #[observe]
    fn show(&self) -> usize {
        self.1.len()
    }
}

#[test]
fn default_trait_methods_are_named_after_each_implementor() {
    let (_, captured) = capture(|| {
        Alice.greet();
        Bob.greet();
        Bob.greet();
    });
    assert_eq!(
        captured.counter("flow_calls_total", &[("function", "Alice::greet")]),
        1
    );
    assert_eq!(
        captured.counter("flow_calls_total", &[("function", "Bob::greet")]),
        2
    );
    assert_eq!(captured.spans_named("Bob::greet").len(), 2);

    let (_, captured) = capture(|| (7u8, "ab".to_string()).show());
    assert_eq!(
        captured.counter("flow_calls_total", &[("function", "(u8, String)::show")]),
        1
    );
}

/// A hand-written label whose `label()` builds values at run time.
struct Leaky(u32);
impl Label for Leaky {
    const VALUES: &'static [&'static str] = &["a", "b"];
    fn label(&self) -> &'static str {
        Box::leak(format!("user-{}", self.0).into_boxed_str())
    }
}

#[observe(labels(kind = kind))]
fn leaky(kind: Leaky) -> u32 {
    kind.0
}

#[test]
fn label_values_outside_their_type_are_folded_into_other() {
    let (_, captured) = capture(|| {
        for i in 0..50 {
            leaky(Leaky(i));
        }
    });
    let series = captured.find("flow_calls_total", &[("function", "leaky")]);
    assert_eq!(series.len(), 1, "{series:?}");
    assert_eq!(series[0].labels["kind"], "other");
    assert_eq!(
        captured.counter("flow_calls_total", &[("kind", "other")]),
        50
    );
}

#[observe]
fn quick() -> u8 {
    1
}

#[test]
fn durations_are_logged_to_the_microsecond() {
    let (_, captured) = capture(quick);
    let duration = captured.completions()[0]
        .field("duration_ms")
        .and_then(|v| v.as_f64())
        .unwrap();
    let micros = duration * 1000.0;
    assert!((micros - micros.round()).abs() < 1e-6, "{duration}");
}
