//! What a finished span goes through: the span processors, the sampler, the
//! id generator, the limits and the instrumentation scope, shared by the
//! bridge and the `SdkTracerProvider` (so spans started through
//! `opentelemetry::global` reach the same processors, and the provider's
//! flush and shutdown reach the bridge's).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    RandomIdGenerator, SdkTracerProvider, ShouldSample, Span, SpanData, SpanLimits, SpanProcessor,
};

use crate::flight_recorder::FlightRecorder;

/// The instrumentation scope of every span the bridge makes, as the
/// provider's `tracer("observe")` would name it.
pub(crate) const SCOPE: &str = "observe";

pub(crate) struct Pipeline {
    processors: Vec<Box<dyn SpanProcessor>>,
    /// The flight recorder, when it is the only processor (no exporter):
    /// see [`Pipeline::recorder_alone`].
    recorder_alone: Option<FlightRecorder>,
    shut_down: AtomicBool,
    pub sampler: Box<dyn ShouldSample>,
    pub ids: RandomIdGenerator,
    pub scope: InstrumentationScope,
    pub limits: SpanLimits,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("processors", &self.processors)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// The provider (holding `sampler` and the processors) and the
    /// pipeline that shares them. `recorder_alone`: the flight recorder,
    /// when `processors` is it alone.
    pub fn build<T: ShouldSample + Clone + 'static>(
        sampler: T,
        resource: Resource,
        mut processors: Vec<Box<dyn SpanProcessor>>,
        recorder_alone: Option<FlightRecorder>,
    ) -> (Arc<Pipeline>, SdkTracerProvider) {
        // What the provider's `build` does for its own processors; the shared
        // list is out of its reach once wrapped.
        for processor in &mut processors {
            processor.set_resource(&resource);
        }
        let pipeline = Arc::new(Pipeline {
            processors,
            recorder_alone,
            shut_down: AtomicBool::new(false),
            sampler: Box::new(sampler.clone()),
            ids: RandomIdGenerator::default(),
            scope: InstrumentationScope::builder(SCOPE).build(),
            limits: SpanLimits::default(),
        });
        let provider = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_sampler(sampler)
            .with_span_processor(Shared(pipeline.clone()))
            .build();
        (pipeline, provider)
    }

    /// The flight recorder when it is the only processor and the pipeline
    /// is not shut down: a span it would drop need not be built (see
    /// `FlightRecorder::drop_ordinary_root`).
    pub fn recorder_alone(&self) -> Option<&FlightRecorder> {
        self.recorder_alone
            .as_ref()
            .filter(|_| !self.shut_down.load(Ordering::Relaxed))
    }

    /// Hands a finished span to every processor, as the SDK's span end does
    /// (a copy each; nothing once the provider is shut down).
    pub fn end(&self, span: SpanData) {
        if self.shut_down.load(Ordering::Relaxed) {
            return;
        }
        if let Some((last, others)) = self.processors.split_last() {
            for processor in others {
                processor.on_end(span.clone());
            }
            last.on_end(span);
        }
    }
}

/// The provider's one processor: the shared list.
#[derive(Debug)]
struct Shared(Arc<Pipeline>);

impl SpanProcessor for Shared {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        for processor in &self.0.processors {
            processor.on_start(span, cx);
        }
    }

    fn on_end(&self, span: SpanData) {
        self.0.end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0
            .processors
            .iter()
            .map(|processor| processor.force_flush())
            .fold(Ok(()), Result::and)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shut_down.store(true, Ordering::Relaxed);
        self.0
            .processors
            .iter()
            .map(|processor| processor.shutdown_with_timeout(timeout))
            .fold(Ok(()), Result::and)
    }

    /// The processors were given the resource before being shared.
    fn set_resource(&mut self, _resource: &Resource) {}
}
