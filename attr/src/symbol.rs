//! Every option name of `#[observe(...)]`, in one place.

pub const FLOW: &str = "flow";
pub const NAME: &str = "name";
pub const LEVEL: &str = "level";
pub const LABELS: &str = "labels";
pub const FIELDS: &str = "fields";
pub const SKIP: &str = "skip";
pub const SKIP_ALL: &str = "skip_all";
pub const REDACT: &str = "redact";
pub const HASH: &str = "hash";
pub const RET: &str = "ret";
pub const SLOW: &str = "slow";
pub const SAMPLE: &str = "sample";
pub const SLO: &str = "slo";
pub const MAX_SERIES: &str = "max_series";

/// All options, for "did you mean" suggestions.
pub const OPTIONS: &[&str] = &[
    FLOW, NAME, LEVEL, LABELS, FIELDS, SKIP, SKIP_ALL, REDACT, HASH, RET, SLOW, SAMPLE, SLO,
    MAX_SERIES,
];

pub const SLO_AVAILABILITY: &str = "availability";
pub const SLO_LATENCY: &str = "latency";
pub const SLO_PERCENTILE: &str = "percentile";
pub const SLO_OPTIONS: &[&str] = &[SLO_AVAILABILITY, SLO_LATENCY, SLO_PERCENTILE];

pub const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error"];
