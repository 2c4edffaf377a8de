//! The metric names and label keys `#[observe]` emits, for dashboards,
//! alert rules and tests.

/// Calls, by `flow`, `function`, `module`, `outcome` and the user's labels.
pub const CALLS_TOTAL: &str = "flow_calls_total";
/// Failed calls, by `flow`, `function`, `module`, `error_kind` and the user's labels.
pub const ERRORS_TOTAL: &str = "flow_errors_total";
/// Call latency in seconds, by `flow`, `function`, `module`, `outcome` and the user's labels.
pub const CALL_DURATION_SECONDS: &str = "flow_call_duration_seconds";
/// Calls currently running, by `flow`, `function`, `module`.
pub const CALLS_IN_FLIGHT: &str = "flow_calls_in_flight";
/// The SLO objectives of a function as ratios (`objective` = `availability` or `latency`).
pub const SLO_OBJECTIVE_RATIO: &str = "flow_slo_objective_ratio";
/// The latency threshold of a function's latency SLO, in seconds.
pub const SLO_LATENCY_THRESHOLD_SECONDS: &str = "flow_slo_latency_threshold_seconds";

/// The label keys every series carries.
pub mod keys {
    /// The business flow.
    pub const FLOW: &str = "flow";
    /// The function (`Type::method` for methods).
    pub const FUNCTION: &str = "function";
    /// The module path.
    pub const MODULE: &str = "module";
    /// `ok`, `error`, `panic` or `cancelled`.
    pub const OUTCOME: &str = "outcome";
    /// The error's variant for `Label` errors, otherwise `error`; `panic` for panics.
    pub const ERROR_KIND: &str = "error_kind";
}
