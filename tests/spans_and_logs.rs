//! The span and the completion event of a call: names, fields, status,
//! levels, `slow`, `sample`, `ret` and `fields(...)`.

mod support;

use std::time::Duration;

use observe::{Label, observe};
use support::{capture, capture_async, capture_panic};
use tracing::Level;

#[derive(Debug, Label)]
enum OrderError {
    NotFound,
}

impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("order not found")
    }
}

#[derive(Debug)]
struct Order {
    id: u64,
    total_cents: u64,
}

#[observe(flow = "orders", fields(order.total = order.total_cents, customer = %customer, note = ?note))]
fn place(order: &Order, customer: &str, note: Option<&str>) -> Result<u64, OrderError> {
    if order.id == 0 {
        return Err(OrderError::NotFound);
    }
    Ok(order.id)
}

#[observe(level = "debug", ret)]
fn lookup(id: u64) -> String {
    format!("order-{id}")
}

#[observe(slow = "5ms")]
fn sometimes_slow(sleep_ms: u64) {
    std::thread::sleep(Duration::from_millis(sleep_ms));
}

#[observe(sample = 0.0)]
fn never_logged_when_fine(fail: bool) -> Result<(), OrderError> {
    if fail {
        Err(OrderError::NotFound)
    } else {
        Ok(())
    }
}

#[observe(flow = "outer", sample = 0.5)]
fn outer() {
    for _ in 0..20 {
        inner();
    }
}

#[observe(flow = "inner", sample = 0.5)]
fn inner() {}

#[observe]
fn crash() {
    panic!("boom");
}

#[observe(skip_all)]
fn quiet(blob: Vec<u8>) -> usize {
    blob.len()
}

struct Warehouse;

impl Warehouse {
    #[observe(flow = "inventory")]
    fn reserve(&self, sku: u32, quantity: u32) -> u32 {
        sku + quantity
    }

    #[observe]
    fn new() -> Self {
        Warehouse
    }
}

struct Mailer;

#[observe(flow = "notify")]
impl Mailer {
    fn send(&self, to_user: u64) -> bool {
        to_user > 0
    }

    fn new() -> Self {
        Mailer
    }

    #[observe(skip)]
    fn not_observed(&self) {}

    #[observe(level = "warn", flow = "notify.bulk")]
    fn send_all(&self, count: u32) -> u32 {
        count
    }
}

#[test]
fn span_carries_flow_code_location_arguments_and_fields() {
    let order = Order {
        id: 7,
        total_cents: 1250,
    };
    let (_, captured) = capture(|| place(&order, "ann", Some("gift")));
    let span = captured.spans_named("place")[0];
    assert_eq!(span.level, Level::INFO);
    assert_eq!(span.target, "spans_and_logs");
    assert_eq!(span.str("flow"), Some("orders"));
    assert_eq!(span.str("code.function"), Some("place"));
    assert_eq!(span.str("code.namespace"), Some("spans_and_logs"));
    assert_eq!(
        span.str("order"),
        Some("Order { id: 7, total_cents: 1250 }")
    );
    assert_eq!(
        span.str("customer"),
        Some("ann"),
        "text arguments are recorded unquoted"
    );
    assert_eq!(span.str("note"), Some("Some(\"gift\")"));
    assert_eq!(span.field("order.total"), Some(&serde_json::json!(1250)));
    assert!(
        span.field("otel.status_code").is_none(),
        "success leaves the status unset"
    );
}

#[test]
fn completion_event_on_success() {
    let order = Order {
        id: 7,
        total_cents: 1,
    };
    let (_, captured) = capture(|| place(&order, "ann", None));
    let completions = captured.completions();
    assert_eq!(completions.len(), 1);
    let event = completions[0];
    assert_eq!(event.level, Level::INFO);
    assert_eq!(event.target, "spans_and_logs");
    assert_eq!(
        event.span_name.as_deref(),
        Some("place"),
        "the event is inside the span"
    );
    assert_eq!(event.str("flow"), Some("orders"));
    assert_eq!(event.str("function"), Some("place"));
    assert_eq!(event.str("outcome"), Some("ok"));
    assert!(event.field("duration_ms").unwrap().as_f64().unwrap() >= 0.0);
    assert!(event.field("error.message").is_none() && event.field("error.kind").is_none());
    assert!(event.field("slow").is_none(), "no threshold, no slow field");
}

#[test]
fn errors_mark_the_span_and_log_at_error() {
    let order = Order {
        id: 0,
        total_cents: 1,
    };
    let (_, captured) = capture(|| place(&order, "ann", None));
    let span = captured.spans_named("place")[0];
    assert_eq!(span.str("otel.status_code"), Some("ERROR"));
    assert!(span.str("error.type").unwrap().ends_with("OrderError"));
    let event = captured.completions()[0];
    assert_eq!(event.level, Level::ERROR);
    assert_eq!(event.str("outcome"), Some("error"));
    assert_eq!(event.str("error.kind"), Some("not_found"));
    assert_eq!(event.str("error.message"), Some("order not found"));
}

#[test]
fn panics_mark_the_span_and_log_at_error() {
    let captured = capture_panic(crash);
    let span = captured.spans_named("crash")[0];
    assert_eq!(span.str("otel.status_code"), Some("ERROR"));
    let event = captured.completions()[0];
    assert_eq!(event.level, Level::ERROR);
    assert_eq!(event.str("outcome"), Some("panic"));
    assert_eq!(event.span_name.as_deref(), Some("crash"));
}

#[test]
fn level_and_ret() {
    let (_, captured) = capture(|| lookup(42));
    assert_eq!(captured.spans_named("lookup")[0].level, Level::DEBUG);
    let event = captured.completions()[0];
    assert_eq!(event.level, Level::DEBUG);
    assert_eq!(event.str("return"), Some("order-42"));
    assert_eq!(
        event.field("id"),
        None,
        "arguments live on the span, not the event"
    );
    assert_eq!(
        captured.spans_named("lookup")[0].field("id"),
        Some(&serde_json::json!(42))
    );
}

#[test]
fn slow_calls_log_at_warn_whatever_the_level() {
    let (_, captured) = capture(|| {
        sometimes_slow(0);
        sometimes_slow(30);
    });
    let completions = captured.completions();
    assert_eq!(completions.len(), 2);
    assert_eq!(completions[0].level, Level::INFO);
    assert_eq!(
        completions[0].field("slow"),
        Some(&serde_json::json!(false))
    );
    assert_eq!(completions[1].level, Level::WARN);
    assert_eq!(completions[1].field("slow"), Some(&serde_json::json!(true)));
    assert_eq!(completions[1].str("outcome"), Some("ok"));
}

#[test]
fn sampling_drops_successes_but_keeps_errors() {
    let (_, captured) = capture(|| {
        for _ in 0..10 {
            never_logged_when_fine(false).unwrap();
        }
        never_logged_when_fine(true).unwrap_err();
    });
    let completions = captured.completions();
    assert_eq!(
        completions.len(),
        1,
        "only the error is logged at sample = 0.0"
    );
    assert_eq!(completions[0].str("outcome"), Some("error"));
    // Metrics are never sampled.
    assert_eq!(
        captured.counter("flow_calls_total", &[("flow", "never_logged_when_fine")]),
        11
    );
}

#[test]
fn sampling_is_decided_per_trace() {
    let mut kept_traces = 0;
    for _ in 0..40 {
        let (_, captured) = capture(outer);
        let inner_lines = captured
            .completions()
            .iter()
            .filter(|e| e.str("flow") == Some("inner"))
            .count();
        let outer_lines = captured
            .completions()
            .iter()
            .filter(|e| e.str("flow") == Some("outer"))
            .count();
        assert!(
            inner_lines == 0 || inner_lines == 20,
            "one trace's lines are kept or dropped together: {inner_lines}"
        );
        assert_eq!(
            inner_lines == 20,
            outer_lines == 1,
            "the root and its children agree"
        );
        kept_traces += usize::from(outer_lines == 1);
    }
    assert!(
        kept_traces > 0 && kept_traces < 40,
        "about half of 40 traces are kept, got {kept_traces}"
    );
}

#[test]
fn skip_all_records_no_arguments() {
    let (_, captured) = capture(|| quiet(vec![1, 2, 3]));
    let span = captured.spans_named("quiet")[0];
    assert!(span.field("blob").is_none());
}

#[test]
fn methods_are_named_by_type() {
    let (_, captured) = capture(|| {
        let warehouse = Warehouse::new();
        warehouse.reserve(1, 2);
    });
    // A method with a receiver is Type::method, its type read from Self.
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("flow", "inventory"), ("function", "Warehouse::reserve")]
        ),
        1
    );
    // The span itself is named Type::method too, though the attribute could not see the impl.
    let reserve = captured.spans_named("Warehouse::reserve")[0];
    assert_eq!(reserve.str("code.function"), Some("Warehouse::reserve"));
    assert_eq!(reserve.str("flow"), Some("inventory"));
    assert_eq!(reserve.target, "spans_and_logs");
    assert_eq!(reserve.level, Level::INFO);
    let event = captured
        .completions()
        .into_iter()
        .find(|e| e.str("function") == Some("Warehouse::reserve"))
        .unwrap();
    assert_eq!(
        event.span_name.as_deref(),
        Some("Warehouse::reserve"),
        "the completion event is inside it"
    );
    assert_eq!(reserve.field("sku"), Some(&serde_json::json!(1)));
    // An associated function annotated alone keeps its name.
    assert_eq!(
        captured.counter("flow_calls_total", &[("function", "new")]),
        1
    );
}

#[test]
fn impl_blocks_observe_every_method() {
    let (_, captured) = capture(|| {
        let mailer = Mailer::new();
        mailer.send(3);
        mailer.not_observed();
        mailer.send_all(2);
    });
    assert_eq!(captured.spans_named("Mailer::send").len(), 1);
    assert_eq!(captured.spans_named("Mailer::new").len(), 1);
    assert_eq!(
        captured.spans_named("Mailer::not_observed").len(),
        0,
        "#[observe(skip)] opts out"
    );
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("flow", "notify"), ("function", "Mailer::send")]
        ),
        1
    );
    let bulk = captured.spans_named("Mailer::send_all")[0];
    assert_eq!(
        bulk.level,
        Level::WARN,
        "a method's own options override the block's"
    );
    assert_eq!(bulk.str("flow"), Some("notify.bulk"));
    assert_eq!(captured.counter("flow_calls_total", &[]), 3);
}

#[test]
fn nested_calls_nest_spans() {
    #[observe(flow = "checkout")]
    async fn checkout() -> u32 {
        reserve().await + 1
    }
    #[observe(flow = "checkout")]
    async fn reserve() -> u32 {
        tokio::task::yield_now().await;
        1
    }
    let (value, captured) = capture_async(checkout());
    assert_eq!(value, 2);
    let parent = captured.spans_named("checkout")[0];
    let child = captured.spans_named("reserve")[0];
    assert_eq!(child.parent, Some(parent.id));
    let events = captured.completions();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].span_name.as_deref(), Some("reserve"));
    assert_eq!(events[1].span_name.as_deref(), Some("checkout"));
}

#[observe(name = "Orders::find", flow = "orders", labels(cached = cached))]
fn find_order(id: u64, cached: bool) -> u64 {
    id
}

#[test]
fn name_sets_the_span_name_and_function_label() {
    let (_, captured) = capture(|| {
        find_order(1, true);
        find_order(2, false);
        find_order(3, true);
    });
    assert_eq!(captured.spans_named("Orders::find").len(), 3);
    assert_eq!(
        captured.spans_named("Orders::find")[0].str("code.function"),
        Some("Orders::find")
    );
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("function", "Orders::find"), ("cached", "true")]
        ),
        2
    );
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("function", "Orders::find"), ("cached", "false")]
        ),
        1
    );
    assert_eq!(
        captured.completions()[0].str("function"),
        Some("Orders::find")
    );
}
