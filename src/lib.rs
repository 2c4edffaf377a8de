//! Backend code that explains itself: one attribute gives a business
//! function a `tracing` span, RED metrics with labels bounded at compile
//! time, and a redacted structured log line, correlated by trace id; one
//! call wires JSON logs, OTLP traces, Prometheus and a flight recorder.
//!
//! ```no_run
//! use observe::observe;
//!
//! #[observe(flow = "checkout", slow = "250ms")]
//! fn charge(card_number: &str, cents: u64) -> Result<u64, std::io::Error> {
//!     Ok(cents) // `card_number` is recorded as "[REDACTED]"
//! }
//!
//! fn main() {
//!     let _telemetry = observe::init(); // flushes on drop
//!     charge("4111 1111 1111 1111", 4200).unwrap();
//! }
//! ```
//!
//! - [`macro@observe`]: the attribute, its options, what it records and every compile
//!   error.
//! - [`Label`](trait@Label): the bounded label values (derive it on enums).
//! - [`init`] and [`Telemetry`] (feature `init`, on by default): logs, traces,
//!   metrics and the flight recorder in one call; [`http`] (feature `http`):
//!   the axum layer, routes and the propagating client.
//! - [`Sensitive`], [`set_hash_key`], [`redact`]: keeping secrets out of
//!   every output.
#![deny(missing_docs)]

#[doc = include_str!("../docs/attribute.md")]
pub use observe_macros::observe;

/// Derives [`Label`](trait@Label) for an enum: each variant is one label
/// value, its name in snake_case unless `#[label(rename = "...")]` says
/// otherwise; data-carrying variants are one value each. Structs and unions
/// are refused.
pub use observe_macros::Label;
pub use observe_runtime::{
    FunctionInfo, HashKeyError, Label, MIN_HASH_KEY_LEN, OTHER, REDACTED, Sensitive, SloInfo,
    catalog, in_guarded_formatting, metric_names, names, set_hash_key,
};

/// Redaction helpers: the scrubber every recorded text goes through.
pub mod redact {
    pub use observe_runtime::redact::{
        FORMAT_CAP, MAX_TEXT_LEN, debug_text, display_text, is_card_number, scrub, truncate,
    };
}

/// Sampling hooks (used by `observe::init` to sample per OpenTelemetry trace).
pub mod sampling {
    pub use observe_runtime::sampling::{TraceIdSource, set_trace_id_source};
}

/// What generated code names. Not a stable API: it changes in any
/// release, and the facade, the macros and the runtime require each other
/// at exact versions, so generated code always meets its own runtime.
#[doc(hidden)]
pub mod __private {
    pub use ::inventory;
    pub use ::tracing::Level;
    pub use observe_runtime::__private::*;
    pub use observe_runtime::Label;
}

// --- telemetry re-exports (observe-telemetry) ---
#[cfg(feature = "http")]
pub use observe_telemetry::http;
#[cfg(feature = "init")]
pub use observe_telemetry::{
    CapturedLogs, Change, FlightRecorder, FlightRecorderConfig, FlowKnobs, Flows, InitError,
    KeepReason, LogBufferConfig, LogFilterHandle, LogFormat, LogWriter, MetricsConfig,
    MetricsTemporality, OtlpProtocol, PrometheusHandle, RecordedTrace, SamplerConfig,
    SpanEventRecord, SpanRecord, SpanStatus, Telemetry, TelemetryGuard, WaterfallStyle, context_of,
    flight_recorder, flows, log_buffer_bytes, metrics_handle, set_parent,
};

#[cfg(feature = "init")]
#[doc = include_str!("../docs/telemetry.md")]
pub use observe_telemetry::init;
