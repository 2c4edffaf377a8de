//! The same instrumented code, once through tracing-opentelemetry 0.34 and
//! once through observe's `SpanBridge`, each into an in-memory processor:
//! the exported spans must be the same (names, kinds, parents, shared trace
//! ids, attributes, events, statuses, links), except for ids, timings and
//! the thread attributes' values.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceContextExt, TraceId, TracerProvider};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, Span, SpanData, SpanProcessor};
use tracing::Instrument;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Registry;
use tracing_subscriber::layer::SubscriberExt;

const REMOTE_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const REMOTE_SPAN: &str = "00f067aa0ba902b7";

/// Keeps every finished span.
#[derive(Debug, Clone, Default)]
struct Collect(Arc<Mutex<Vec<SpanData>>>);

impl SpanProcessor for Collect {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}
    fn on_end(&self, span: SpanData) {
        self.0.lock().unwrap().push(span);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

fn remote_parent() -> Context {
    let headers = HashMap::from([(
        "traceparent".to_owned(),
        format!("00-{REMOTE_TRACE}-{REMOTE_SPAN}-01"),
    )]);
    TraceContextPropagator::new().extract(&headers)
}

/// Pending once, then ready: the span is entered twice across an await.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = TaskContext::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

#[derive(Debug)]
struct Wrapped(std::io::Error);

impl std::fmt::Display for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("payment failed")
    }
}

impl std::error::Error for Wrapped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// The instrumented code both bridges run; `set_parent` is each one's way
/// to give a span a remote parent.
fn scenario(set_parent: &dyn Fn(&tracing::Span, Context)) {
    let root = tracing::info_span!(
        "checkout",
        order_id = 42,
        user = "ann",
        amount = 1.5,
        express = true,
        items = 3u64,
        note = ?Some("gift"),
        otel.name = "POST /checkout",
        otel.kind = "server",
        later = Empty,
        otel.status_code = Empty,
    );
    root.record("later", "recorded after creation");
    let linked = tracing::info_span!("warm_cache");
    {
        let _root = root.enter();
        let charge = tracing::info_span!("charge", attempt = 1, otel.kind = "client");
        charge.follows_from(&linked);
        charge.in_scope(|| {
            tracing::info!(card_last4 = "4242", slow = true, "charging");
            tracing::error!(reason = "declined", "charge failed");
        });
        tracing::info_span!("refund", otel.status_description = "refund refused").in_scope(|| {
            tracing::warn!(error = %"ledger closed");
        });
        tracing::info_span!("report").in_scope(|| {
            let error = Wrapped(std::io::Error::other("connection reset"));
            tracing::info!(
                error = &error as &(dyn std::error::Error + 'static),
                "with a source"
            );
        });
        let reentered = tracing::info_span!("reentered", otel.status_code = "ok");
        reentered.in_scope(|| tracing::info!(round = 1, "first"));
        reentered.in_scope(|| tracing::error!(round = 2, "second"));
    }
    root.record("otel.status_code", "ERROR");
    drop(root);
    drop(linked);

    let server = tracing::info_span!("server", otel.kind = "server", route = "/orders/{id}");
    set_parent(&server, remote_parent());
    block_on(
        async {
            tracing::info!("before the await");
            YieldOnce(false).await;
            tracing::info_span!("after_await").in_scope(|| tracing::debug!("inside"));
        }
        .instrument(server),
    );

    // A contextual root while an OpenTelemetry context is attached.
    let attached = remote_parent().attach();
    tracing::info_span!("attached_root")
        .in_scope(|| tracing::info!(n = -7i64, "in the attached trace"));
    drop(attached);

    // An explicit root inside a span.
    let outer = tracing::info_span!("outer");
    outer.in_scope(|| {
        tracing::info_span!(parent: None, "explicit_root").in_scope(|| {});
        tracing::info_span!(parent: &outer, "explicit_child").in_scope(|| {});
    });
}

fn through_tracing_opentelemetry() -> Vec<SpanData> {
    let collect = Collect::default();
    let provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::AlwaysOn)
        .with_span_processor(collect.clone())
        .build();
    let subscriber = Registry::default()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("observe")));
    tracing::subscriber::with_default(subscriber, || {
        scenario(&|span, cx| {
            span.set_parent(cx)
                .expect("the parent is set before the span starts");
        })
    });
    collect.0.lock().unwrap().clone()
}

fn through_the_bridge() -> Vec<SpanData> {
    let collect = Collect::default();
    let (bridge, _provider) = observe_telemetry::SpanBridge::new(
        Sampler::AlwaysOn,
        Resource::builder_empty().build(),
        vec![Box::new(collect.clone())],
    );
    let subscriber = Registry::default().with(bridge);
    tracing::subscriber::with_default(subscriber, || {
        scenario(&|span, cx| {
            assert!(observe_telemetry::set_parent(span, cx));
        })
    });
    collect.0.lock().unwrap().clone()
}

/// Ids, timings and the thread's values differ from run to run.
fn varies(key: &str) -> bool {
    matches!(key, "busy_ns" | "idle_ns" | "thread.id" | "thread.name")
}

fn attributes(attributes: &[KeyValue]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = attributes
        .iter()
        .map(|kv| {
            let value = if varies(kv.key.as_str()) {
                "*".to_owned()
            } else {
                match &kv.value {
                    Value::String(s) => format!("str:{}", s.as_str()),
                    other => format!("{other:?}"),
                }
            };
            (kv.key.as_str().to_owned(), value)
        })
        .collect();
    out.sort();
    out
}

/// A span as compared: everything but ids and times, the parent and the
/// links by name, the trace by the first span (by name) seen in it.
#[derive(Debug, PartialEq)]
struct Shape {
    name: String,
    kind: SpanKind,
    parent: String,
    parent_is_remote: bool,
    trace: String,
    sampled: bool,
    status: Status,
    attributes: Vec<(String, String)>,
    dropped_attributes: u32,
    events: Vec<(String, Vec<(String, String)>)>,
    links: Vec<String>,
    scope: String,
}

fn shapes(spans: &[SpanData]) -> BTreeMap<String, Shape> {
    let names: HashMap<SpanId, String> = spans
        .iter()
        .map(|s| (s.span_context.span_id(), s.name.to_string()))
        .collect();
    let mut traces: HashMap<TraceId, String> = HashMap::new();
    let mut sorted: Vec<&SpanData> = spans.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for span in &sorted {
        traces
            .entry(span.span_context.trace_id())
            .or_insert_with(|| span.name.to_string());
    }
    spans
        .iter()
        .map(|span| {
            let trace_id = span.span_context.trace_id();
            let trace = if trace_id.to_string() == REMOTE_TRACE {
                "remote".to_owned()
            } else {
                traces[&trace_id].clone()
            };
            let parent = if span.parent_span_id == SpanId::INVALID {
                "none".to_owned()
            } else {
                names
                    .get(&span.parent_span_id)
                    .cloned()
                    .unwrap_or_else(|| span.parent_span_id.to_string())
            };
            let shape = Shape {
                name: span.name.to_string(),
                kind: span.span_kind.clone(),
                parent,
                parent_is_remote: span.parent_span_is_remote,
                trace,
                sampled: span.span_context.is_sampled(),
                status: span.status.clone(),
                attributes: attributes(&span.attributes),
                dropped_attributes: span.dropped_attributes_count,
                events: span
                    .events
                    .iter()
                    .map(|e| (e.name.to_string(), attributes(&e.attributes)))
                    .collect(),
                links: span
                    .links
                    .iter()
                    .map(|l| names[&l.span_context.span_id()].clone())
                    .collect(),
                scope: span.instrumentation_scope.name().to_owned(),
            };
            (span.name.to_string(), shape)
        })
        .collect()
}

#[test]
fn the_bridge_exports_what_tracing_opentelemetry_exports() {
    let expected = through_tracing_opentelemetry();
    let actual = through_the_bridge();
    assert_eq!(actual.len(), expected.len());
    let expected = shapes(&expected);
    let actual = shapes(&actual);
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (name, shape) in &expected {
        assert_eq!(&actual[name], shape, "span {name}");
    }

    // What the scenario means, so the comparison cannot pass on two empty
    // or equally broken outputs.
    let checkout = &actual["POST /checkout"];
    assert_eq!(checkout.kind, SpanKind::Server);
    assert_eq!(checkout.status, Status::error(""));
    assert_eq!(checkout.parent, "none");
    for key in [
        "code.file.path",
        "code.module.name",
        "code.line.number",
        "thread.id",
        "thread.name",
        "target",
        "busy_ns",
        "idle_ns",
        "order_id",
        "later",
    ] {
        assert!(
            checkout.attributes.iter().any(|(k, _)| k == key),
            "{key} in {:?}",
            checkout.attributes
        );
    }
    assert!(
        checkout
            .attributes
            .contains(&("items".to_owned(), "str:3".to_owned()))
    );
    let charge = &actual["charge"];
    assert_eq!(charge.parent, "POST /checkout");
    assert_eq!(charge.trace, checkout.trace);
    assert_eq!(charge.kind, SpanKind::Client);
    assert_eq!(charge.status, Status::error(""));
    assert_eq!(charge.links, ["warm_cache"]);
    assert_eq!(
        charge
            .events
            .iter()
            .map(|e| e.0.as_str())
            .collect::<Vec<_>>(),
        ["charging", "charge failed"]
    );
    assert!(
        charge.events[0]
            .1
            .contains(&("slow".to_owned(), "Bool(true)".to_owned()))
    );
    assert_eq!(actual["refund"].status, Status::error("refund refused"));
    assert_eq!(actual["refund"].events[0].0, "exception");
    assert!(actual["report"].attributes.contains(&(
        "exception.message".to_owned(),
        "str:payment failed".to_owned()
    )));
    assert_eq!(actual["reentered"].status, Status::Ok);
    assert_eq!(actual["reentered"].events.len(), 2);
    let server = &actual["server"];
    assert_eq!(server.trace, "remote");
    assert_eq!(server.parent, REMOTE_SPAN);
    assert!(server.parent_is_remote);
    assert_eq!(server.events.len(), 1);
    assert_eq!(actual["after_await"].parent, "server");
    assert_eq!(actual["after_await"].trace, "remote");
    assert_eq!(actual["attached_root"].trace, "remote");
    assert_eq!(actual["explicit_root"].parent, "none");
    assert_ne!(actual["explicit_root"].trace, actual["outer"].trace);
    assert_eq!(actual["explicit_child"].parent, "outer");
}

#[test]
fn a_span_context_is_what_is_exported_and_fixes_the_parent() {
    let collect = Collect::default();
    let (bridge, _provider) = observe_telemetry::SpanBridge::new(
        Sampler::AlwaysOn,
        Resource::builder_empty().build(),
        vec![Box::new(collect.clone())],
    );
    let subscriber = Registry::default().with(bridge);
    let (trace, span, inner) = tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("read");
        let cx = observe_telemetry::context_of(&span);
        assert!(!observe_telemetry::set_parent(&span, remote_parent()));
        let inner = span.in_scope(|| Context::current().span().span_context().clone());
        let trace = observe_telemetry::trace_id_of(&span);
        let sc = cx.span().span_context().clone();
        (trace, sc, inner)
    });
    let spans = collect.0.lock().unwrap();
    assert_eq!(spans.len(), 1);
    let exported = &spans[0].span_context;
    assert_eq!(exported, &span);
    assert_eq!(exported, &inner);
    assert_eq!(
        trace,
        Some(u128::from_be_bytes(exported.trace_id().to_bytes()))
    );
    assert_eq!(spans[0].parent_span_id, SpanId::INVALID);
}

#[test]
fn busy_and_idle_add_up_to_the_time_from_opening_to_the_last_exit() {
    let collect = Collect::default();
    let (bridge, _provider) = observe_telemetry::SpanBridge::new(
        Sampler::AlwaysOn,
        Resource::builder_empty().build(),
        vec![Box::new(collect.clone())],
    );
    let subscriber = Registry::default().with(bridge);
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("twice");
        span.in_scope(|| tracing::info!("first"));
        span.in_scope(|| span.in_scope(|| tracing::info!("nested")));
        tracing::info_span!("never_entered");
    });
    let spans = collect.0.lock().unwrap();
    let number = |span: &SpanData, key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| match kv.value {
                Value::I64(n) => n,
                ref other => panic!("{key} is {other:?}"),
            })
            .unwrap_or_else(|| panic!("no {key}"))
    };
    let twice = spans.iter().find(|s| s.name == "twice").unwrap();
    let lived = twice.end_time.duration_since(twice.start_time).unwrap();
    let (busy, idle) = (number(twice, "busy_ns"), number(twice, "idle_ns"));
    assert!(busy >= 0 && idle >= 0);
    assert_eq!((busy + idle) as u128, lived.as_nanos());
    assert_eq!(twice.events.len(), 2);
    let never = spans.iter().find(|s| s.name == "never_entered").unwrap();
    assert_eq!((number(never, "busy_ns"), number(never, "idle_ns")), (0, 0));
}
