//! Which spans and events each output sees.
//!
//! `RUST_LOG` decides which *events* become log lines. Spans at INFO and
//! above are always kept, whatever `RUST_LOG` says, so that a WARN line
//! inside a request still carries the request's `request_id` and
//! `trace_id`, and traces reach the exporter and the flight recorder even
//! when the logs are quieter (`RUST_LOG=warn`). More verbose spans follow
//! `RUST_LOG`.

use tracing::Level;
use tracing::metadata::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, span};
use tracing_subscriber::layer::{Context, Filter};

/// Wraps the `RUST_LOG` filter `inner` with an INFO floor for spans (and
/// for events too, with `events_too`, for the trace output).
pub(crate) struct InfoFloor<F> {
    inner: F,
    events_too: bool,
}

impl<F> InfoFloor<F> {
    /// Spans at INFO and above always pass; events follow `inner`.
    pub(crate) fn spans(inner: F) -> Self {
        InfoFloor {
            inner,
            events_too: false,
        }
    }

    /// Spans and events at INFO and above always pass.
    pub(crate) fn spans_and_events(inner: F) -> Self {
        InfoFloor {
            inner,
            events_too: true,
        }
    }

    fn floor(&self, meta: &Metadata<'_>) -> bool {
        (meta.is_span() || self.events_too) && *meta.level() <= Level::INFO
    }
}

impl<S, F: Filter<S>> Filter<S> for InfoFloor<F> {
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        self.floor(meta) || self.inner.enabled(meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.floor(meta) {
            Interest::always()
        } else {
            self.inner.callsite_enabled(meta)
        }
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        self.floor(event.metadata()) || self.inner.event_enabled(event, cx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner
            .max_level_hint()
            .map(|hint| hint.max(LevelFilter::INFO))
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.inner.on_record(id, values, ctx);
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.inner.on_close(id, ctx);
    }
}
