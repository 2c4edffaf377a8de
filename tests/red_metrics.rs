//! The RED metrics a call records: exact names, labels and counts for
//! every outcome, and the in-flight gauge back to zero on every exit path.

mod support;

use std::time::Duration;

use observe::{Label, observe};
use support::{capture, capture_async, capture_panic};

#[derive(Debug, Clone, Copy, Label)]
enum Tier {
    Free,
    Pro,
    #[label(rename = "enterprise_plus")]
    Enterprise,
}

#[derive(Debug, Label)]
enum PaymentError {
    Declined,
    Timeout { after_ms: u64 },
}

impl std::fmt::Display for PaymentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PaymentError::Declined => f.write_str("card declined"),
            PaymentError::Timeout { after_ms } => {
                write!(f, "provider timed out after {after_ms}ms")
            }
        }
    }
}

#[observe(flow = "checkout", labels(tier = tier, region = "eu"))]
fn charge(tier: Tier, amount: u64) -> Result<u64, PaymentError> {
    match amount {
        0 => Err(PaymentError::Declined),
        1 => Err(PaymentError::Timeout { after_ms: 30 }),
        _ => Ok(amount),
    }
}

#[observe]
fn parse_quantity(text: &str) -> Result<u32, std::num::ParseIntError> {
    let quantity: u32 = text.parse()?;
    Ok(quantity)
}

#[observe(flow = "inventory")]
fn explode(should: bool) -> u32 {
    if should {
        panic!("inventory exploded");
    }
    1
}

#[observe(flow = "payment")]
async fn authorize(delay_ms: u64) -> Result<(), PaymentError> {
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    Ok(())
}

const BASE: [(&str, &str); 3] = [
    ("flow", "checkout"),
    ("function", "charge"),
    ("module", "red_metrics"),
];

#[test]
fn counts_calls_by_outcome_and_labels_exactly() {
    let ((), captured) = capture(|| {
        for _ in 0..5 {
            charge(Tier::Pro, 10).unwrap();
        }
        for _ in 0..2 {
            charge(Tier::Free, 10).unwrap();
        }
        charge(Tier::Enterprise, 0).unwrap_err();
        charge(Tier::Pro, 1).unwrap_err();
    });
    let ok_pro = [
        BASE[0],
        BASE[1],
        BASE[2],
        ("outcome", "ok"),
        ("tier", "pro"),
        ("region", "eu"),
    ];
    assert_eq!(captured.counter("flow_calls_total", &ok_pro), 5);
    assert_eq!(
        captured.counter("flow_calls_total", &[("outcome", "ok"), ("tier", "free")]),
        2
    );
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("outcome", "error"), ("tier", "enterprise_plus")]
        ),
        1
    );
    assert_eq!(
        captured.counter("flow_calls_total", &[("outcome", "error"), ("tier", "pro")]),
        1
    );
    assert_eq!(
        captured.counter("flow_calls_total", &[("flow", "checkout")]),
        9
    );

    // Every series carries exactly the documented labels.
    for series in captured.find("flow_calls_total", &[]) {
        let keys: Vec<&str> = series.labels.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["flow", "function", "module", "outcome", "region", "tier"],
            "{series:?}"
        );
    }

    assert_eq!(
        captured.counter(
            "flow_errors_total",
            &[("error_kind", "declined"), ("tier", "enterprise_plus")]
        ),
        1
    );
    assert_eq!(
        captured.counter(
            "flow_errors_total",
            &[("error_kind", "timeout"), ("tier", "pro")]
        ),
        1
    );
    assert_eq!(captured.counter("flow_errors_total", &[]), 2);
    for series in captured.find("flow_errors_total", &[]) {
        let keys: Vec<&str> = series.labels.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["error_kind", "flow", "function", "module", "region", "tier"]
        );
    }

    let durations = captured.histogram("flow_call_duration_seconds", &[("outcome", "ok")]);
    assert_eq!(durations.len(), 7);
    assert!(
        durations
            .iter()
            .all(|d| d.is_finite() && *d >= 0.0 && *d < 5.0),
        "{durations:?}"
    );
    assert_eq!(
        captured
            .histogram("flow_call_duration_seconds", &[("outcome", "error")])
            .len(),
        2
    );

    assert_eq!(captured.gauge("flow_calls_in_flight", &BASE), 0.0);
}

#[test]
fn registers_descriptions_and_units() {
    let (_, captured) = capture(|| charge(Tier::Pro, 10));
    let histogram = &captured.find("flow_call_duration_seconds", &[])[0];
    assert_eq!(histogram.unit, Some(metrics::Unit::Seconds));
    assert!(
        histogram
            .description
            .as_deref()
            .unwrap_or_default()
            .contains("Latency")
    );
    let calls = &captured.find("flow_calls_total", &[])[0];
    assert_eq!(calls.unit, Some(metrics::Unit::Count));
    assert!(calls.description.is_some());
}

#[test]
fn errors_of_non_label_types_use_the_default_kind() {
    let (_, captured) = capture(|| {
        parse_quantity("12").unwrap();
        parse_quantity("twelve").unwrap_err();
    });
    let base = [("flow", "parse_quantity"), ("function", "parse_quantity")];
    assert_eq!(
        captured.counter("flow_calls_total", &[base[0], base[1], ("outcome", "ok")]),
        1
    );
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[base[0], base[1], ("outcome", "error")]
        ),
        1
    );
    assert_eq!(
        captured.counter("flow_errors_total", &[base[0], ("error_kind", "error")]),
        1
    );
}

/// A poll function that waits through `ready!`, whose `return
/// Poll::Pending` is hidden in the macro.
#[observe(flow = "poll")]
fn poll_inner(
    inner: std::task::Poll<Result<u32, std::num::ParseIntError>>,
) -> std::task::Poll<Result<u32, std::num::ParseIntError>> {
    let value = std::task::ready!(inner)?;
    std::task::Poll::Ready(Ok(value + 1))
}

#[test]
fn waiting_through_ready_is_not_an_error() {
    use std::task::Poll;
    let (_, captured) = capture(|| {
        assert_eq!(poll_inner(Poll::Pending), Poll::Pending);
        assert_eq!(poll_inner(Poll::Ready(Ok(1))), Poll::Ready(Ok(2)));
        let failed = "x".parse::<u32>().map(|_| 0);
        assert!(matches!(
            poll_inner(Poll::Ready(failed)),
            Poll::Ready(Err(_))
        ));
    });
    let calls = |outcome| {
        captured.counter(
            "flow_calls_total",
            &[
                ("flow", "poll"),
                ("function", "poll_inner"),
                ("outcome", outcome),
            ],
        )
    };
    assert_eq!((calls("ok"), calls("error")), (2, 1));
}

/// A stream's `poll_next`: a `Ready(Some(Err(..)))` is an error.
#[observe(flow = "poll")]
fn poll_next(
    item: Option<Result<u32, std::num::ParseIntError>>,
) -> std::task::Poll<Option<Result<u32, std::num::ParseIntError>>> {
    std::task::Poll::Ready(item)
}

#[test]
fn a_streams_failed_item_is_an_error() {
    let (_, captured) = capture(|| {
        let _ = poll_next(Some(Ok(1)));
        let _ = poll_next(None);
        let _ = poll_next(Some("x".parse::<u32>()));
    });
    let calls = |outcome| {
        captured.counter(
            "flow_calls_total",
            &[
                ("flow", "poll"),
                ("function", "poll_next"),
                ("outcome", outcome),
            ],
        )
    };
    assert_eq!((calls("ok"), calls("error")), (2, 1));
}

#[test]
fn panics_are_recorded_and_continue() {
    let captured = capture_panic(|| {
        explode(true);
    });
    let labels = [
        ("flow", "inventory"),
        ("function", "explode"),
        ("outcome", "panic"),
    ];
    assert_eq!(captured.counter("flow_calls_total", &labels), 1);
    assert_eq!(
        captured.counter(
            "flow_errors_total",
            &[("flow", "inventory"), ("error_kind", "panic")]
        ),
        1
    );
    assert_eq!(
        captured
            .histogram("flow_call_duration_seconds", &labels)
            .len(),
        1
    );
    assert_eq!(
        captured.gauge("flow_calls_in_flight", &[("flow", "inventory")]),
        0.0
    );
}

#[test]
fn async_calls_measure_until_ready() {
    let (result, captured) = capture_async(async {
        authorize(20).await.unwrap();
        authorize(0).await
    });
    result.unwrap();
    let labels = [
        ("flow", "payment"),
        ("function", "authorize"),
        ("outcome", "ok"),
    ];
    assert_eq!(captured.counter("flow_calls_total", &labels), 2);
    let durations = captured.histogram("flow_call_duration_seconds", &labels);
    assert!(
        durations.iter().any(|d| *d >= 0.019),
        "the 20 ms call is measured until ready: {durations:?}"
    );
    assert_eq!(
        captured.gauge("flow_calls_in_flight", &[("flow", "payment")]),
        0.0
    );
}

#[test]
fn dropped_futures_are_cancelled() {
    let (_, captured) = capture_async(async {
        // Polled once (it starts), then dropped by the timeout.
        let timed_out = tokio::time::timeout(Duration::from_millis(10), authorize(10_000)).await;
        assert!(timed_out.is_err());
        tokio::select! {
            _ = authorize(10_000) => unreachable!("the sleep is longer"),
            _ = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
        // Never polled: nothing to record.
        drop(authorize(1));
    });
    let cancelled = [("flow", "payment"), ("outcome", "cancelled")];
    assert_eq!(captured.counter("flow_calls_total", &cancelled), 2);
    assert_eq!(
        captured.counter("flow_calls_total", &[("flow", "payment")]),
        2
    );
    assert_eq!(
        captured.gauge("flow_calls_in_flight", &[("flow", "payment")]),
        0.0
    );
    assert!(
        captured
            .find("flow_errors_total", &[("flow", "payment")])
            .is_empty()
    );
}

#[test]
fn nothing_is_recorded_without_a_recorder() {
    // No recorder and no subscriber: the call works and records nothing.
    assert_eq!(charge(Tier::Pro, 4).unwrap(), 4);
    let (_, captured) = capture(|| ());
    assert!(captured.series.is_empty());
}

#[test]
fn catalog_lists_functions_and_their_slos() {
    #[observe(
        flow = "search",
        slo(availability = 99.9, latency = "300ms", percentile = 99.0)
    )]
    fn search() {}
    search();
    let info = observe::catalog()
        .find(|f| f.meta.flow == "search")
        .expect("registered at compile time");
    let slo = info.slo().unwrap();
    assert_eq!(slo.availability, Some(99.9));
    assert_eq!(slo.latency_seconds, Some(0.3));
    assert_eq!(slo.percentile, Some(99.0));
    assert!(
        observe::catalog()
            .any(|f| f.meta.flow == "checkout" && f.meta.label_keys == ["tier", "region"])
    );

    let (_, captured) = capture(search);
    assert_eq!(
        captured.gauge(
            "flow_slo_objective_ratio",
            &[("flow", "search"), ("objective", "availability")]
        ),
        0.999
    );
    assert_eq!(
        captured.gauge(
            "flow_slo_objective_ratio",
            &[("flow", "search"), ("objective", "latency")]
        ),
        0.99
    );
    assert_eq!(
        captured.gauge("flow_slo_latency_threshold_seconds", &[("flow", "search")]),
        0.3
    );
}

/// A hand-written `Label`: the values and `label` are enough.
#[derive(Clone, Copy)]
enum Channel {
    Web,
    Mobile,
}

impl observe::Label for Channel {
    const VALUES: &'static [&'static str] = &["web", "mobile"];

    fn label(&self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Mobile => "mobile",
        }
    }
}

#[observe(flow = "browse", labels(channel = channel))]
fn browse(channel: Channel) {}

#[test]
fn hand_written_labels_work() {
    let (_, captured) = capture(|| {
        browse(Channel::Mobile);
        browse(Channel::Web);
        browse(Channel::Mobile);
    });
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("flow", "browse"), ("channel", "mobile")]
        ),
        2
    );
    assert_eq!(
        captured.counter(
            "flow_calls_total",
            &[("flow", "browse"), ("channel", "web")]
        ),
        1
    );
}
