//! # observe
//!
//! One attribute makes a business function explain itself:
//!
//! ```ignore
//! #[observe::observe(flow = "checkout", labels(tier = customer.tier), slow = "250ms")]
//! async fn checkout(customer: &Customer, card_number: &str) -> Result<Receipt, CheckoutError> { ... }
//! ```
//!
//! Each call gets a `tracing` span, RED metrics through the `metrics`
//! facade (`flow_calls_total`, `flow_errors_total`,
//! `flow_call_duration_seconds`, `flow_calls_in_flight`) with bounded labels
//! checked at compile time, and one redacted completion event. See the
//! README for every option and every compile error.

pub use observe_macros::{Label, observe};
pub use observe_runtime::{
    FunctionInfo, HashKeyError, Label, REDACTED, Sensitive, SloInfo, catalog, metric_names, names,
    set_hash_key,
};

/// Redaction helpers: the scrubber every recorded text goes through.
pub mod redact {
    pub use observe_runtime::redact::{MAX_TEXT_LEN, debug_text, display_text, scrub};
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
    LogBufferConfig, LogFilterHandle, LogFormat, LogWriter, OtlpProtocol, PrometheusHandle,
    RecordedTrace, SamplerConfig, Telemetry, TelemetryGuard, WaterfallStyle, flight_recorder,
    flows, init, log_buffer_bytes, metrics_handle,
};
