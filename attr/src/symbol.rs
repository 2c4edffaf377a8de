//! Every option name of `#[observe(...)]`, in one place.

/// `flow`.
pub const FLOW: &str = "flow";
/// `name`.
pub const NAME: &str = "name";
/// `level`.
pub const LEVEL: &str = "level";
/// `labels`.
pub const LABELS: &str = "labels";
/// `fields`.
pub const FIELDS: &str = "fields";
/// `skip`.
pub const SKIP: &str = "skip";
/// `skip_all`.
pub const SKIP_ALL: &str = "skip_all";
/// `redact`.
pub const REDACT: &str = "redact";
/// `hash`.
pub const HASH: &str = "hash";
/// `ret`.
pub const RET: &str = "ret";
/// `slow`.
pub const SLOW: &str = "slow";
/// `sample`.
pub const SAMPLE: &str = "sample";
/// `slo`.
pub const SLO: &str = "slo";
/// `max_series`.
pub const MAX_SERIES: &str = "max_series";

/// All options, for "did you mean" suggestions.
pub const OPTIONS: &[&str] = &[
    FLOW, NAME, LEVEL, LABELS, FIELDS, SKIP, SKIP_ALL, REDACT, HASH, RET, SLOW, SAMPLE, SLO,
    MAX_SERIES,
];

/// `availability`.
pub const SLO_AVAILABILITY: &str = "availability";
/// `latency`.
pub const SLO_LATENCY: &str = "latency";
/// `percentile`.
pub const SLO_PERCENTILE: &str = "percentile";
/// The keys of `slo(...)`.
pub const SLO_OPTIONS: &[&str] = &[SLO_AVAILABILITY, SLO_LATENCY, SLO_PERCENTILE];

/// The level names `level = "..."` accepts.
pub const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error"];
