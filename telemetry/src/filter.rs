//! Which spans and events each output sees.
//!
//! `RUST_LOG` decides which *events* become log lines. Spans at INFO and
//! above are always kept, whatever `RUST_LOG` says, so that a WARN line
//! inside a request still carries the request's `request_id` and
//! `trace_id`, and traces reach the exporter and the flight recorder even
//! when the logs are quieter (`RUST_LOG=warn`). More verbose spans follow
//! `RUST_LOG`.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing::Level;
use tracing::metadata::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, span};
use tracing_subscriber::layer::{Context, Filter};

/// Wraps the `RUST_LOG` filter `inner` with an INFO floor for spans (and
/// for events too, with `events_too`, for the trace output).
///
/// `inner` (an `EnvFilter`) follows a span through its life only when it
/// was shown the span's call site (a span-scoped directive may match it).
/// The call sites of spans at INFO and above never reach it (the floor
/// answers for them), so until a more verbose span's call site does, the
/// span callbacks (`on_enter`, `on_exit`, …) would only look the span up in
/// `inner` and find nothing: they are not passed on.
pub(crate) struct InfoFloor<F> {
    inner: F,
    events_too: bool,
    /// A span's call site was passed to `inner` (never reset).
    inner_sees_spans: AtomicBool,
}

impl<F> InfoFloor<F> {
    /// Spans at INFO and above always pass; events follow `inner`.
    pub(crate) fn spans(inner: F) -> Self {
        InfoFloor {
            inner,
            events_too: false,
            inner_sees_spans: AtomicBool::new(false),
        }
    }

    /// Spans and events at INFO and above always pass.
    pub(crate) fn spans_and_events(inner: F) -> Self {
        InfoFloor {
            inner,
            events_too: true,
            inner_sees_spans: AtomicBool::new(false),
        }
    }

    fn floor(&self, meta: &Metadata<'_>) -> bool {
        (meta.is_span() || self.events_too) && *meta.level() <= Level::INFO
    }

    /// Whether `inner` may follow spans (see the type's documentation).
    fn follows_spans(&self) -> bool {
        self.inner_sees_spans.load(Ordering::Acquire)
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
            if meta.is_span() {
                // Before `inner` sees it: from now on it may follow spans.
                self.inner_sees_spans.store(true, Ordering::Release);
            }
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
        if self.follows_spans() {
            self.inner.on_new_span(attrs, id, ctx);
        }
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        if self.follows_spans() {
            self.inner.on_record(id, values, ctx);
        }
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        if self.follows_spans() {
            self.inner.on_enter(id, ctx);
        }
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        if self.follows_spans() {
            self.inner.on_exit(id, ctx);
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        if self.follows_spans() {
            self.inner.on_close(id, ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::{Subscriber, debug, debug_span, info_span};
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::{EnvFilter, Layer, Registry};

    use super::InfoFloor;

    /// The messages of the events that got through.
    struct Capture(Arc<Mutex<Vec<String>>>);

    struct Message(String);

    impl Visit for Message {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                self.0 = format!("{value:?}");
            }
        }
    }

    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            let mut message = Message(String::new());
            event.record(&mut message);
            self.0.lock().unwrap().push(message.0);
        }
    }

    #[test]
    fn span_scoped_directives_still_follow_verbose_spans() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let floor = InfoFloor::spans(EnvFilter::new("info,[scoped]=debug"));
        let subscriber = Registry::default().with(Capture(seen.clone()).with_filter(floor));
        tracing::subscriber::with_default(subscriber, || {
            debug!("outside");
            info_span!("plain").in_scope(|| debug!("in an info span"));
            debug_span!("scoped").in_scope(|| debug!("in the scoped span"));
            debug!("after");
        });
        assert_eq!(*seen.lock().unwrap(), vec!["in the scoped span".to_owned()]);
    }
}
