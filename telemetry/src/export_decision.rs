//! The same decision for exported spans as for buffered log lines: a trace
//! whose local part has an error or a slow span is exported whole (its
//! local spans) whatever the head sampler said; other traces follow the
//! sampler.
//!
//! Sampled spans pass straight on. Unsampled ones (recorded only, see
//! `RecordEverything`) are held per trace until the trace's local root
//! ends: if a span of it failed (status ERROR) or was slow (a `slow = true`
//! event), they are all passed on, else dropped. A span of a trace already
//! decided that ends after its root follows the decision. Bounded: traces
//! held and spans per trace; the oldest trace is dropped when full.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::trace::{Status, TraceId};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

/// Unsampled traces held at most.
const MAX_TRACES: usize = 1024;
/// Spans held per unsampled trace at most.
const MAX_SPANS: usize = 512;
/// Decisions remembered for spans that end after their root.
const MAX_DECIDED: usize = 1024;

#[derive(Default)]
struct Held {
    spans: Vec<SpanData>,
    failed: bool,
}

#[derive(Default)]
struct State {
    held: HashMap<TraceId, Held>,
    /// Arrival order of `held`, for eviction.
    order: VecDeque<TraceId>,
    decided: HashMap<TraceId, bool>,
    decided_order: VecDeque<TraceId>,
}

/// Wraps the exporting processor (see the module comment).
pub(crate) struct FailedTracesWhole<P> {
    inner: P,
    state: Mutex<State>,
}

impl<P: std::fmt::Debug> std::fmt::Debug for FailedTracesWhole<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("FailedTracesWhole")
            .field(&self.inner)
            .finish()
    }
}

impl<P> FailedTracesWhole<P> {
    pub(crate) fn new(inner: P) -> Self {
        FailedTracesWhole {
            inner,
            state: Mutex::new(State::default()),
        }
    }
}

/// An error status, or a slow call recorded on the span.
fn failed(span: &SpanData) -> bool {
    matches!(span.status, Status::Error { .. })
        || span.events.iter().any(|event| {
            event
                .attributes
                .iter()
                .any(|kv| kv.key.as_str() == "slow" && kv.value == Value::Bool(true))
        })
}

impl State {
    fn remember(&mut self, trace: TraceId, failed: bool) {
        if self.decided.insert(trace, failed).is_none() {
            self.decided_order.push_back(trace);
            if self.decided_order.len() > MAX_DECIDED
                && let Some(old) = self.decided_order.pop_front()
            {
                self.decided.remove(&old);
            }
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for FailedTracesWhole<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            return self.inner.on_end(span);
        }
        let trace = span.span_context.trace_id();
        let local_root = span.parent_span_id == opentelemetry::trace::SpanId::INVALID
            || span.parent_span_is_remote;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&decision) = state.decided.get(&trace) {
            drop(state);
            if decision || failed(&span) {
                self.inner.on_end(span);
            }
            return;
        }
        if !state.held.contains_key(&trace) {
            if state.held.len() >= MAX_TRACES
                && let Some(oldest) = state.order.pop_front()
            {
                state.held.remove(&oldest);
            }
            state.order.push_back(trace);
        }
        let held = state.held.entry(trace).or_default();
        held.failed |= failed(&span);
        if held.spans.len() < MAX_SPANS {
            held.spans.push(span);
        }
        if !local_root {
            return;
        }
        let held = state.held.remove(&trace).unwrap_or_default();
        state.order.retain(|t| *t != trace);
        state.remember(trace, held.failed);
        drop(state);
        if held.failed {
            for span in held.spans {
                self.inner.on_end(span);
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
