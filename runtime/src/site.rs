//! One static per instrumented function: its fixed description and the
//! metric handles resolved for it, so a call does not look metrics up.
//!
//! Handles belong to the recorder that made them. They are cached only for
//! the global recorder, which never changes once installed; calls made
//! under a thread-local recorder (`metrics::with_local_recorder`, as in
//! tests) register through it on each call, so they are always counted by
//! the recorder in force. With no recorder at all nothing is registered.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use metrics::{Counter, Gauge, Histogram, Key, Label as MetricLabel, Recorder, SharedString, Unit};

use crate::metric_names::{self as names, keys};

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
    pub level: tracing::Level,
    /// Calls slower than this many microseconds are logged at WARN.
    pub slow_us: Option<u64>,
    /// The fraction of successful, fast completion lines written.
    pub sample: Option<f64>,
    /// Service-level objectives.
    pub slo: Option<SloMeta>,
    /// The cardinality budget.
    pub max_series: u64,
}

/// The per-function static generated code declares.
pub struct CallSite {
    meta: &'static SiteMeta,
    function: OnceLock<&'static str>,
    cached: OnceLock<SiteHandles>,
}

/// How a call records metrics, decided at entry.
pub enum MetricsMode {
    /// No recorder is installed.
    Off,
    /// The global recorder, through this site's cached handles.
    Cached(&'static SiteHandles),
    /// A thread-local recorder: handles are registered on each call.
    Local,
}

/// The calls counter and duration histogram of each outcome of one label
/// combination, registered at first use.
type OutcomeSeries = [OnceLock<(Counter, Histogram)>; 4];

/// The handles resolved for the global recorder.
pub struct SiteHandles {
    recorder: usize,
    /// `flow_calls_in_flight`.
    pub in_flight: Gauge,
    /// Indexed by label combination, then outcome.
    combos: Box<[OutcomeSeries]>,
}

impl SiteHandles {
    /// The counter and histogram of one label combination and outcome.
    pub fn series(
        &self,
        site: &CallSite,
        combo: usize,
        labels: &[&'static str],
        outcome: usize,
    ) -> &(Counter, Histogram) {
        let slots = &self.combos[combo.min(self.combos.len() - 1)];
        slots[outcome].get_or_init(|| {
            metrics::with_recorder(|recorder| {
                register_series(recorder, site, labels, OUTCOME_NAMES[outcome])
            })
        })
    }

    /// Whether these handles came from `recorder`.
    fn belong_to(&self, recorder: usize) -> bool {
        self.recorder == recorder
    }
}

/// Outcome names by index.
pub const OUTCOME_NAMES: [&str; 4] = ["ok", "error", "panic", "cancelled"];

impl CallSite {
    /// A call site for `meta`; usable in a `static`.
    pub const fn new(meta: &'static SiteMeta) -> Self {
        CallSite {
            meta,
            function: OnceLock::new(),
            cached: OnceLock::new(),
        }
    }

    /// The fixed description.
    pub fn meta(&self) -> &'static SiteMeta {
        self.meta
    }

    /// The function label. For methods annotated on their own, `self_type`
    /// (`std::any::type_name::<Self>`) supplies the type, once.
    #[inline(always)]
    pub fn function(&self, self_type: Option<fn() -> &'static str>) -> &'static str {
        match self_type {
            Some(type_name) if self.meta.qualified_at_runtime => self.function.get_or_init(|| {
                let qualified = format!("{}::{}", short_type_name(type_name()), self.meta.function);
                Box::leak(qualified.into_boxed_str())
            }),
            _ => self.meta.function,
        }
    }

    /// How this call records metrics, or `None` when nothing listens at
    /// all (no recorder, and no subscriber enabled even for errors): then
    /// the call is not observed, and reads no clock.
    #[inline(always)]
    pub fn listening(&'static self, combos: usize) -> Option<MetricsMode> {
        let mode = self.metrics_mode(combos);
        if matches!(mode, MetricsMode::Off) && !tracing::level_enabled!(tracing::Level::ERROR) {
            return None;
        }
        Some(mode)
    }

    /// Decides how this call records metrics.
    #[inline(always)]
    pub fn metrics_mode(&'static self, combos: usize) -> MetricsMode {
        metrics::with_recorder(|recorder| {
            let address = recorder_address(recorder);
            if let Some(handles) = self.cached.get()
                && handles.belong_to(address)
            {
                return MetricsMode::Cached(handles);
            }
            // The no-op recorder (nothing installed) is the only zero-sized
            // one metrics provides.
            if std::mem::size_of_val(recorder) == 0 {
                return MetricsMode::Off;
            }
            self.resolve(recorder, address, combos)
        })
    }

    #[cold]
    #[inline(never)]
    fn resolve(
        &'static self,
        recorder: &dyn Recorder,
        address: usize,
        combos: usize,
    ) -> MetricsMode {
        if !is_global_recorder(address) {
            return MetricsMode::Local;
        }
        let handles = self.cached.get_or_init(|| SiteHandles {
            recorder: address,
            in_flight: register_in_flight(recorder, self),
            combos: (0..combos.max(1)).map(|_| Default::default()).collect(),
        });
        describe_and_publish_slo(recorder, self);
        if handles.belong_to(address) {
            MetricsMode::Cached(handles)
        } else {
            MetricsMode::Local
        }
    }

    /// The function label as last resolved (static name when never resolved).
    pub fn function_label(&self) -> &'static str {
        self.function.get().copied().unwrap_or(self.meta.function)
    }
}

fn recorder_address(recorder: &dyn Recorder) -> usize {
    (recorder as *const dyn Recorder).cast::<()>() as usize
}

/// The global recorder's address once known (0 until then).
static GLOBAL_RECORDER: AtomicUsize = AtomicUsize::new(0);

/// Whether `address` is the global recorder. The global recorder, once set,
/// never changes; a fresh thread has no local recorder, so asking from one
/// tells which recorder is global.
fn is_global_recorder(address: usize) -> bool {
    let known = GLOBAL_RECORDER.load(Ordering::Acquire);
    if known != 0 {
        return known == address;
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
    match global {
        Some(global) => {
            GLOBAL_RECORDER.store(global, Ordering::Release);
            global == address
        }
        None => false,
    }
}

/// `my_crate::shop::Cart<T>` -> `Cart`.
fn short_type_name(full: &str) -> &str {
    let without_generics = full.split('<').next().unwrap_or(full);
    without_generics
        .rsplit("::")
        .next()
        .unwrap_or(without_generics)
}

fn base_labels(site: &CallSite) -> Vec<MetricLabel> {
    let meta = site.meta;
    vec![
        MetricLabel::from_static_parts(keys::FLOW, meta.flow),
        MetricLabel::new(
            keys::FUNCTION,
            SharedString::const_str(site.function_label()),
        ),
        MetricLabel::from_static_parts(keys::MODULE, meta.module),
    ]
}

fn register_in_flight(recorder: &dyn Recorder, site: &CallSite) -> Gauge {
    let key = Key::from_parts(names::CALLS_IN_FLIGHT, base_labels(site));
    recorder.register_gauge(&key, &metadata(site))
}

/// The calls counter and duration histogram of one series.
pub fn register_series(
    recorder: &dyn Recorder,
    site: &CallSite,
    labels: &[&'static str],
    outcome: &'static str,
) -> (Counter, Histogram) {
    let mut all = base_labels(site);
    all.push(MetricLabel::from_static_parts(keys::OUTCOME, outcome));
    all.extend(user_labels(site, labels));
    let meta = metadata(site);
    let counter =
        recorder.register_counter(&Key::from_parts(names::CALLS_TOTAL, all.clone()), &meta);
    let histogram =
        recorder.register_histogram(&Key::from_parts(names::CALL_DURATION_SECONDS, all), &meta);
    (counter, histogram)
}

/// The errors counter of one error kind.
pub fn register_errors(
    recorder: &dyn Recorder,
    site: &CallSite,
    labels: &[&'static str],
    kind: &'static str,
) -> Counter {
    let mut all = base_labels(site);
    all.push(MetricLabel::from_static_parts(keys::ERROR_KIND, kind));
    all.extend(user_labels(site, labels));
    recorder.register_counter(&Key::from_parts(names::ERRORS_TOTAL, all), &metadata(site))
}

/// The in-flight gauge, registered through a local recorder.
pub fn register_in_flight_local(recorder: &dyn Recorder, site: &CallSite) -> Gauge {
    describe_and_publish_slo(recorder, site);
    register_in_flight(recorder, site)
}

fn user_labels<'a>(
    site: &'a CallSite,
    labels: &'a [&'static str],
) -> impl Iterator<Item = MetricLabel> + 'a {
    site.meta
        .label_keys
        .iter()
        .zip(labels)
        .map(|(key, value)| MetricLabel::from_static_parts(key, value))
}

fn metadata(site: &CallSite) -> metrics::Metadata<'static> {
    metrics::Metadata::new(
        site.meta.module,
        metrics::Level::INFO,
        Some(site.meta.module),
    )
}

/// Descriptions and units, and the SLO gauges, for the recorder.
fn describe_and_publish_slo(recorder: &dyn Recorder, site: &CallSite) {
    recorder.describe_counter(
        names::CALLS_TOTAL.into(),
        Some(Unit::Count),
        "Calls of observed functions, by outcome (ok, error, panic, cancelled).".into(),
    );
    recorder.describe_counter(
        names::ERRORS_TOTAL.into(),
        Some(Unit::Count),
        "Failed calls of observed functions, by error kind.".into(),
    );
    recorder.describe_histogram(
        names::CALL_DURATION_SECONDS.into(),
        Some(Unit::Seconds),
        "Latency of observed functions, from entry (first poll) until the output is ready.".into(),
    );
    recorder.describe_gauge(
        names::CALLS_IN_FLIGHT.into(),
        Some(Unit::Count),
        "Calls of observed functions currently running.".into(),
    );
    let Some(slo) = site.meta.slo else { return };
    recorder.describe_gauge(
        names::SLO_OBJECTIVE_RATIO.into(),
        None,
        "Service-level objectives of observed functions, as ratios.".into(),
    );
    let meta = metadata(site);
    let objective = |name: &'static str, ratio: f64| {
        let mut labels = base_labels(site);
        labels.push(MetricLabel::from_static_parts("objective", name));
        recorder
            .register_gauge(&Key::from_parts(names::SLO_OBJECTIVE_RATIO, labels), &meta)
            .set(percent_to_ratio(ratio));
    };
    if let Some(availability) = slo.availability {
        objective("availability", availability);
    }
    if let (Some(latency_us), Some(percentile)) = (slo.latency_us, slo.percentile) {
        objective("latency", percentile);
        recorder.describe_gauge(
            names::SLO_LATENCY_THRESHOLD_SECONDS.into(),
            Some(Unit::Seconds),
            "Latency thresholds of the latency objectives of observed functions.".into(),
        );
        recorder
            .register_gauge(
                &Key::from_parts(names::SLO_LATENCY_THRESHOLD_SECONDS, base_labels(site)),
                &meta,
            )
            .set(latency_us as f64 / 1e6);
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
    }
}
