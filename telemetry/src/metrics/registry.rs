//! The recorder behind the `metrics` facade: every series by metric name,
//! explicit buckets for every histogram, and the process-wide cardinality
//! guard.
//!
//! The guard caps the series of each metric name (the overflow series
//! included, as OpenTelemetry counts it); a series beyond the cap is folded
//! into the one overflow series of its metric, so totals stay right, and
//! each folded update is counted in `observe_metric_overflow_total`.
//! observe's own `flow_*` series are bounded per function at
//! compile time and are never folded, however many functions there are.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use observe_runtime::metric_names as names;
use observe_runtime::names::is_secret_name;
use observe_runtime::redact::{REDACTED, scrub};

use super::MetricsConfig;
use super::series::{CounterSeries, Exemplar, Folded, GaugeSeries, HistogramSeries, IdsSource};

/// Updates folded into an overflow series, by `metric` and `label` (the
/// label whose distinct values grew the most).
pub const METRIC_OVERFLOW_TOTAL: &str = "observe_metric_overflow_total";

/// The label of an overflow series, as OpenTelemetry's Prometheus exporter writes it.
pub const OVERFLOW_LABEL: &str = "otel_metric_overflow";

/// Series `#[observe]` bounds by construction: never folded.
const BOUNDED_BY_OBSERVE: &[&str] = &[
    names::CALLS_TOTAL,
    names::ERRORS_TOTAL,
    names::CALL_DURATION_SECONDS,
    names::CALLS_IN_FLIGHT,
    names::SLO_OBJECTIVE_RATIO,
    names::SLO_LATENCY_THRESHOLD_SECONDS,
    METRIC_OVERFLOW_TOTAL,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

#[derive(Debug, Clone)]
pub(crate) enum Series {
    Counter(Arc<CounterSeries>),
    Gauge(Arc<GaugeSeries>),
    Histogram(Arc<HistogramSeries>),
}

pub(crate) type Labels = Vec<(String, String)>;

/// Every series of one metric name.
#[derive(Debug)]
pub(crate) struct Family {
    pub kind: Kind,
    pub series: Vec<(Labels, Series)>,
    /// The series beyond the cap, folded together.
    pub overflow: Option<Series>,
    /// At most this many series, the overflow one included; 0: no cap.
    limit: usize,
    bounds: Option<Arc<[f64]>>,
}

/// What a registration gets: its own series, or (beyond the cap) its
/// metric's overflow series and the counter of folded updates.
enum Registered {
    Own(Series),
    Folded(Series, Arc<CounterSeries>),
}

/// A predicate telling whether an exemplar's trace is kept.
pub(crate) type Kept = dyn Fn(&Exemplar) -> bool + Send + Sync;

pub(crate) struct Registry {
    config: MetricsConfig,
    counters: RwLock<HashMap<Key, Arc<CounterSeries>>>,
    gauges: RwLock<HashMap<Key, Arc<GaugeSeries>>>,
    histograms: RwLock<HashMap<Key, Arc<HistogramSeries>>>,
    families: Mutex<BTreeMap<String, Family>>,
    pub(crate) descriptions: Mutex<HashMap<String, String>>,
    kept: RwLock<Arc<Kept>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Metric and label names Prometheus accepts: other characters become `_`.
pub(crate) fn sanitize(name: &str, colons: bool) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        let ok = c.is_ascii_alphabetic()
            || c == '_'
            || (colons && c == ':')
            || (i > 0 && c.is_ascii_digit());
        out.push(if ok { c } else { '_' });
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// A series' labels as they are exposed: names Prometheus accepts, and
/// values redacted as every other output is (a secret-named label's value
/// is `[REDACTED]`, any other goes through `scrub`). Decided once, when
/// the series is created; `true` when redaction changed a value.
fn labels_of(key: &Key) -> (Labels, bool) {
    let mut masked = false;
    let labels = key
        .labels()
        .map(|l| {
            let value = if is_secret_name(l.key()) {
                REDACTED.to_owned()
            } else {
                scrub(l.value()).into_owned()
            };
            masked |= value != l.value();
            let key = scrub(l.key());
            masked |= matches!(key, std::borrow::Cow::Owned(_));
            (sanitize(&key, false), value)
        })
        .collect();
    (labels, masked)
}

/// The label with the most distinct values among these series.
fn widest_label<'a>(series: impl Iterator<Item = &'a Labels>) -> String {
    let mut values: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
    for labels in series {
        for (key, value) in labels {
            values.entry(key).or_default().insert(value);
        }
    }
    values
        .into_iter()
        .max_by_key(|(_, values)| values.len())
        .map_or_else(String::new, |(key, _)| key.to_owned())
}

impl Registry {
    pub fn new(config: MetricsConfig) -> Self {
        Registry {
            config,
            counters: RwLock::default(),
            gauges: RwLock::default(),
            histograms: RwLock::default(),
            families: Mutex::default(),
            descriptions: Mutex::default(),
            kept: RwLock::new(Arc::new(|_: &Exemplar| false)),
        }
    }

    /// Sets how an exemplar's trace is known to be kept.
    pub fn set_kept(&self, kept: Arc<Kept>) {
        *self.kept.write().unwrap_or_else(|p| p.into_inner()) = kept;
    }

    pub fn families(&self) -> MutexGuard<'_, BTreeMap<String, Family>> {
        self.families.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn limit_for(&self, name: &str) -> usize {
        if BOUNDED_BY_OBSERVE.contains(&name) {
            return 0;
        }
        self.config
            .cardinality_limits
            .get(name)
            .copied()
            .unwrap_or(self.config.cardinality_limit)
    }

    fn bounds_for(&self, name: &str) -> Arc<[f64]> {
        match self.config.buckets.get(name) {
            Some(bounds) => Arc::from(bounds.as_slice()),
            None if name.ends_with("_seconds") => Arc::from(super::DURATION_BUCKETS),
            None => Arc::from(super::DEFAULT_BUCKETS),
        }
    }

    fn source_for(name: &str) -> IdsSource {
        if name == names::CALLS_TOTAL
            || name == names::ERRORS_TOTAL
            || name == names::CALL_DURATION_SECONDS
        {
            IdsSource::JustExited
        } else if name == METRIC_OVERFLOW_TOTAL {
            IdsSource::Off
        } else {
            IdsSource::Current
        }
    }

    /// Moves every candidate exemplar whose trace is known to be kept to
    /// the exposition.
    pub fn promote_exemplars(&self) {
        let kept = self.kept.read().unwrap_or_else(|p| p.into_inner()).clone();
        let series: Vec<Series> = self
            .families()
            .values()
            .flat_map(|family| family.series.iter().map(|(_, s)| s.clone()))
            .collect();
        for series in series {
            match series {
                Series::Counter(c) => c.exemplar.promote(&*kept),
                Series::Histogram(h) => h.exemplars.iter().for_each(|slot| slot.promote(&*kept)),
                Series::Gauge(_) => {}
            }
        }
    }

    /// The series of `key`, created (or folded) on first use.
    fn series(&self, kind: Kind, key: &Key) -> Registered {
        // Known: no name to work out, no lock to take.
        if let Some(found) = self.cached(kind, key) {
            return Registered::Own(found);
        }
        // A name built at run time could hold a secret too.
        let name = sanitize(&scrub(key.name()), true);
        let mut warn = None;
        let result = {
            let mut families = self.families();
            if let Some(found) = self.cached(kind, key) {
                return Registered::Own(found);
            }
            let limit = self.limit_for(&name);
            let bounds = (kind == Kind::Histogram).then(|| self.bounds_for(&name));
            let family = families.entry(name.clone()).or_insert_with(|| Family {
                kind,
                series: Vec::new(),
                overflow: None,
                limit,
                bounds,
            });
            if family.kind != kind {
                // The same name as another kind: counted nowhere, rendered never.
                return Registered::Own(self.new_series(kind, &name, None));
            }
            let (labels, masked) = labels_of(key);
            if family.limit != 0 && family.series.len() + 1 >= family.limit {
                let first = family.overflow.is_none();
                if first {
                    let label = widest_label(
                        family
                            .series
                            .iter()
                            .map(|(l, _)| l)
                            .chain(std::iter::once(&labels)),
                    );
                    let bounds = family.bounds.clone();
                    family.overflow = Some(match kind {
                        Kind::Counter => {
                            Series::Counter(Arc::new(CounterSeries::new(IdsSource::Off)))
                        }
                        Kind::Gauge => Series::Gauge(Arc::default()),
                        Kind::Histogram => Series::Histogram(Arc::new(HistogramSeries::new(
                            bounds.unwrap_or_else(|| Arc::from(super::DEFAULT_BUCKETS)),
                            IdsSource::Off,
                        ))),
                    });
                    let folded = Arc::new(CounterSeries::new(IdsSource::Off));
                    let overflow_family = families
                        .entry(METRIC_OVERFLOW_TOTAL.to_owned())
                        .or_insert_with(|| Family {
                            kind: Kind::Counter,
                            series: Vec::new(),
                            overflow: None,
                            limit: 0,
                            bounds: None,
                        });
                    overflow_family.series.push((
                        vec![
                            ("metric".to_owned(), name.clone()),
                            ("label".to_owned(), label.clone()),
                        ],
                        Series::Counter(folded),
                    ));
                    warn = Some((label, limit));
                }
                let overflow = families[&name].overflow.clone().expect("set above");
                let folded = families[METRIC_OVERFLOW_TOTAL]
                    .series
                    .iter()
                    .find(|(labels, _)| labels[0].1 == name)
                    .and_then(|(_, s)| match s {
                        Series::Counter(c) => Some(c.clone()),
                        _ => None,
                    })
                    .expect("registered with the overflow series");
                Registered::Folded(overflow, folded)
            } else if let Some((_, same)) = masked
                .then(|| family.series.iter().find(|(l, _)| *l == labels))
                .flatten()
            {
                // Keys whose labels differ only in what redaction masked
                // share one series: two exposed with the same labels
                // would be a duplicate series.
                let same = same.clone();
                self.cache(key, &same);
                Registered::Own(same)
            } else {
                let series = self.new_series(kind, &name, family.bounds.clone());
                family.series.push((labels, series.clone()));
                self.cache(key, &series);
                Registered::Own(series)
            }
        };
        if let Some((label, limit)) = warn {
            tracing::warn!(
                target: "observe_telemetry",
                metric = %name,
                label = %label,
                limit,
                "metric `{name}` reached its cap of {limit} series: further label sets are folded into one series with {OVERFLOW_LABEL}=\"true\" (counted in {METRIC_OVERFLOW_TOTAL}); the label `{label}` has the most distinct values: remove it or bound it (`cargo observe lint` finds the call), or raise the cap with OBSERVE_METRIC_CARDINALITY_LIMIT"
            );
        }
        result
    }

    fn new_series(&self, kind: Kind, name: &str, bounds: Option<Arc<[f64]>>) -> Series {
        let source = Self::source_for(name);
        match kind {
            Kind::Counter => Series::Counter(Arc::new(CounterSeries::new(source))),
            Kind::Gauge => Series::Gauge(Arc::default()),
            Kind::Histogram => Series::Histogram(Arc::new(HistogramSeries::new(
                bounds.unwrap_or_else(|| self.bounds_for(name)),
                source,
            ))),
        }
    }

    fn cached(&self, kind: Kind, key: &Key) -> Option<Series> {
        match kind {
            Kind::Counter => read(&self.counters).get(key).cloned().map(Series::Counter),
            Kind::Gauge => read(&self.gauges).get(key).cloned().map(Series::Gauge),
            Kind::Histogram => read(&self.histograms)
                .get(key)
                .cloned()
                .map(Series::Histogram),
        }
    }

    fn cache(&self, key: &Key, series: &Series) {
        match series {
            Series::Counter(c) => {
                write(&self.counters).insert(key.clone(), c.clone());
            }
            Series::Gauge(g) => {
                write(&self.gauges).insert(key.clone(), g.clone());
            }
            Series::Histogram(h) => {
                write(&self.histograms).insert(key.clone(), h.clone());
            }
        }
    }

    fn describe(&self, key: KeyName, description: SharedString) {
        self.descriptions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                sanitize(key.as_str(), true),
                scrub(&description).into_owned(),
            );
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

/// The `metrics` recorder: a shared [`Registry`].
#[derive(Debug, Clone)]
pub(crate) struct ObserveRecorder(pub Arc<Registry>);

impl Recorder for ObserveRecorder {
    fn describe_counter(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.0.describe(key, description);
    }

    fn describe_gauge(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.0.describe(key, description);
    }

    fn describe_histogram(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.0.describe(key, description);
    }

    fn register_counter(&self, key: &Key, _metadata: &Metadata<'_>) -> Counter {
        if let Some(Series::Counter(c)) = self.0.cached(Kind::Counter, key) {
            return Counter::from_arc(c);
        }
        match self.0.series(Kind::Counter, key) {
            Registered::Own(Series::Counter(c)) => Counter::from_arc(c),
            Registered::Folded(Series::Counter(into), folded) => {
                Counter::from_arc(Arc::new(Folded { into, folded }))
            }
            _ => Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _metadata: &Metadata<'_>) -> Gauge {
        if let Some(Series::Gauge(g)) = self.0.cached(Kind::Gauge, key) {
            return Gauge::from_arc(g);
        }
        match self.0.series(Kind::Gauge, key) {
            Registered::Own(Series::Gauge(g)) => Gauge::from_arc(g),
            Registered::Folded(Series::Gauge(into), folded) => {
                Gauge::from_arc(Arc::new(Folded { into, folded }))
            }
            _ => Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> Histogram {
        if let Some(Series::Histogram(h)) = self.0.cached(Kind::Histogram, key) {
            return Histogram::from_arc(h);
        }
        match self.0.series(Kind::Histogram, key) {
            Registered::Own(Series::Histogram(h)) => Histogram::from_arc(h),
            Registered::Folded(Series::Histogram(into), folded) => {
                Histogram::from_arc(Arc::new(Folded { into, folded }))
            }
            _ => Histogram::noop(),
        }
    }
}
