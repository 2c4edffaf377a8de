//! The OpenTelemetry side of a `tracing` span, for the code that propagates
//! traces (the HTTP layer and client), writes ids on log lines and
//! exemplars, and for users: what `tracing_opentelemetry::OpenTelemetrySpanExt`
//! and `get_otel_context` gave, read from the bridge's `OtelSpan`.

use std::sync::Arc;

use opentelemetry::Context;
use opentelemetry::trace::{SpanId, TraceId};
use tracing::Dispatch;
use tracing::span::Id;

use super::bridge::Access;

/// The OpenTelemetry context of a `tracing` span: its span context (trace
/// id, span id, sampled flag, trace state) over its parent's context; what
/// a propagator injects (`traceparent`), and a parent for spans started
/// through the OpenTelemetry API. The empty context when the span is
/// disabled or [`SpanBridge`](crate::SpanBridge) is not installed.
/// Reading it fixes the span's parent (see [`set_parent`]).
pub fn context_of(span: &tracing::Span) -> Context {
    span.with_subscriber(|(id, dispatch)| {
        let access = dispatch.downcast_ref::<Access>()?;
        let mut cx = None;
        (access.write)(dispatch, id, &mut |data| {
            data.started = true;
            cx = Some(data.cx.clone());
        });
        cx
    })
    .flatten()
    .unwrap_or_default()
}

/// Makes `parent` (for example a context extracted from an incoming
/// `traceparent`) the parent of a `tracing` span: the span joins its trace
/// and the sampler decides again with it. Only before the span is entered,
/// has a child, or has its context read: returns whether it was set.
pub fn set_parent(span: &tracing::Span, parent: Context) -> bool {
    let mut parent = Some(parent);
    span.with_subscriber(|(id, dispatch)| {
        let Some(access) = dispatch.downcast_ref::<Access>() else {
            return false;
        };
        let mut set = false;
        (access.write)(dispatch, id, &mut |data| {
            if let Some(parent) = parent.take() {
                set = data.set_parent(parent, &access.pipeline);
            }
        });
        set
    })
    .unwrap_or(false)
}

/// A span's trace id, span id and sampled flag; `None` when the bridge
/// does not know it. Takes a read lock on the span's extensions: do not
/// call while holding them mutably.
pub(crate) fn ids(id: &Id, dispatch: &Dispatch) -> Option<(TraceId, SpanId, bool)> {
    let access = dispatch.downcast_ref::<Access>()?;
    // Most asks are about a span the thread is in (the call's own span).
    if let Some(ids) = super::bridge::entered_ids(id, Arc::as_ptr(&access.pipeline)) {
        return Some((
            TraceId::from_bytes(ids.trace.to_be_bytes()),
            SpanId::from_bytes(ids.span.to_be_bytes()),
            ids.sampled,
        ));
    }
    let mut ids = None;
    (access.read)(dispatch, id, &mut |data| {
        let span_context = &data.span_context;
        ids = Some((
            span_context.trace_id(),
            span_context.span_id(),
            span_context.is_sampled(),
        ));
    });
    ids
}

/// The OpenTelemetry trace id of a `tracing` span.
pub fn trace_id_of(span: &tracing::Span) -> Option<u128> {
    span.with_subscriber(|(id, dispatch)| ids(id, dispatch))
        .flatten()
        .map(|(trace, _, _)| u128::from_be_bytes(trace.to_bytes()))
        .filter(|&id| id != 0)
}
