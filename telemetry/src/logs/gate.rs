//! Which events the log output writes, which it holds for its trace, and
//! which it drops.
//!
//! The output's own filter (`RUST_LOG` with the INFO floor for spans)
//! decides what is written. An event it rejects is still let through when
//! a flow's run-time `verbosity` covers it (then it is written) or when the
//! buffer directive (`OBSERVE_LOG_BUFFER`) allows it inside a span (then it
//! is held in the trace's buffer). The decision is made in `event_enabled`,
//! which sees the event's span, and handed to the layer's `on_event`
//! through a per-thread slot (the two run back to back on one thread).

use std::cell::Cell;

use tracing::metadata::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber, span};
use tracing_log::NormalizeEvent;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

/// Where an event goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Written now.
    Write,
    /// Held in the trace's buffer, written only if the trace fails.
    Buffer,
}

/// What `enabled` found, for `event_enabled` to finish deciding.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending {
    None,
    /// The output filter passes it.
    Write,
    /// Only verbosity or the buffer could want it.
    Maybe {
        buffer: bool,
    },
}

thread_local! {
    /// The metadata address `enabled` last decided on, and its answer.
    static PENDING: Cell<(usize, Pending)> = const { Cell::new((0, Pending::None)) };
    /// The route of the event about to reach `on_event`.
    static ROUTE: Cell<Route> = const { Cell::new(Route::Write) };
}

/// The route `event_enabled` chose for the event now being handled.
pub(crate) fn take_route() -> Route {
    ROUTE.with(|route| route.replace(Route::Write))
}

fn address(meta: &Metadata<'_>) -> usize {
    meta as *const Metadata<'_> as *const () as usize
}

/// The log output's filter: `output` decides what is written, `buffer`
/// (when buffering is on) what is held.
pub(crate) struct LogGate<F> {
    output: F,
    buffer: Option<EnvFilter>,
}

impl<F> LogGate<F> {
    pub(crate) fn new(output: F, buffer: Option<EnvFilter>) -> Self {
        LogGate { output, buffer }
    }
}

impl<F: crate::filter::FollowsSpans> crate::filter::FollowsSpans for LogGate<F> {
    /// `buffer` follows no span (see the span callbacks below).
    fn follows_spans(&self) -> bool {
        self.output.follows_spans()
    }
}

/// Whether an enclosing span of the event is a function whose verbosity
/// override covers `level`.
fn verbose_here<S>(level: &tracing::Level, event: &Event<'_>, cx: &Context<'_, S>) -> bool
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(leaf) = cx.event_span(event) else {
        return false;
    };
    leaf.scope().any(|span| {
        let meta = span.metadata();
        observe_runtime::knobs::verbosity_of_span(meta.target(), meta.name())
            .is_some_and(|verbosity| *level <= verbosity)
    })
}

impl<S, F> Filter<S> for LogGate<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    F: Filter<S>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        if self.output.enabled(meta, cx) {
            if meta.is_event() {
                PENDING.with(|p| p.set((address(meta), Pending::Write)));
            }
            return true;
        }
        if !meta.is_event() {
            return false;
        }
        let buffer = self
            .buffer
            .as_ref()
            .is_some_and(|filter| Filter::<S>::enabled(filter, meta, cx));
        let verbose = observe_runtime::knobs::max_verbosity().is_some_and(|v| *meta.level() <= v);
        if !buffer && !verbose {
            return false;
        }
        PENDING.with(|p| p.set((address(meta), Pending::Maybe { buffer })));
        true
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        let output = self.output.callsite_enabled(meta);
        if output.is_always() || !meta.is_event() {
            return output;
        }
        let buffer = self
            .buffer
            .as_ref()
            .is_some_and(|filter| !Filter::<S>::callsite_enabled(filter, meta).is_never());
        let verbose = observe_runtime::knobs::max_verbosity().is_some_and(|v| *meta.level() <= v);
        // `log` records share one callsite per level: always ask.
        if buffer || verbose || meta.target() == "log" {
            Interest::sometimes()
        } else {
            output
        }
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        let meta = event.metadata();
        let (at, pending) = PENDING.with(|p| p.replace((0, Pending::None)));
        let pending = if let Some(normalized) = event.normalized_metadata() {
            // A `log` record: `enabled` saw its own metadata; decide on it.
            if self.output.enabled(&normalized, cx) {
                Pending::Write
            } else {
                Pending::Maybe {
                    buffer: self
                        .buffer
                        .as_ref()
                        .is_some_and(|filter| Filter::<S>::enabled(filter, &normalized, cx)),
                }
            }
        } else if at == address(meta) {
            pending
        } else {
            // `enabled` was skipped: the callsite is always enabled.
            Pending::Write
        };
        let route = match pending {
            Pending::None | Pending::Write => {
                if !self.output.event_enabled(event, cx) {
                    return false;
                }
                Route::Write
            }
            Pending::Maybe { buffer } => {
                if verbose_here(meta.level(), event, cx) {
                    Route::Write
                } else if buffer && cx.event_span(event).is_some() {
                    Route::Buffer
                } else {
                    return false;
                }
            }
        };
        ROUTE.with(|r| r.set(route));
        true
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // `None` is "no hint" (anything may pass): only a filter that is
        // there can say that; an absent buffer or knob adds nothing.
        let output = self.output.max_level_hint();
        let buffer = match &self.buffer {
            Some(filter) => Filter::<S>::max_level_hint(filter),
            None => Some(LevelFilter::OFF),
        };
        let verbose = Some(
            observe_runtime::knobs::max_verbosity()
                .map_or(LevelFilter::OFF, LevelFilter::from_level),
        );
        [output, buffer, verbose]
            .into_iter()
            .try_fold(LevelFilter::OFF, |max, hint| hint.map(|h| max.max(h)))
    }

    // The span callbacks go to the output's filter only: `buffer` is never
    // shown a span's call site (`callsite_enabled` answers for spans from
    // the output alone), so it follows no span, and passing them on would
    // only look each span up in it and find nothing.

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        self.output.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.output.on_record(id, values, ctx);
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.output.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.output.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.output.on_close(id, ctx);
    }
}
