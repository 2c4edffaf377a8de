//! Which spans and events each output sees.
//!
//! `RUST_LOG` decides which *events* become log lines. Spans at INFO and
//! above are always kept, whatever `RUST_LOG` says, so that a WARN line
//! inside a request still carries the request's `request_id` and
//! `trace_id`, and traces reach the exporter and the flight recorder even
//! when the logs are quieter (`RUST_LOG=warn`). More verbose spans follow
//! `RUST_LOG`.

use std::any::TypeId;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::metadata::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber, span};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

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

/// A filter that can say whether it follows spans through their lives
/// (see [`InfoFloor`]); when it does not, its span callbacks do nothing.
pub(crate) trait FollowsSpans {
    fn follows_spans(&self) -> bool;
}

impl<F> FollowsSpans for InfoFloor<F> {
    fn follows_spans(&self) -> bool {
        InfoFloor::follows_spans(self)
    }
}

/// An output of `observe::init`: a layer under its own filter, as
/// `layer.with_filter(filter)`, except for a span's enters, exits and
/// close. `Filtered` looks the span up in the registry on each of them to
/// ask whether its filter enabled the span (six look-ups per span for two
/// outputs); unless the filter follows spans, they go straight to the
/// layer, which tells its own spans by their extensions and leaves the
/// others alone.
pub(crate) struct Output<L, F, S> {
    filtered: Filtered<L, F, S>,
}

impl<L, F, S> Output<L, F, S>
where
    L: Layer<S>,
    F: Filter<S>,
    S: Subscriber,
{
    pub(crate) fn new(layer: L, filter: F) -> Self {
        Output {
            filtered: layer.with_filter(filter),
        }
    }
}

impl<L, F, S> Layer<S> for Output<L, F, S>
where
    L: Layer<S>,
    F: Filter<S> + FollowsSpans + 'static,
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        self.filtered.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.filtered.on_layer(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.filtered.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.filtered.enabled(metadata, ctx)
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        self.filtered.on_new_span(attrs, id, ctx);
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.filtered.max_level_hint()
    }

    fn on_record(&self, span: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.filtered.on_record(span, values, ctx);
    }

    fn on_follows_from(&self, span: &span::Id, follows: &span::Id, ctx: Context<'_, S>) {
        self.filtered.on_follows_from(span, follows, ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.filtered.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.filtered.on_event(event, ctx);
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        if self.filtered.filter().follows_spans() {
            self.filtered.on_enter(id, ctx);
        } else {
            self.filtered.inner().on_enter(id, ctx);
        }
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        if self.filtered.filter().follows_spans() {
            self.filtered.on_exit(id, ctx);
        } else {
            self.filtered.inner().on_exit(id, ctx);
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        if self.filtered.filter().follows_spans() {
            self.filtered.on_close(id, ctx);
        } else {
            self.filtered.inner().on_close(id, ctx);
        }
    }

    fn on_id_change(&self, old: &span::Id, new: &span::Id, ctx: Context<'_, S>) {
        self.filtered.on_id_change(old, new, ctx);
    }

    // SAFETY: answered by the `Filtered` inside, which is how the registry
    // finds the per-layer filter, and the layer (the bridge's `Access`).
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        unsafe { self.filtered.downcast_raw(id) }
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

    /// A span this layer was shown (its extension says so).
    struct Mine;

    /// What a layer that tells its spans by an extension sees: the events
    /// that got through, and the enters, exits and closes of its spans.
    struct Lifecycle(Arc<Mutex<Vec<String>>>);

    impl Lifecycle {
        fn note<S>(&self, what: &str, id: &tracing::span::Id, ctx: &Context<'_, S>)
        where
            S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
        {
            if let Some(span) = ctx.span(id)
                && span.extensions().get::<Mine>().is_some()
            {
                let line = format!("{what} {}", span.name());
                self.0.lock().unwrap().push(line);
            }
        }
    }

    impl<S> Layer<S> for Lifecycle
    where
        S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        fn on_new_span(
            &self,
            _: &tracing::span::Attributes<'_>,
            id: &tracing::span::Id,
            ctx: Context<'_, S>,
        ) {
            ctx.span(id).unwrap().extensions_mut().insert(Mine);
            self.note("new", id, &ctx);
        }
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            let mut message = Message(String::new());
            event.record(&mut message);
            self.0.lock().unwrap().push(message.0);
        }
        fn on_enter(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
            self.note("enter", id, &ctx);
        }
        fn on_exit(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
            self.note("exit", id, &ctx);
        }
        fn on_close(&self, id: tracing::span::Id, ctx: Context<'_, S>) {
            self.note("close", &id, &ctx);
        }
    }

    /// An output that wants every span and does nothing with it.
    struct Nothing;

    impl<S: Subscriber> Layer<S> for Nothing {}

    fn scenario() {
        debug!("outside");
        info_span!("plain").in_scope(|| debug!("in an info span"));
        debug_span!("scoped").in_scope(|| debug!("in the scoped span"));
        debug_span!("quiet").in_scope(|| tracing::info!("info in a debug span"));
        tracing::warn!("after");
    }

    /// `Output` sees what `with_filter` sees, with a second output whose
    /// filter enables other spans beside it (so the registry has spans the
    /// first one's filter did not enable).
    #[test]
    fn outputs_see_what_filtered_layers_see() {
        for directives in [
            "info",
            "warn",
            "debug",
            "info,[scoped]=debug",
            "info,quiet=debug",
        ] {
            let run = |output: bool| {
                let seen = Arc::new(Mutex::new(Vec::new()));
                let floor = InfoFloor::spans(EnvFilter::new(directives));
                let verbose = InfoFloor::spans(EnvFilter::new("trace"));
                let subscriber = Registry::default().with(Nothing.with_filter(verbose));
                if output {
                    let subscriber =
                        subscriber.with(super::Output::new(Lifecycle(seen.clone()), floor));
                    tracing::subscriber::with_default(subscriber, scenario);
                } else {
                    let subscriber = subscriber.with(Lifecycle(seen.clone()).with_filter(floor));
                    tracing::subscriber::with_default(subscriber, scenario);
                }
                seen.lock().unwrap().clone()
            };
            let filtered = run(false);
            assert_eq!(run(true), filtered, "{directives}");
            assert!(
                filtered.contains(&"after".to_owned()),
                "{directives}: {filtered:?}"
            );
        }
    }
}
