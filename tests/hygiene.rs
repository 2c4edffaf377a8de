//! Generated code is hygienic and lint-clean in a crate that forbids unsafe
//! code, denies common lints, and has its own `tracing`, `metrics`, `core`
//! and `observe`-lookalike items in scope.
#![forbid(unsafe_code)]
#![deny(
    unused,
    unused_qualifications,
    missing_debug_implementations,
    clippy::all
)]

#[allow(unused_qualifications, missing_debug_implementations)]
mod support;

#[allow(dead_code)]
mod tracing {
    pub struct Span;
}
#[allow(dead_code)]
mod metrics {
    pub fn counter() {}
}
#[allow(dead_code)]
struct Observation;
#[allow(dead_code)]
struct CallSite;

use observe::observe;

#[observe(flow = "hygiene", ret)]
fn shadowed(value: u32) -> Result<u32, String> {
    if value == 0 {
        Err("zero".into())
    } else {
        Ok(value)
    }
}

#[observe]
async fn shadowed_async(value: u32) -> u32 {
    value
}

#[test]
fn shadowing_items_do_not_leak_into_generated_code() {
    let (_, captured) = support::capture(|| {
        shadowed(1).unwrap();
        shadowed(0).unwrap_err();
    });
    assert_eq!(
        captured.counter("flow_calls_total", &[("flow", "hygiene")]),
        2
    );
    let (value, _) = support::capture_async(shadowed_async(3));
    assert_eq!(value, 3);
}
