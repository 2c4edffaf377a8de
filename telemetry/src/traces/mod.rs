//! Traces: one OpenTelemetry tracer provider, fed from `tracing` by our own
//! bridge (`bridge`, in place of tracing-opentelemetry's layer; `span` is
//! a span's state, `record` maps fields, `intern` shares short texts,
//! `pipeline` shares the processors with the provider, `context` is the
//! span-to-`Context` API), with
//! - the configured head sampler deciding what is exported, wrapped so the
//!   spans it drops are still recorded for the flight recorder;
//! - an OTLP batch exporter when an endpoint is set, behind redaction, the
//!   export decision (`export_decision`: sampled spans, and unsampled traces
//!   that failed or were slow, whole) and a wrapper that turns a failing endpoint into one
//!   warning (the batch queue bounds memory and drops when full);
//! - the flight recorder, which redacts what it stores (the spans of the
//!   traces it drops at their root are never stored, nor redacted).

mod bridge;
mod context;
mod intern;
mod origin;
mod pipeline;
mod record;
mod span;

pub use bridge::SpanBridge;
pub(crate) use context::ids;
pub use context::{context_of, set_parent, trace_id_of};

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SamplingDecision, SamplingResult,
    SdkTracerProvider, ShouldSample, Span, SpanData, SpanExporter, SpanProcessor,
};

use crate::config::{OtlpProtocol, SamplerConfig, Settings};
use crate::flight_recorder::FlightRecorder;
use std::borrow::Cow;

use opentelemetry::{Array, StringValue, Value};

use crate::redaction::{EndpointSecrets, scrub_attribute, scrub_span_with};
use crate::verdicts::{is_secret_key, scrub_memo};

/// The spans waiting for export at most (then new ones are dropped).
const EXPORT_QUEUE: usize = 2048;

pub(crate) struct Traces {
    pub provider: SdkTracerProvider,
    /// What the bridge hands finished spans to (shared with `provider`).
    pub pipeline: Arc<pipeline::Pipeline>,
    /// The runtime the gRPC exporter lives on, when `init` ran outside one.
    pub runtime: Option<tokio::runtime::Runtime>,
}

pub(crate) fn build(
    settings: &Settings,
    recorder: Option<&FlightRecorder>,
) -> Result<Traces, String> {
    let mut processors: Vec<Box<dyn SpanProcessor>> = Vec::new();
    let mut runtime = None;
    if let Some(endpoint) = &settings.otlp_endpoint {
        let (exporter, rt) = otlp_exporter(endpoint, settings.otlp_protocol)?;
        runtime = rt;
        let batch = BatchSpanProcessor::builder(QuietExporter::new(exporter, endpoint.clone()))
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_max_queue_size(EXPORT_QUEUE)
                    .build(),
            )
            .build();
        // Sampled spans, and the unsampled traces that failed, whole.
        processors.push(Box::new(Redacting(
            crate::export_decision::FailedTracesWhole::new(batch),
        )));
    }
    if let Some(recorder) = recorder {
        // It redacts what it stores itself (see `FlightRecorder::redacting`).
        processors.push(Box::new(recorder.clone()));
    }
    let recorder_alone = recorder.filter(|_| processors.len() == 1).cloned();
    let (pipeline, provider) = pipeline::Pipeline::build(
        RecordEverything::new(sampler(settings.sampler)),
        settings.resource.clone(),
        processors,
        recorder_alone,
    );
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    observe_runtime::sampling::set_trace_id_source(trace_id_of);
    Ok(Traces {
        provider,
        pipeline,
        runtime,
    })
}

/// The bridge for `observe::init`'s subscriber, over `traces`' pipeline.
pub(crate) fn bridge<S>(traces: &Traces) -> SpanBridge<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    SpanBridge::with_pipeline(traces.pipeline.clone())
}

fn sampler(config: SamplerConfig) -> Sampler {
    match config {
        SamplerConfig::AlwaysOn => Sampler::AlwaysOn,
        SamplerConfig::AlwaysOff => Sampler::AlwaysOff,
        SamplerConfig::TraceIdRatio(ratio) => Sampler::TraceIdRatioBased(ratio),
        SamplerConfig::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        SamplerConfig::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        SamplerConfig::ParentBasedTraceIdRatio(ratio) => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio)))
        }
    }
}

fn otlp_exporter(
    endpoint: &str,
    protocol: OtlpProtocol,
) -> Result<
    (
        opentelemetry_otlp::SpanExporter,
        Option<tokio::runtime::Runtime>,
    ),
    String,
> {
    let timeout = Duration::from_secs(5);
    match protocol {
        OtlpProtocol::HttpProtobuf => {
            let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
            // The default blocking client suits the batch processor's own
            // thread (the async one would panic there).
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(url)
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_timeout(timeout)
                .build()
                .map_err(|e| format!("OTLP/HTTP exporter: {e}"))?;
            Ok((exporter, None))
        }
        OtlpProtocol::Grpc => {
            let own_runtime = grpc_runtime("observe-otlp")?;
            let entered = own_runtime.as_ref().map(tokio::runtime::Runtime::enter);
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.to_owned())
                .with_timeout(timeout)
                .build();
            drop(entered);
            match exporter {
                Ok(exporter) => Ok((exporter, own_runtime)),
                Err(error) => {
                    // Dropping a runtime inside an async context panics; this one is idle.
                    std::mem::forget(own_runtime);
                    Err(format!("OTLP/gRPC exporter: {error}"))
                }
            }
        }
    }
}

/// Records every span: what the inner sampler drops is still recorded
/// (for the flight recorder) but not sampled, so it is not exported and
/// downstream services see the unsampled flag.
#[derive(Debug, Clone)]
struct RecordEverything {
    inner: Sampler,
}

impl RecordEverything {
    fn new(inner: Sampler) -> Self {
        RecordEverything { inner }
    }
}

impl ShouldSample for RecordEverything {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let mut result =
            self.inner
                .should_sample(parent_context, trace_id, name, span_kind, attributes, links);
        if result.decision == SamplingDecision::Drop {
            result.decision = SamplingDecision::RecordOnly;
        }
        result
    }
}

/// An exporter whose failures become one warning per outage instead of an
/// error per batch; the application never sees them.
struct QuietExporter<E> {
    inner: E,
    endpoint: String,
    secrets: EndpointSecrets,
    failing: Arc<AtomicBool>,
}

impl<E> QuietExporter<E> {
    fn new(inner: E, endpoint: String) -> Self {
        QuietExporter {
            inner,
            // Printed in warnings: never with the password of its user-info.
            secrets: EndpointSecrets::of([endpoint.as_str()]),
            endpoint: EndpointSecrets::shown(&endpoint),
            failing: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for QuietExporter<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuietExporter")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl<E: SpanExporter> SpanExporter for QuietExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let count = batch.len();
        let result = self.inner.export(batch).await;
        match &result {
            Err(error) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        target: "observe_telemetry",
                        endpoint = %self.endpoint,
                        error = %self.secrets.scrub(&error.to_string()),
                        dropped_spans = count,
                        "OTLP trace export failed; spans are dropped while the endpoint is unreachable (this warning is not repeated until it recovers)"
                    );
                }
            }
            Ok(()) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!(target: "observe_telemetry", endpoint = %self.endpoint, "OTLP trace export recovered");
                }
            }
        }
        // Failures were reported above; returning them would make the SDK
        // log each one again.
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Scrubs each finished span before the exporter sees it: what
/// `redaction::RedactingProcessor`
/// does, with the rules' answers remembered (see `verdicts`). Every span
/// carries the same keys and mostly the same values (file, module, thread,
/// flow, function), which `scrub_span` would otherwise scan again each time.
#[derive(Debug)]
struct Redacting<P>(P);

impl<P: SpanProcessor> SpanProcessor for Redacting<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.0.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        scrub_span_memo(&mut span);
        self.0.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

/// `redaction::scrub_span` with the rules' answers remembered.
pub(crate) fn scrub_span_memo(span: &mut SpanData) {
    scrub_span_with(span, scrub_memo, scrub_attribute_memo);
}

/// `redaction::scrub_attribute` with the key's verdict and clean texts
/// remembered; the values it would change (a secret key's, a long number,
/// a dirty text) still go through the rules.
fn scrub_attribute_memo(attribute: &mut KeyValue) {
    if is_secret_key(attribute.key.as_str()) {
        return scrub_attribute(attribute);
    }
    match &mut attribute.value {
        Value::String(text) => {
            if let Cow::Owned(clean) = scrub_memo(text.as_str()) {
                *text = StringValue::from(clean);
            }
        }
        // 13 characters or more (sign included) may be a card number.
        Value::I64(number) if !(-100_000_000_000..1_000_000_000_000).contains(number) => {
            scrub_attribute(attribute);
        }
        Value::Array(Array::String(items)) => {
            for text in items.iter_mut() {
                if let Cow::Owned(clean) = scrub_memo(text.as_str()) {
                    *text = StringValue::from(clean);
                }
            }
        }
        _ => {}
    }
}

/// The Tokio runtime a tonic exporter is built and run in: none when the
/// caller's multi-thread runtime can host it, else one of our own (one
/// worker, named `thread_name`).
pub(crate) fn grpc_runtime(thread_name: &str) -> Result<Option<tokio::runtime::Runtime>, String> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            Ok(None)
        }
        _ => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(thread_name)
            .enable_all()
            .build()
            .map(Some)
            .map_err(|e| format!("OTLP/gRPC runtime ({thread_name}): {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use observe_runtime::redact::REDACTED;

    #[test]
    fn dropped_spans_are_still_recorded_but_not_sampled() {
        let off = RecordEverything::new(sampler(SamplerConfig::AlwaysOff));
        let trace_id = TraceId::from(7u128);
        let result = off.should_sample(None, trace_id, "x", &SpanKind::Internal, &[], &[]);
        assert_eq!(result.decision, SamplingDecision::RecordOnly);
        let on = RecordEverything::new(sampler(SamplerConfig::AlwaysOn));
        let result = on.should_sample(None, trace_id, "x", &SpanKind::Internal, &[], &[]);
        assert_eq!(result.decision, SamplingDecision::RecordAndSample);
    }

    /// Keeps every finished span.
    #[derive(Debug, Clone, Default)]
    struct Collect(Arc<std::sync::Mutex<Vec<SpanData>>>);

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

    #[test]
    fn the_sampler_decides_at_each_local_root_and_every_span_is_recorded() {
        use opentelemetry::propagation::TextMapPropagator;
        use tracing_subscriber::layer::SubscriberExt;

        let collect = Collect::default();
        let (bridge, provider) = SpanBridge::<tracing_subscriber::Registry>::new(
            RecordEverything::new(sampler(SamplerConfig::ParentBasedAlwaysOff)),
            Resource::builder_empty().build(),
            vec![Box::new(collect.clone())],
        );
        let dispatch = tracing::Dispatch::new(tracing_subscriber::Registry::default().with(bridge));
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info_span!("root").in_scope(|| tracing::info_span!("child").in_scope(|| {}));
            let headers = std::collections::HashMap::from([(
                "traceparent".to_owned(),
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
            )]);
            let remote = TraceContextPropagator::new().extract(&headers);
            let server = tracing::info_span!("server");
            assert!(set_parent(&server, remote));
            server.in_scope(|| tracing::info_span!("inner").in_scope(|| {}));
        });
        let spans = collect.0.lock().unwrap();
        let span = |name: &str| spans.iter().find(|s| s.name == name).unwrap();
        // Dropped by the sampler, still recorded (for the flight recorder).
        assert!(!span("root").span_context.is_sampled());
        assert!(!span("child").span_context.is_sampled());
        assert_eq!(
            span("child").span_context.trace_id(),
            span("root").span_context.trace_id()
        );
        // The sampled remote parent decides for its local root and below.
        let remote = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        for name in ["server", "inner"] {
            assert!(span(name).span_context.is_sampled(), "{name}");
            assert_eq!(span(name).span_context.trace_id(), remote);
        }
        assert!(span("server").parent_span_is_remote);
        assert_eq!(
            span("inner").parent_span_id,
            span("server").span_context.span_id()
        );
        assert_eq!(spans.len(), 4);
        // The provider shares the processors: once it is shut down, the
        // bridge hands them nothing.
        drop(spans);
        provider.shutdown().unwrap();
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info_span!("after_shutdown").in_scope(|| {});
        });
        assert_eq!(collect.0.lock().unwrap().len(), 4);
    }

    #[test]
    fn remembered_answers_are_the_rules_answers() {
        let attributes = || {
            vec![
                KeyValue::new("http.request.header.authorization", "Basic dXNlcjpwYXNz"),
                KeyValue::new("query", "a=1&token=t0k3n"),
                KeyValue::new("card", 4111111111111111i64),
                KeyValue::new("amount", 4111111111111111i64),
                KeyValue::new("negative", -411111111111i64),
                KeyValue::new("small", 1234i64),
                KeyValue::new("ratio", 0.5),
                KeyValue::new("pin", true),
                KeyValue::new("route", "/orders/{id}"),
                KeyValue::new("note", "card 4111 1111 1111 1111"),
                KeyValue::new(
                    "tags",
                    Value::Array(Array::String(vec![
                        "ok".into(),
                        "Bearer abcdefghijklmnopqrstuvwxyz0123".into(),
                    ])),
                ),
            ]
        };
        let mut expected = attributes();
        expected.iter_mut().for_each(scrub_attribute);
        // Twice: the second pass answers from the memo.
        for _ in 0..2 {
            let mut actual = attributes();
            actual.iter_mut().for_each(scrub_attribute_memo);
            assert_eq!(actual, expected);
        }
        assert!(format!("{expected:?}").contains(REDACTED));
    }
}
