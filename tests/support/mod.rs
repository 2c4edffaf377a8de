//! Test support: run code under a capturing `tracing` subscriber and an
//! in-memory `metrics` recorder (both thread-local), and look at exactly
//! what it emitted.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as the subscriber saw it.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    pub id: u64,
    pub name: String,
    pub target: String,
    pub level: Level,
    pub parent: Option<u64>,
    pub fields: BTreeMap<String, Value>,
}

/// An event as the subscriber saw it.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub level: Level,
    pub target: String,
    pub span_id: Option<u64>,
    pub span_name: Option<String>,
    pub fields: BTreeMap<String, Value>,
}

impl EventRecord {
    pub fn field(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }
    pub fn str(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }
}

impl SpanRecord {
    pub fn field(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }
    pub fn str(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }
}

/// One metric series from the recorder.
#[derive(Debug)]
pub struct Series {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: DebugValue,
    pub unit: Option<metrics::Unit>,
    pub description: Option<String>,
}

/// Everything one run emitted.
#[derive(Debug, Default)]
pub struct Captured {
    pub spans: Vec<SpanRecord>,
    pub events: Vec<EventRecord>,
    pub series: Vec<Series>,
}

impl Captured {
    /// The completion events (those with an `outcome` field).
    pub fn completions(&self) -> Vec<&EventRecord> {
        self.events
            .iter()
            .filter(|e| e.fields.contains_key("outcome"))
            .collect()
    }

    pub fn spans_named(&self, name: &str) -> Vec<&SpanRecord> {
        self.spans.iter().filter(|s| s.name == name).collect()
    }

    pub fn span(&self, id: u64) -> &SpanRecord {
        self.spans.iter().find(|s| s.id == id).expect("span exists")
    }

    /// Series named `name` whose labels include every pair in `labels`.
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Series> {
        self.series
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The sum of the counters named `name` matching `labels`.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.find(name, labels)
            .iter()
            .map(|s| match s.value {
                DebugValue::Counter(v) => v,
                ref other => panic!("{name} is not a counter: {other:?}"),
            })
            .sum()
    }

    /// The gauge named `name` with exactly one series matching `labels`.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found = self.find(name, labels);
        assert_eq!(
            found.len(),
            1,
            "expected one {name} series for {labels:?}, found {found:?}"
        );
        match found[0].value {
            DebugValue::Gauge(v) => v.into_inner(),
            ref other => panic!("{name} is not a gauge: {other:?}"),
        }
    }

    /// All samples of the histograms named `name` matching `labels`.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        self.find(name, labels)
            .iter()
            .flat_map(|s| match &s.value {
                DebugValue::Histogram(values) => {
                    values.iter().map(|v| v.into_inner()).collect::<Vec<_>>()
                }
                other => panic!("{name} is not a histogram: {other:?}"),
            })
            .collect()
    }

    /// Every string the run emitted anywhere (span and event fields, metric
    /// names and labels), for leak checks.
    pub fn all_text(&self) -> String {
        let mut text = String::new();
        for span in &self.spans {
            text.push_str(&format!("{} {:?}\n", span.name, span.fields));
        }
        for event in &self.events {
            text.push_str(&format!("{:?}\n", event.fields));
        }
        for series in &self.series {
            text.push_str(&format!("{} {:?}\n", series.name, series.labels));
        }
        text
    }
}

#[derive(Default)]
struct Store {
    spans: Vec<SpanRecord>,
    events: Vec<EventRecord>,
}

struct CaptureLayer {
    store: Arc<Mutex<Store>>,
}

struct FieldMap<'a>(&'a mut BTreeMap<String, Value>);

impl Visit for FieldMap<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_string(),
            Value::String(format!("{value:?}")),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_string(), Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CaptureLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut FieldMap(&mut fields));
        let parent = if attrs.is_contextual() {
            ctx.lookup_current().map(|s| s.id().into_u64())
        } else {
            attrs.parent().map(Id::into_u64)
        };
        let meta = attrs.metadata();
        self.store.lock().unwrap().spans.push(SpanRecord {
            id: id.into_u64(),
            name: meta.name().to_string(),
            target: meta.target().to_string(),
            level: *meta.level(),
            parent,
            fields,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut store = self.store.lock().unwrap();
        if let Some(span) = store.spans.iter_mut().rev().find(|s| s.id == id.into_u64()) {
            values.record(&mut FieldMap(&mut span.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut FieldMap(&mut fields));
        let span = ctx.event_span(event);
        self.store.lock().unwrap().events.push(EventRecord {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            span_id: span.as_ref().map(|s| s.id().into_u64()),
            span_name: span.map(|s| s.name().to_string()),
            fields,
        });
    }
}

/// Runs `f` with a capturing subscriber and a debugging recorder installed
/// on this thread, and returns what it emitted.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Captured) {
    let store = Arc::new(Mutex::new(Store::default()));
    let subscriber = tracing_subscriber::registry().with(CaptureLayer {
        store: store.clone(),
    });
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let result = tracing::subscriber::with_default(subscriber, || {
        metrics::with_local_recorder(&recorder, f)
    });
    let series = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, unit, description, value)| {
            let (_, key) = key.into_parts();
            Series {
                name: key.name().to_string(),
                labels: key
                    .labels()
                    .map(|l| (l.key().to_string(), l.value().to_string()))
                    .collect(),
                value,
                unit,
                description: description.map(|d| d.to_string()),
            }
        })
        .collect();
    let store = std::mem::take(&mut *store.lock().unwrap());
    (
        result,
        Captured {
            spans: store.spans,
            events: store.events,
            series,
        },
    )
}

/// Like [`capture`], driving a future to completion on a current-thread runtime.
pub fn capture_async<F: std::future::Future>(future: F) -> (F::Output, Captured) {
    capture(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    })
}

/// Runs `f`, catching its panic, under capture.
pub fn capture_panic(f: impl FnOnce() + std::panic::UnwindSafe) -> Captured {
    let (result, captured) = capture(|| std::panic::catch_unwind(f));
    assert!(result.is_err(), "expected a panic");
    captured
}
