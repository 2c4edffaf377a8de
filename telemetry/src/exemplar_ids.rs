//! The trace and span ids an exemplar carries, kept in thread-locals by a
//! small layer so the metrics recorder reads them with two `Cell` loads
//! instead of looking a span up per sample.
//!
//! It sits after the `tracing-opentelemetry` layer, which attaches the
//! span's OpenTelemetry context on enter (before this layer's `on_enter`
//! runs) and detaches it on exit: on enter we read that context once and
//! push its ids; on exit we pop them. `#[observe]` records its metrics
//! right after its span exits (the span is exited before the completion
//! is classified), so the recorder also keeps the ids of the span that
//! has just exited on this thread, cleared by the next enter.

use std::cell::{Cell, RefCell};

use opentelemetry::trace::TraceContextExt;
use tracing::span;
use tracing_subscriber::layer::Context;

/// A trace id, a span id and whether the trace was sampled for export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ids {
    pub trace: u128,
    pub span: u64,
    pub sampled: bool,
}

impl Ids {
    pub const NONE: Ids = Ids {
        trace: 0,
        span: 0,
        sampled: false,
    };

    pub fn is_some(&self) -> bool {
        self.trace != 0
    }
}

thread_local! {
    static CURRENT: Cell<Ids> = const { Cell::new(Ids::NONE) };
    static JUST_EXITED: Cell<Ids> = const { Cell::new(Ids::NONE) };
    static STACK: RefCell<Vec<Ids>> = const { RefCell::new(Vec::new()) };
}

/// The ids of the span entered on this thread (none outside spans).
#[inline]
pub(crate) fn current() -> Ids {
    CURRENT.with(Cell::get)
}

/// The ids of the span that has just exited on this thread if no span was
/// entered since, else the current span's: where `#[observe]` records.
#[inline]
pub(crate) fn just_exited_or_current() -> Ids {
    let exited = JUST_EXITED.with(Cell::get);
    if exited.is_some() { exited } else { current() }
}

fn otel_current() -> Ids {
    opentelemetry::Context::map_current(|cx| {
        let span = cx.span();
        let context = span.span_context();
        if !context.is_valid() {
            return Ids::NONE;
        }
        Ids {
            trace: u128::from_be_bytes(context.trace_id().to_bytes()),
            span: u64::from_be_bytes(context.span_id().to_bytes()),
            sampled: context.is_sampled(),
        }
    })
}

/// The layer; add it after the OpenTelemetry layer.
pub(crate) struct ExemplarIds;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ExemplarIds {
    fn on_enter(&self, _id: &span::Id, _ctx: Context<'_, S>) {
        let ids = otel_current();
        STACK.with(|stack| stack.borrow_mut().push(ids));
        CURRENT.with(|current| current.set(ids));
        JUST_EXITED.with(|exited| exited.set(Ids::NONE));
    }

    fn on_exit(&self, _id: &span::Id, _ctx: Context<'_, S>) {
        let (exited, parent) = STACK.with(|stack| {
            let mut stack = stack.borrow_mut();
            let exited = stack.pop().unwrap_or(Ids::NONE);
            (exited, stack.last().copied().unwrap_or(Ids::NONE))
        });
        CURRENT.with(|current| current.set(parent));
        JUST_EXITED.with(|slot| slot.set(exited));
    }
}

#[cfg(test)]
pub(crate) fn set_for_test(ids: Ids) {
    CURRENT.with(|current| current.set(ids));
    JUST_EXITED.with(|slot| slot.set(Ids::NONE));
}
