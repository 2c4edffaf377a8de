//! Everything `#[observe]` emits, named once: metrics (name, kind, unit,
//! description, the label keys observe sets), the outcomes, the error kinds
//! observe itself uses, the span and completion-event field names, and the
//! label keys a user may not take.
//!
//! The macro, the runtime, the telemetry crate and `cargo observe` (rules,
//! dashboards, lint) read these constants instead of spelling the names
//! out; `cli/tests/schema.rs` checks that what the runtime records is what
//! the generated PromQL queries. Compiled without the `syntax` feature.

/// What kind of instrument a metric is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// A monotonic counter (`_total`).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A histogram: Prometheus exposes `_bucket` (with `le`), `_sum` and `_count`.
    Histogram,
}

/// The unit of a metric's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A number of things (calls).
    Count,
    /// Seconds.
    Seconds,
    /// A ratio between 0 and 1 (metrics-rs has no unit for it: describe it without one).
    Ratio,
}

/// One metric observe emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    /// The metric name, as exported (Prometheus adds `_bucket`, `_sum`,
    /// `_count` to histograms).
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The unit of the values.
    pub unit: Unit,
    /// The description given to the recorder (the Prometheus `# HELP`).
    pub description: &'static str,
    /// The label keys observe sets on every series, in order.
    pub labels: &'static [&'static str],
    /// Whether the function's own `labels(...)` are added after [`Metric::labels`].
    pub user_labels: bool,
}

/// The label keys of the metrics.
pub mod label {
    /// The business flow.
    pub const FLOW: &str = "flow";
    /// The function (`Type::method` for methods).
    pub const FUNCTION: &str = "function";
    /// The module path.
    pub const MODULE: &str = "module";
    /// The outcome of the call: one of [`super::OUTCOME_NAMES`].
    pub const OUTCOME: &str = "outcome";
    /// The error's variant for `Label` errors, otherwise
    /// [`super::error_kind::DEFAULT`]; [`super::error_kind::PANIC`] for panics.
    pub const ERROR_KIND: &str = "error_kind";
    /// Which objective an SLO gauge describes: [`super::objective::AVAILABILITY`]
    /// or [`super::objective::LATENCY`].
    pub const OBJECTIVE: &str = "objective";
    /// Histogram bucket bounds (set by Prometheus exporters).
    pub const LE: &str = "le";
    /// Summary quantiles (set by Prometheus exporters).
    pub const QUANTILE: &str = "quantile";
}

/// The label keys every series of an observed function carries.
pub const BASE_LABEL_KEYS: [&str; 3] = [label::FLOW, label::FUNCTION, label::MODULE];

/// Label keys Prometheus itself gives a meaning.
pub const PROMETHEUS_LABEL_KEYS: [&str; 2] = [label::LE, label::QUANTILE];

const BASE_AND_OUTCOME: &[&str] = &[label::FLOW, label::FUNCTION, label::MODULE, label::OUTCOME];
const BASE_AND_ERROR_KIND: &[&str] = &[
    label::FLOW,
    label::FUNCTION,
    label::MODULE,
    label::ERROR_KIND,
];
const BASE_AND_OBJECTIVE: &[&str] = &[
    label::FLOW,
    label::FUNCTION,
    label::MODULE,
    label::OBJECTIVE,
];

/// Calls, by `flow`, `function`, `module`, `outcome` and the user's labels.
pub const CALLS_TOTAL: Metric = Metric {
    name: "flow_calls_total",
    kind: MetricKind::Counter,
    unit: Unit::Count,
    description: "Calls of observed functions, by outcome (ok, error, panic, cancelled).",
    labels: BASE_AND_OUTCOME,
    user_labels: true,
};

/// Failed calls, by `flow`, `function`, `module`, `error_kind` and the user's labels.
pub const ERRORS_TOTAL: Metric = Metric {
    name: "flow_errors_total",
    kind: MetricKind::Counter,
    unit: Unit::Count,
    description: "Failed calls of observed functions, by error kind.",
    labels: BASE_AND_ERROR_KIND,
    user_labels: true,
};

/// Call latency in seconds, by `flow`, `function`, `module`, `outcome` and the user's labels.
pub const CALL_DURATION_SECONDS: Metric = Metric {
    name: "flow_call_duration_seconds",
    kind: MetricKind::Histogram,
    unit: Unit::Seconds,
    description: "Latency of observed functions, from entry (first poll) until the output is ready.",
    labels: BASE_AND_OUTCOME,
    user_labels: true,
};

/// Calls currently running, by `flow`, `function`, `module`.
pub const CALLS_IN_FLIGHT: Metric = Metric {
    name: "flow_calls_in_flight",
    kind: MetricKind::Gauge,
    unit: Unit::Count,
    description: "Calls of observed functions currently running.",
    labels: &BASE_LABEL_KEYS,
    user_labels: false,
};

/// The SLO objectives of a function as ratios, by `flow`, `function`,
/// `module`, `objective`.
pub const SLO_OBJECTIVE_RATIO: Metric = Metric {
    name: "flow_slo_objective_ratio",
    kind: MetricKind::Gauge,
    unit: Unit::Ratio,
    description: "Service-level objectives of observed functions, as ratios.",
    labels: BASE_AND_OBJECTIVE,
    user_labels: false,
};

/// The latency threshold of a function's latency SLO, in seconds.
pub const SLO_LATENCY_THRESHOLD_SECONDS: Metric = Metric {
    name: "flow_slo_latency_threshold_seconds",
    kind: MetricKind::Gauge,
    unit: Unit::Seconds,
    description: "Latency thresholds of the latency objectives of observed functions.",
    labels: &BASE_LABEL_KEYS,
    user_labels: false,
};

/// Every metric of an observed function.
pub const FUNCTION_METRICS: [Metric; 6] = [
    CALLS_TOTAL,
    ERRORS_TOTAL,
    CALL_DURATION_SECONDS,
    CALLS_IN_FLIGHT,
    SLO_OBJECTIVE_RATIO,
    SLO_LATENCY_THRESHOLD_SECONDS,
];

/// The HTTP layer's metrics (OpenTelemetry semantic conventions, with `_`
/// for `.`).
pub mod http {
    use super::{Metric, MetricKind, Unit};

    /// The request method (`GET`, ..., or `_OTHER`).
    pub const REQUEST_METHOD: &str = "http_request_method";
    /// The matched route template, or `unmatched`.
    pub const ROUTE: &str = "http_route";
    /// The response status code.
    pub const RESPONSE_STATUS_CODE: &str = "http_response_status_code";

    /// Server request latency, by method, route and status.
    pub const SERVER_REQUEST_DURATION_SECONDS: Metric = Metric {
        name: "http_server_request_duration_seconds",
        kind: MetricKind::Histogram,
        unit: Unit::Seconds,
        description: "Duration of HTTP server requests, by method, route template and status code.",
        labels: &[REQUEST_METHOD, ROUTE, RESPONSE_STATUS_CODE],
        user_labels: false,
    };
}

/// One way a call can end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The `outcome` label value and event field value.
    pub name: &'static str,
    /// The position in [`OUTCOMES`]: runtimes index per-outcome handles by it.
    pub index: usize,
    /// Whether the call failed: failures spend the availability budget.
    pub failure: bool,
}

/// Returned normally (including `Ok`).
pub const OK: Outcome = Outcome {
    name: "ok",
    index: 0,
    failure: false,
};
/// Returned `Err`.
pub const ERROR: Outcome = Outcome {
    name: "error",
    index: 1,
    failure: true,
};
/// Panicked.
pub const PANIC: Outcome = Outcome {
    name: "panic",
    index: 2,
    failure: true,
};
/// The future was dropped after its first poll, before completing: the
/// caller gave up, so it is traffic but not a failure.
pub const CANCELLED: Outcome = Outcome {
    name: "cancelled",
    index: 3,
    failure: false,
};

/// Every outcome, by index.
pub const OUTCOMES: [Outcome; 4] = [OK, ERROR, PANIC, CANCELLED];

/// How many outcomes there are: every label combination is multiplied by it.
pub const OUTCOME_COUNT: usize = OUTCOMES.len();

/// Outcome names by index.
pub const OUTCOME_NAMES: [&str; OUTCOME_COUNT] = {
    let mut names = [""; OUTCOME_COUNT];
    let mut i = 0;
    while i < OUTCOME_COUNT {
        // An outcome's index is its position: checked at compile time.
        assert!(OUTCOMES[i].index == i);
        names[i] = OUTCOMES[i].name;
        i += 1;
    }
    names
};

/// The outcome name of `index` (one of `0..OUTCOME_COUNT`).
pub const fn outcome_name(index: usize) -> &'static str {
    OUTCOME_NAMES[index]
}

/// The outcomes that count as failures, in index order.
pub fn failed_outcomes() -> impl Iterator<Item = &'static Outcome> {
    OUTCOMES.iter().filter(|o| o.failure)
}

/// The PromQL regular expression that matches the failed outcomes
/// (`error|panic`), for `outcome=~"..."`.
pub fn failed_outcomes_regex() -> String {
    failed_outcomes()
        .map(|o| o.name)
        .collect::<Vec<_>>()
        .join("|")
}

/// The `error_kind` values observe itself sets (a `Label` error adds its
/// variants' labels).
pub mod error_kind {
    /// An error whose type does not implement `Label`.
    pub const DEFAULT: &str = "error";
    /// A panic.
    pub const PANIC: &str = "panic";
}

/// The `objective` values of [`SLO_OBJECTIVE_RATIO`].
pub mod objective {
    /// `slo(availability = ...)`.
    pub const AVAILABILITY: &str = "availability";
    /// `slo(latency = ..., percentile = ...)`.
    pub const LATENCY: &str = "latency";
}

/// The fields of the span of an observed call.
pub mod span_field {
    /// The business flow.
    pub const FLOW: &str = "flow";
    /// The function (OpenTelemetry `code.function`).
    pub const FUNCTION: &str = "code.function";
    /// The module path (OpenTelemetry `code.namespace`).
    pub const NAMESPACE: &str = "code.namespace";
    /// `ERROR` when the call failed.
    pub const OTEL_STATUS_CODE: &str = "otel.status_code";
    /// The error's type, or the kind of failure.
    pub const ERROR_TYPE: &str = "error.type";
}

/// Every field observe sets on the span.
pub const SPAN_FIELDS: [&str; 5] = [
    span_field::FLOW,
    span_field::FUNCTION,
    span_field::NAMESPACE,
    span_field::OTEL_STATUS_CODE,
    span_field::ERROR_TYPE,
];

/// The fields of the completion event (the log line of a call).
pub mod event_field {
    /// The business flow.
    pub const FLOW: &str = "flow";
    /// The function.
    pub const FUNCTION: &str = "function";
    /// One of [`super::OUTCOME_NAMES`].
    pub const OUTCOME: &str = "outcome";
    /// The call's duration in milliseconds.
    pub const DURATION_MS: &str = "duration_ms";
    /// The `error_kind` of a failed call.
    pub const ERROR_KIND: &str = "error.kind";
    /// The error's message, scrubbed and truncated.
    pub const ERROR_MESSAGE: &str = "error.message";
    /// `true` when the call was slower than its `slow` threshold.
    pub const SLOW: &str = "slow";
    /// The return value (with `ret`).
    pub const RETURN: &str = "return";
    /// The event's message.
    pub const MESSAGE: &str = "message";
}

/// Every field observe sets on the completion event.
pub const EVENT_FIELDS: [&str; 9] = [
    event_field::FLOW,
    event_field::FUNCTION,
    event_field::OUTCOME,
    event_field::DURATION_MS,
    event_field::ERROR_KIND,
    event_field::ERROR_MESSAGE,
    event_field::SLOW,
    event_field::RETURN,
    event_field::MESSAGE,
];

/// The first dotted segment of every span and event field (`code` for
/// `code.function`), each once: names a user's field or argument may not
/// take (an argument named so is recorded as `arg.<name>`).
pub const OWN_FIELDS: [&str; OWN_FIELD_COUNT] = {
    let mut out = [""; OWN_FIELD_COUNT];
    let mut len = 0;
    let mut i = 0;
    while i < ALL_FIELDS.len() {
        let root = root(ALL_FIELDS[i]);
        if !contains(&out, len, root) {
            out[len] = root;
            len += 1;
        }
        i += 1;
    }
    out
};

/// The label keys a user's `labels(...)` may not use: those observe sets
/// and those Prometheus gives a meaning.
pub const RESERVED_LABEL_KEYS: [&str; 7] = [
    BASE_LABEL_KEYS[0],
    BASE_LABEL_KEYS[1],
    BASE_LABEL_KEYS[2],
    label::OUTCOME,
    label::ERROR_KIND,
    PROMETHEUS_LABEL_KEYS[0],
    PROMETHEUS_LABEL_KEYS[1],
];

const ALL_FIELDS: [&str; SPAN_FIELDS.len() + EVENT_FIELDS.len()] = {
    let mut out = [""; SPAN_FIELDS.len() + EVENT_FIELDS.len()];
    let mut i = 0;
    while i < SPAN_FIELDS.len() {
        out[i] = SPAN_FIELDS[i];
        i += 1;
    }
    let mut j = 0;
    while j < EVENT_FIELDS.len() {
        out[i + j] = EVENT_FIELDS[j];
        j += 1;
    }
    out
};

/// How many distinct roots [`OWN_FIELDS`] has.
const OWN_FIELD_COUNT: usize = {
    let mut seen = [""; ALL_FIELDS.len()];
    let mut len = 0;
    let mut i = 0;
    while i < ALL_FIELDS.len() {
        let root = root(ALL_FIELDS[i]);
        if !contains(&seen, len, root) {
            seen[len] = root;
            len += 1;
        }
        i += 1;
    }
    len
};

/// `code` for `code.function`.
const fn root(name: &str) -> &str {
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'.' {
            return name.split_at(i).0;
        }
        i += 1;
    }
    name
}

/// Whether `items[..len]` holds `name` (a `const` `contains`).
const fn contains(items: &[&str], len: usize, name: &str) -> bool {
    let mut i = 0;
    while i < len {
        if eq(items[i], name) {
            return true;
        }
        i += 1;
    }
    false
}

const fn eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_by_index() {
        assert_eq!(OUTCOME_NAMES, ["ok", "error", "panic", "cancelled"]);
        assert_eq!(outcome_name(2), "panic");
        assert_eq!(failed_outcomes_regex(), "error|panic");
    }

    #[test]
    fn own_fields_are_the_roots_of_span_and_event_fields() {
        assert_eq!(
            OWN_FIELDS,
            [
                "flow",
                "code",
                "otel",
                "error",
                "function",
                "outcome",
                "duration_ms",
                "slow",
                "return",
                "message"
            ]
        );
    }

    #[test]
    fn reserved_keys() {
        assert_eq!(
            RESERVED_LABEL_KEYS,
            [
                "flow",
                "function",
                "module",
                "outcome",
                "error_kind",
                "le",
                "quantile"
            ]
        );
        // Every key a metric's series carries is reserved, but `objective`,
        // which only the SLO gauges (without user labels) carry.
        for metric in FUNCTION_METRICS.iter().filter(|m| m.user_labels) {
            for key in metric.labels {
                assert!(RESERVED_LABEL_KEYS.contains(key), "{key}");
            }
        }
    }
}
