//! One static per instrumented function: its fixed description, and, per
//! function name it is called under, the `tracing` call sites and the
//! metric handles resolved for it, so a call neither builds metadata nor
//! looks metrics up.
//!
//! A function has one name, except a default trait method annotated on its
//! own, which is named after each implementor (`Alice::greet`,
//! `Bob::greet`): the first name is served from a lock-free slot, the
//! others from a small list.
//!
//! Handles belong to the recorder that made them. They are cached only for
//! the global recorder, which never changes once installed; calls made
//! under a thread-local recorder (`metrics::with_local_recorder`, as in
//! tests) register through it on each call, so they are always counted by
//! the recorder in force. With no recorder at all nothing is registered.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use metrics::{Counter, Gauge, Histogram, Key, Label as MetricLabel, Recorder, SharedString, Unit};
use tracing::{Level, Metadata};
use tracing_core::metadata::Kind;

use observe_attr::schema;

use crate::callsite::{DynCallsite, Origin};
use crate::labels::LabelSet;
use crate::metric_names::{self as names, keys};
use crate::outcome::{OUTCOME_COUNT, OUTCOME_NAMES};

/// Service-level objectives of a function, as written in `slo(...)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SloMeta {
    /// Percentage of calls that must succeed.
    pub availability: Option<f64>,
    /// Latency threshold, microseconds.
    pub latency_us: Option<u64>,
    /// Percentage of calls that must beat the threshold.
    pub percentile: Option<f64>,
}

/// Everything fixed about an instrumented function.
#[derive(Debug)]
pub struct SiteMeta {
    /// The business flow.
    pub flow: &'static str,
    /// The function label; the method name when `qualified_at_runtime`.
    pub function: &'static str,
    /// The function is a method annotated on its own: its label is
    /// `Type::method`, with the type read from `Self` at run time.
    pub qualified_at_runtime: bool,
    /// `module_path!()`.
    pub module: &'static str,
    /// `file!()`.
    pub file: &'static str,
    /// `line!()`.
    pub line: u32,
    /// The `labels(...)` keys, in order.
    pub label_keys: &'static [&'static str],
    /// The level of the span and of the success log line.
    pub level: Level,
    /// Calls slower than this many microseconds are logged at WARN.
    pub slow_us: Option<u64>,
    /// The fraction of successful, fast completion lines written.
    pub sample: Option<f64>,
    /// Service-level objectives.
    pub slo: Option<SloMeta>,
    /// The cardinality budget.
    pub max_series: u64,
    /// Every span field, in the order generated code passes the values:
    /// observe's own fields first (see [`SPAN_OWN_FIELDS`]), then the
    /// recorded arguments and `fields(...)`.
    pub span_fields: &'static [&'static str],
}

/// The span fields observe sets itself, first in every span, in order.
pub(crate) use observe_attr::schema::SPAN_FIELDS as SPAN_OWN_FIELDS;

/// The completion event's fields, in order.
const COMPLETION_FIELDS: &[&str] = &observe_attr::schema::EVENT_FIELDS;

/// The per-function static generated code declares.
pub struct CallSite {
    meta: &'static SiteMeta,
    first: OnceLock<Named>,
    others: Mutex<Vec<&'static Named>>,
}

/// What belongs to one name of a function: its call sites and handles.
pub(crate) struct Named {
    /// `type_name::<Self>()` for run-time-qualified names, else "".
    type_name: &'static str,
    pub(crate) function: &'static str,
    pub(crate) span: DynCallsite,
    /// The completion event at the function's level, WARN and ERROR, and
    /// the routine one (see [`is_routine_completion`]).
    pub(crate) events: [DynCallsite; 4],
    handles: OnceLock<SiteHandles>,
}

impl Named {
    fn new(meta: &'static SiteMeta, type_name: &'static str, function: &'static str) -> Self {
        let event = |level| DynCallsite::new(level, Kind::EVENT, COMPLETION_FIELDS);
        Named {
            type_name,
            function,
            span: DynCallsite::new(meta.level, Kind::SPAN, meta.span_fields),
            events: [
                event(meta.level),
                event(Level::WARN),
                event(Level::ERROR),
                event(meta.level),
            ],
            handles: OnceLock::new(),
        }
    }

    pub(crate) fn span_origin(&self, meta: &SiteMeta) -> Origin {
        Origin {
            name: self.function,
            target: meta.module,
            file: meta.file,
            line: meta.line,
        }
    }

    /// The completion event's origin; `routine` names it as
    /// [`is_routine_completion`] recognises.
    pub(crate) fn event_origin(&self, meta: &SiteMeta, routine: bool) -> Origin {
        let prefix = if routine {
            ROUTINE_EVENT_PREFIX
        } else {
            "event "
        };
        let name: &'static str =
            Box::leak(format!("{prefix}{}:{}", meta.file, meta.line).into_boxed_str());
        Origin {
            name,
            target: meta.module,
            file: meta.file,
            line: meta.line,
        }
    }
}

/// The name prefix of routine completion events (see
/// [`is_routine_completion`]); the others are named `event file:line`, as
/// `tracing`'s own events are.
const ROUTINE_EVENT_PREFIX: &str = "routine completion ";

/// Whether `metadata` is the completion event of a successful, fast call
/// that records no return value, below ERROR. Its line carries nothing the
/// span does not (flow, function, outcome, duration), so a trace output can
/// leave it off the span's events; a failed, slow or cancelled call, one
/// with `ret`, and one at `level = "error"` keep their event.
pub fn is_routine_completion(metadata: &Metadata<'_>) -> bool {
    metadata.is_event()
        && metadata.name().starts_with(ROUTINE_EVENT_PREFIX)
        && metadata.fields().len() == COMPLETION_FIELDS.len()
}

/// How a call records metrics, decided at entry.
pub(crate) enum MetricsMode {
    /// No recorder is installed.
    Off,
    /// The global recorder, through this site's cached handles.
    Cached(&'static SiteHandles),
    /// A thread-local recorder: handles are registered on each call.
    Local,
}

/// The calls counter and duration histogram of each outcome of one label
/// combination, registered at first use.
struct ComboSeries {
    labels: LabelSet,
    outcomes: [OnceLock<(Counter, Histogram)>; OUTCOME_COUNT],
}

/// The handles resolved for the global recorder.
pub(crate) struct SiteHandles {
    recorder: usize,
    /// `flow_calls_in_flight`.
    pub(crate) in_flight: Gauge,
    /// Indexed by label combination.
    combos: Box<[OnceLock<ComboSeries>]>,
    /// Series whose combination slot holds other label values: the
    /// instantiations of a generic function after the first.
    more: Mutex<HashMap<SeriesKey, (Counter, Histogram)>>,
}

/// Label values and outcome index of one series.
type SeriesKey = (Vec<&'static str>, usize);

impl SiteHandles {
    /// Records one call of a label combination and outcome.
    pub(crate) fn record(
        &self,
        meta: &'static SiteMeta,
        function: &'static str,
        labels: &LabelSet,
        outcome: usize,
        seconds: f64,
    ) {
        let record = |(calls, duration): &(Counter, Histogram)| {
            calls.increment(1);
            duration.record(seconds);
        };
        let register = || {
            metrics::with_recorder(|recorder| {
                register_series(recorder, meta, function, labels, OUTCOME_NAMES[outcome])
            })
        };
        if let Some(slot) = self.combos.get(labels.combo()) {
            let combo = slot.get_or_init(|| ComboSeries {
                labels: *labels,
                outcomes: Default::default(),
            });
            if combo.labels.same_values(labels) {
                record(combo.outcomes[outcome].get_or_init(register));
                return;
            }
        }
        let mut more = self.more.lock().unwrap_or_else(|e| e.into_inner());
        record(
            more.entry((labels.values().to_vec(), outcome))
                .or_insert_with(register),
        );
    }

    /// Whether these handles came from `recorder`.
    fn belong_to(&self, recorder: usize) -> bool {
        self.recorder == recorder
    }
}

impl CallSite {
    /// A call site for `meta`; usable in a `static`.
    pub const fn new(meta: &'static SiteMeta) -> Self {
        CallSite {
            meta,
            first: OnceLock::new(),
            others: Mutex::new(Vec::new()),
        }
    }

    /// The fixed description.
    pub fn meta(&self) -> &'static SiteMeta {
        self.meta
    }

    /// The call sites and handles of the name this call runs under. For
    /// methods annotated on their own, `self_type`
    /// (`std::any::type_name::<Self>`) supplies the type.
    #[inline]
    pub(crate) fn named(&'static self, self_type: Option<fn() -> &'static str>) -> &'static Named {
        let type_name = match self_type {
            Some(type_name) if self.meta.qualified_at_runtime => type_name(),
            _ => "",
        };
        let first = self
            .first
            .get_or_init(|| Named::new(self.meta, type_name, self.qualify(type_name)));
        // Empty names are told apart by length alone: an empty literal may
        // point nowhere, and `memcmp`'s masked load of it costs a fault
        // assist of ~75 ns on this machine's AVX-512 (perf).
        if first.type_name.len() == type_name.len()
            && (type_name.is_empty() || first.type_name == type_name)
        {
            return first;
        }
        self.named_other(type_name)
    }

    #[cold]
    fn named_other(&'static self, type_name: &'static str) -> &'static Named {
        let mut others = self.others.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(named) = others.iter().find(|n| n.type_name == type_name) {
            return named;
        }
        let named: &'static Named = Box::leak(Box::new(Named::new(
            self.meta,
            type_name,
            self.qualify(type_name),
        )));
        others.push(named);
        named
    }

    fn qualify(&self, type_name: &'static str) -> &'static str {
        if type_name.is_empty() {
            return self.meta.function;
        }
        let qualified = format!("{}::{}", short_type_name(type_name), self.meta.function);
        Box::leak(qualified.into_boxed_str())
    }

    /// The function label as first resolved (the static name before any call).
    pub fn function_label(&self) -> &'static str {
        self.first.get().map_or(self.meta.function, |n| n.function)
    }

    /// Decides how this call records metrics.
    #[inline]
    pub(crate) fn metrics_mode(&'static self, named: &'static Named, combos: usize) -> MetricsMode {
        metrics::with_recorder(|recorder| {
            let address = recorder_address(recorder);
            if let Some(handles) = named.handles.get()
                && handles.belong_to(address)
            {
                return MetricsMode::Cached(handles);
            }
            // The no-op recorder (nothing installed) is the only zero-sized
            // one metrics provides.
            if std::mem::size_of_val(recorder) == 0 {
                return MetricsMode::Off;
            }
            self.resolve(named, recorder, address, combos)
        })
    }

    #[cold]
    #[inline(never)]
    fn resolve(
        &'static self,
        named: &'static Named,
        recorder: &dyn Recorder,
        address: usize,
        combos: usize,
    ) -> MetricsMode {
        if !is_global_recorder(address) {
            return MetricsMode::Local;
        }
        let handles = named.handles.get_or_init(|| SiteHandles {
            recorder: address,
            in_flight: register_in_flight(recorder, self.meta, named.function),
            combos: (0..combos.clamp(1, MAX_CACHED_COMBOS))
                .map(|_| OnceLock::new())
                .collect(),
            more: Mutex::new(HashMap::new()),
        });
        describe_and_publish_slo(recorder, self.meta, named.function);
        if handles.belong_to(address) {
            MetricsMode::Cached(handles)
        } else {
            MetricsMode::Local
        }
    }
}

/// Combinations with a lock-free slot each; the budget keeps real
/// functions far below this, and any beyond it share the locked map.
const MAX_CACHED_COMBOS: usize = 4096;

fn recorder_address(recorder: &dyn Recorder) -> usize {
    (recorder as *const dyn Recorder).cast::<()>() as usize
}

/// The global recorder's address once known (0 until then).
static GLOBAL_RECORDER: AtomicUsize = AtomicUsize::new(0);

/// Recorders found not to be the global one (thread-local recorders). A
/// freed local recorder's address may later hold another local recorder,
/// never the global one, which is never freed: so a remembered address is
/// always local. Remembering them means one probe per local recorder, not
/// one per call.
static KNOWN_LOCAL: Mutex<Vec<usize>> = Mutex::new(Vec::new());
const KNOWN_LOCAL_MAX: usize = 64;

/// Whether `address` is the global recorder. The global recorder, once set,
/// never changes; a fresh thread has no local recorder, so asking from one
/// tells which recorder is global.
fn is_global_recorder(address: usize) -> bool {
    let known = GLOBAL_RECORDER.load(Ordering::Acquire);
    if known != 0 {
        return known == address;
    }
    let mut locals = KNOWN_LOCAL.lock().unwrap_or_else(|e| e.into_inner());
    if locals.contains(&address) {
        return false;
    }
    let global = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                metrics::with_recorder(|recorder| {
                    (std::mem::size_of_val(recorder) != 0).then(|| recorder_address(recorder))
                })
            })
            .join()
            .ok()
            .flatten()
    });
    if let Some(global) = global {
        GLOBAL_RECORDER.store(global, Ordering::Release);
        if global == address {
            return true;
        }
    }
    if locals.len() == KNOWN_LOCAL_MAX {
        locals.remove(0);
    }
    locals.push(address);
    false
}

/// A readable, stable name for a `Self` type: module paths dropped from
/// every path in it, generic arguments of the outer path dropped
/// (`my_crate::shop::Cart<alloc::string::String>` -> `Cart`,
/// `(u8, alloc::string::String)` -> `(u8, String)`).
pub(crate) fn short_type_name(full: &str) -> String {
    let starts_with_path = full
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    if starts_with_path {
        let outer = full.split('<').next().unwrap_or(full);
        return outer.rsplit("::").next().unwrap_or(outer).to_string();
    }
    // A tuple, reference, slice, array, pointer or `dyn`: keep the shape,
    // shorten each path inside it.
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            segment.clear();
        } else {
            out.push_str(&segment);
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(&segment);
    out
}

fn base_labels(meta: &'static SiteMeta, function: &'static str) -> Vec<MetricLabel> {
    vec![
        MetricLabel::from_static_parts(keys::FLOW, meta.flow),
        MetricLabel::new(keys::FUNCTION, SharedString::const_str(function)),
        MetricLabel::from_static_parts(keys::MODULE, meta.module),
    ]
}

pub(crate) fn register_in_flight(
    recorder: &dyn Recorder,
    meta: &'static SiteMeta,
    function: &'static str,
) -> Gauge {
    let key = Key::from_parts(names::CALLS_IN_FLIGHT, base_labels(meta, function));
    recorder.register_gauge(&key, &metadata(meta))
}

/// The calls counter and duration histogram of one series.
pub(crate) fn register_series(
    recorder: &dyn Recorder,
    meta: &'static SiteMeta,
    function: &'static str,
    labels: &LabelSet,
    outcome: &'static str,
) -> (Counter, Histogram) {
    let mut all = base_labels(meta, function);
    all.push(MetricLabel::from_static_parts(keys::OUTCOME, outcome));
    all.extend(user_labels(meta, labels));
    let metadata = metadata(meta);
    let counter =
        recorder.register_counter(&Key::from_parts(names::CALLS_TOTAL, all.clone()), &metadata);
    let histogram = recorder.register_histogram(
        &Key::from_parts(names::CALL_DURATION_SECONDS, all),
        &metadata,
    );
    (counter, histogram)
}

/// The errors counter of one error kind.
pub(crate) fn register_errors(
    recorder: &dyn Recorder,
    meta: &'static SiteMeta,
    function: &'static str,
    labels: &LabelSet,
    kind: &'static str,
) -> Counter {
    let mut all = base_labels(meta, function);
    all.push(MetricLabel::from_static_parts(keys::ERROR_KIND, kind));
    all.extend(user_labels(meta, labels));
    recorder.register_counter(&Key::from_parts(names::ERRORS_TOTAL, all), &metadata(meta))
}

fn user_labels<'a>(
    meta: &'static SiteMeta,
    labels: &'a LabelSet,
) -> impl Iterator<Item = MetricLabel> + 'a {
    meta.label_keys
        .iter()
        .zip(labels.values())
        .map(|(key, value)| MetricLabel::from_static_parts(key, value))
}

fn metadata(meta: &'static SiteMeta) -> metrics::Metadata<'static> {
    metrics::Metadata::new(meta.module, metrics::Level::INFO, Some(meta.module))
}

/// Descriptions and units, and the SLO gauges, for the recorder.
pub(crate) fn describe_and_publish_slo(
    recorder: &dyn Recorder,
    meta: &'static SiteMeta,
    function: &'static str,
) {
    for metric in [
        schema::CALLS_TOTAL,
        schema::ERRORS_TOTAL,
        schema::CALL_DURATION_SECONDS,
        schema::CALLS_IN_FLIGHT,
    ] {
        describe(recorder, &metric);
    }
    let Some(slo) = meta.slo else { return };
    describe(recorder, &schema::SLO_OBJECTIVE_RATIO);
    let metrics_meta = metadata(meta);
    let objective = |name: &'static str, ratio: f64| {
        let mut labels = base_labels(meta, function);
        labels.push(MetricLabel::from_static_parts(
            schema::label::OBJECTIVE,
            name,
        ));
        recorder
            .register_gauge(
                &Key::from_parts(names::SLO_OBJECTIVE_RATIO, labels),
                &metrics_meta,
            )
            .set(percent_to_ratio(ratio));
    };
    if let Some(availability) = slo.availability {
        objective(schema::objective::AVAILABILITY, availability);
    }
    if let (Some(latency_us), Some(percentile)) = (slo.latency_us, slo.percentile) {
        objective(schema::objective::LATENCY, percentile);
        describe(recorder, &schema::SLO_LATENCY_THRESHOLD_SECONDS);
        recorder
            .register_gauge(
                &Key::from_parts(
                    names::SLO_LATENCY_THRESHOLD_SECONDS,
                    base_labels(meta, function),
                ),
                &metrics_meta,
            )
            .set(latency_us as f64 / 1e6);
    }
}

/// A metric's description and unit, as the schema gives them.
fn describe(recorder: &dyn Recorder, metric: &schema::Metric) {
    let unit = match metric.unit {
        schema::Unit::Count => Some(Unit::Count),
        schema::Unit::Seconds => Some(Unit::Seconds),
        // metrics-rs has no unit for a ratio.
        schema::Unit::Ratio => None,
    };
    let name = metric.name.into();
    let description = metric.description.into();
    match metric.kind {
        schema::MetricKind::Counter => recorder.describe_counter(name, unit, description),
        schema::MetricKind::Gauge => recorder.describe_gauge(name, unit, description),
        schema::MetricKind::Histogram => recorder.describe_histogram(name, unit, description),
    }
}

/// 99.9 -> 0.999, without the binary noise of a plain division.
fn percent_to_ratio(percent: f64) -> f64 {
    (percent / 100.0 * 1e12).round() / 1e12
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn short_names() {
        assert_eq!(short_type_name("a::b::Cart<alloc::string::String>"), "Cart");
        assert_eq!(short_type_name("Cart"), "Cart");
        assert_eq!(
            short_type_name("(u8, alloc::string::String)"),
            "(u8, String)"
        );
        assert_eq!(short_type_name("&a::b::Cart"), "&Cart");
        assert_eq!(short_type_name("[a::Item]"), "[Item]");
    }
}
