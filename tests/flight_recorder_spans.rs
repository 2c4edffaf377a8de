//! What the flight recorder keeps of observed calls under `observe::init`
//! with no exporter (where the recorder alone decides, before a root's span
//! is even built): ordinary traces are dropped, failed and slow ones kept
//! whole; a completion event is a span event unless it is routine (a fast
//! success without `ret`, below ERROR); a span lasts exactly as long as its
//! call's measured latency.

use std::time::Duration;

use observe::{FlightRecorderConfig, KeepReason, RecordedTrace, observe};

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}

impl std::error::Error for Declined {}

#[observe(flow = "recorder")]
fn ordinary() -> u32 {
    1
}

#[observe(flow = "recorder", ret)]
fn priced() -> u32 {
    42
}

#[observe(flow = "recorder")]
fn charge(fail: bool) -> Result<u32, Declined> {
    if fail { Err(Declined) } else { Ok(1) }
}

/// A success at ERROR: its line marks the span failed, as any ERROR event
/// inside a span does.
#[observe(flow = "recorder", level = "error")]
fn loud() -> u32 {
    3
}

#[observe(flow = "recorder", slow = "1ms")]
fn sleepy() {
    std::thread::sleep(Duration::from_millis(5));
}

/// A root whose own call succeeds, over children: one ordinary, one with
/// `ret`, and one that may fail.
#[observe(flow = "recorder")]
fn checkout(fail: bool) -> u32 {
    ordinary() + priced() + charge(fail).unwrap_or(0)
}

fn events_of<'t>(trace: &'t RecordedTrace, span: &str) -> Vec<&'t str> {
    let span = trace
        .spans
        .iter()
        .find(|s| s.name == span)
        .unwrap_or_else(|| panic!("no span {span} in {trace:?}"));
    span.events.iter().map(|e| e.name.as_str()).collect()
}

fn attribute<'t>(trace: &'t RecordedTrace, span: &str, event: &str, key: &str) -> Option<&'t str> {
    trace
        .spans
        .iter()
        .find(|s| s.name == span)?
        .events
        .iter()
        .find(|e| e.name == event)?
        .attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn ordinary_traces_are_dropped_and_failed_or_slow_ones_kept_with_their_events() {
    let (log_writer, _logs) = observe::LogWriter::memory();
    let _telemetry = observe::Telemetry::builder()
        .service_name("flight-recorder-spans")
        .log_writer(log_writer)
        .log_filter("info")
        .flight_recorder(FlightRecorderConfig {
            // Only what fails or is slow is kept.
            sample_rate: 0.0,
            ..Default::default()
        })
        .try_init()
        .expect("init");
    let recorder = observe::flight_recorder().expect("the flight recorder");
    assert!(recorder.traces().is_empty());

    for _ in 0..20 {
        ordinary();
        priced();
        assert_eq!(checkout(false), 44);
    }
    recorder.settle_all();
    assert!(recorder.traces().is_empty(), "{:?}", recorder.traces());
    assert_eq!(recorder.dropped(), 60);

    // A failed child keeps its ok root's trace: every span of it, the
    // routine completions without events, the others with theirs.
    assert_eq!(checkout(true), 43);
    assert!(charge(true).is_err());
    sleepy();
    assert_eq!(loud(), 3);
    recorder.settle_all();
    let traces = recorder.traces();
    assert_eq!(traces.len(), 4, "{traces:?}");
    assert_eq!(recorder.dropped(), 60);

    let nested = &traces[0];
    assert_eq!(nested.keep_reason, KeepReason::Error);
    let mut names: Vec<&str> = nested.spans.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["charge", "checkout", "ordinary", "priced"]);
    assert_eq!(events_of(nested, "checkout"), Vec::<&str>::new());
    assert_eq!(events_of(nested, "ordinary"), Vec::<&str>::new());
    assert_eq!(events_of(nested, "priced"), ["call completed"]);
    assert_eq!(
        attribute(nested, "priced", "call completed", "return"),
        Some("42")
    );
    assert_eq!(events_of(nested, "charge"), ["call failed"]);
    assert_eq!(
        attribute(nested, "charge", "call failed", "error.message"),
        Some("card declined")
    );

    let failed = &traces[1];
    assert_eq!(failed.keep_reason, KeepReason::Error);
    assert_eq!(events_of(failed, "charge"), ["call failed"]);

    let slow = &traces[2];
    assert_eq!(slow.keep_reason, KeepReason::Slow);
    assert_eq!(events_of(slow, "sleepy"), ["slow call"]);
    assert_eq!(attribute(slow, "sleepy", "slow call", "slow"), Some("true"));
    // The span starts and ends at the instants the call's latency is
    // measured between: its length is the line's duration_ms.
    let span = slow.spans.iter().find(|s| s.name == "sleepy").unwrap();
    let span_ms = span.end.duration_since(span.start).unwrap().as_secs_f64() * 1e3;
    let line_ms: f64 = attribute(slow, "sleepy", "slow call", "duration_ms")
        .expect("duration_ms")
        .parse()
        .unwrap();
    assert!(
        (span_ms - line_ms).abs() < 0.002,
        "span {span_ms} ms, line {line_ms} ms"
    );
    // Its body counts as entered from the call's start: busy the whole
    // call, never idle.
    let nanos = |key: &str| -> i64 {
        let (_, value) = span.attributes.iter().find(|(k, _)| k == key).unwrap();
        value.parse().unwrap()
    };
    assert_eq!(nanos("idle_ns"), 0);
    assert_eq!(
        nanos("busy_ns"),
        span.end.duration_since(span.start).unwrap().as_nanos() as i64
    );

    let loud = &traces[3];
    assert_eq!(loud.keep_reason, KeepReason::Error);
    assert_eq!(events_of(loud, "loud"), ["call completed"]);
}
