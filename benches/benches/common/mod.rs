//! The functions every benchmark compares, in one place: the bare call,
//! the annotated one, what a user writes by hand for the same signals, and
//! the floor of what is recorded. Each benchmark uses its own subset.
#![allow(dead_code)]

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Instant;

use metrics::{Counter, Gauge, Histogram};
use observe::observe;

#[inline(never)]
pub fn bare(x: u64) -> u64 {
    black_box(x) + 1
}

#[observe(flow = "bench", labels(region = "eu"))]
#[inline(never)]
pub fn observed(x: u64) -> u64 {
    black_box(x) + 1
}

/// What a user writes today for the same signals.
#[inline(never)]
pub fn hand_written(x: u64) -> u64 {
    let span = tracing::info_span!(
        "hand_written",
        flow = "bench",
        code.function = "hand_written",
        x
    );
    let _entered = span.enter();
    metrics::gauge!("hand_calls_in_flight", "flow" => "bench", "function" => "hand_written", "module" => module_path!())
        .increment(1.0);
    let start = Instant::now();
    let result = black_box(x) + 1;
    let seconds = start.elapsed().as_secs_f64();
    metrics::counter!("hand_calls_total", "flow" => "bench", "function" => "hand_written", "module" => module_path!(), "outcome" => "ok", "region" => "eu")
        .increment(1);
    metrics::histogram!("hand_call_duration_seconds", "flow" => "bench", "function" => "hand_written", "module" => module_path!(), "outcome" => "ok", "region" => "eu")
        .record(seconds);
    metrics::gauge!("hand_calls_in_flight", "flow" => "bench", "function" => "hand_written", "module" => module_path!())
        .decrement(1.0);
    tracing::info!(
        flow = "bench",
        function = "hand_written",
        outcome = "ok",
        duration_ms = seconds * 1e3,
        "call completed"
    );
    result
}

/// The floor: two clock reads, a counter, a histogram sample, an in-flight
/// increment and decrement, through handles resolved once.
#[inline(never)]
pub fn floor(x: u64) -> u64 {
    static HANDLES: OnceLock<(Counter, Histogram, Gauge)> = OnceLock::new();
    let (calls, duration, in_flight) = HANDLES.get_or_init(|| {
        (
            metrics::counter!("floor_calls_total", "outcome" => "ok"),
            metrics::histogram!("floor_call_duration_seconds", "outcome" => "ok"),
            metrics::gauge!("floor_calls_in_flight"),
        )
    });
    in_flight.increment(1.0);
    let start = Instant::now();
    let result = black_box(x) + 1;
    let seconds = start.elapsed().as_secs_f64();
    calls.increment(1);
    duration.record(seconds);
    in_flight.decrement(1.0);
    result
}
