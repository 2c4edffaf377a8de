//! The metric names and label keys `#[observe]` emits, for dashboards,
//! alert rules and tests. Re-exported from `observe_attr::schema`, where
//! they (with kinds, units, descriptions and outcomes) are defined once.

use observe_attr::schema;

/// Calls, by `flow`, `function`, `module`, `outcome` and the user's labels.
pub const CALLS_TOTAL: &str = schema::CALLS_TOTAL.name;
/// Failed calls, by `flow`, `function`, `module`, `error_kind` and the user's labels.
pub const ERRORS_TOTAL: &str = schema::ERRORS_TOTAL.name;
/// Call latency in seconds, by `flow`, `function`, `module`, `outcome` and the user's labels.
pub const CALL_DURATION_SECONDS: &str = schema::CALL_DURATION_SECONDS.name;
/// Calls currently running, by `flow`, `function`, `module`.
pub const CALLS_IN_FLIGHT: &str = schema::CALLS_IN_FLIGHT.name;
/// The SLO objectives of a function as ratios (`objective` = `availability` or `latency`).
pub const SLO_OBJECTIVE_RATIO: &str = schema::SLO_OBJECTIVE_RATIO.name;
/// The latency threshold of a function's latency SLO, in seconds.
pub const SLO_LATENCY_THRESHOLD_SECONDS: &str = schema::SLO_LATENCY_THRESHOLD_SECONDS.name;
/// HTTP server request latency, by `http_request_method`, `http_route` and
/// `http_response_status_code` (the `http` feature's layer).
pub const HTTP_SERVER_REQUEST_DURATION_SECONDS: &str =
    schema::http::SERVER_REQUEST_DURATION_SECONDS.name;

/// The label keys every series carries.
pub mod keys {
    use observe_attr::schema::label;

    /// The business flow.
    pub const FLOW: &str = label::FLOW;
    /// The function (`Type::method` for methods).
    pub const FUNCTION: &str = label::FUNCTION;
    /// The module path.
    pub const MODULE: &str = label::MODULE;
    /// `ok`, `error`, `panic` or `cancelled`.
    pub const OUTCOME: &str = label::OUTCOME;
    /// The error's variant for `Label` errors, otherwise `error`; `panic` for panics.
    pub const ERROR_KIND: &str = label::ERROR_KIND;
}
