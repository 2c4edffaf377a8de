//! The layer that turns `tracing` spans into OpenTelemetry spans, in place
//! of tracing-opentelemetry's: the same spans (names, kinds, links,
//! attributes, events, statuses, timings; see `record` and the equivalence
//! test), for about 60% of its instructions per call (docs/performance.md,
//! "The bridge from tracing to OpenTelemetry").
//!
//! Why it is cheaper: one struct per span in the registry's extensions,
//! written in place (no `Arc<Mutex<_>>` around it, no `SpanBuilder` turned
//! into an SDK span when first entered); the sampler runs once per local
//! root (children inherit its decision, which is what the SDK's samplers
//! give them); the thread attributes are built once per thread and a
//! span's `code.*`, `thread.*` and `target` attributes only if it is
//! exported (`origin`); one clock read per enter and exit, none where an
//! observed call lends its own (`observe_runtime::call_clock`); and at
//! close the `SpanData` is built from the struct by moves and handed
//! straight to the processors.
//!
//! The OpenTelemetry `Context` of an entered span is attached, as
//! tracing-opentelemetry does, so `opentelemetry::Context::current()` and
//! spans started through `opentelemetry::global` follow `tracing`.

use std::any::TypeId;
use std::borrow::Cow;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::{Context, ContextGuard, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracerProvider, ShouldSample, SpanProcessor};
use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Event as TracingEvent, Level, Subscriber};
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::origin::{Origin, push_location};
use super::pipeline::Pipeline;
use super::record::{EventFields, SpanFields, Updates};
use super::span::{OtelSpan, Parent};
use crate::exemplar_ids::{self, Ids};

thread_local! {
    /// The spans entered on this thread, innermost last, with their ids for
    /// exemplars and the contexts attached while they are entered; an exit
    /// removes its span's entry (found from the top: enters and exits
    /// usually nest).
    static ENTERED: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
}

/// The mark of a span the bridge was shown where telemetry is suppressed:
/// it has no `OtelSpan`, but entering it still hides the enclosing span's
/// ids from exemplars, as entering a traced span replaces them.
struct Untraced;

struct Entered {
    id: Id,
    /// Which bridge entered it: span ids are per subscriber.
    pipeline: *const Pipeline,
    ids: Ids,
    /// The span's context, attached while it is entered (`None` for an
    /// `Untraced` span).
    _attached: Option<ContextGuard>,
}

/// The ids of a span this thread has entered through the bridge whose
/// pipeline is `pipeline`, read from the stack of entered spans: no
/// look-up in the registry. A span's context is fixed once it is entered
/// (`set_parent` refuses then), so the entry stays right.
pub(crate) fn entered_ids(id: &Id, pipeline: *const Pipeline) -> Option<Ids> {
    ENTERED
        .with(|stack| {
            let stack = stack.try_borrow().ok()?;
            stack
                .iter()
                .rev()
                .find(|entered| entered.id == *id && std::ptr::eq(entered.pipeline, pipeline))
                .map(|entered| entered.ids)
        })
        .filter(|ids| ids.trace != 0)
}

/// How the context API (`traces::context`) reaches a span's `OtelSpan`
/// through a `Dispatch` whose subscriber type it does not know: functions
/// made for the layer's subscriber, found with `downcast_ref`.
pub(crate) struct Access {
    pub pipeline: Arc<Pipeline>,
    pub read: ReadSpan,
    pub write: WriteSpan,
}

/// Calls the closure with the span's `OtelSpan`, if it has one.
pub(crate) type ReadSpan = fn(&Dispatch, &Id, &mut dyn FnMut(&OtelSpan));
/// The same, mutably.
pub(crate) type WriteSpan = fn(&Dispatch, &Id, &mut dyn FnMut(&mut OtelSpan));

fn read<S>(dispatch: &Dispatch, id: &Id, f: &mut dyn FnMut(&OtelSpan))
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if let Some(span) = dispatch.downcast_ref::<S>().and_then(|s| s.span(id))
        && let Some(data) = span.extensions().get::<OtelSpan>()
    {
        f(data);
    }
}

fn write<S>(dispatch: &Dispatch, id: &Id, f: &mut dyn FnMut(&mut OtelSpan))
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if let Some(span) = dispatch.downcast_ref::<S>().and_then(|s| s.span(id))
        && let Some(data) = span.extensions_mut().get_mut::<OtelSpan>()
    {
        f(data);
    }
}

/// The bridge from `tracing` spans to OpenTelemetry spans that
/// `observe::init` installs, usable in a subscriber of your own: a
/// `tracing_subscriber::Layer` that records each span (name, kind, parent,
/// attributes, events, status, `busy_ns`/`idle_ns`, the `code.*`,
/// `thread.*` and `target` attributes) as tracing-opentelemetry 0.34 does
/// with its defaults, and hands it to the span processors when it closes.
/// One difference: the completion line of an `#[observe]` call that
/// succeeded fast, without `ret` and below ERROR, is not made a span event
/// (the span says all it does; see `observe_runtime::is_routine_completion`).
///
/// Read a span's context with [`context_of`](crate::context_of) and set its
/// parent with [`set_parent`](crate::set_parent).
pub struct SpanBridge<S> {
    access: Access,
    _subscriber: PhantomData<fn(S)>,
}

impl<S> std::fmt::Debug for SpanBridge<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanBridge")
            .field("pipeline", &self.access.pipeline)
            .finish()
    }
}

impl<S> SpanBridge<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    /// The bridge, and the tracer provider that shares its `processors`
    /// (given `resource`) and its `sampler`: keep the provider, for spans
    /// started through the OpenTelemetry API and to flush and shut the
    /// processors down. The sampler decides once per local root (a span
    /// whose parent is not a span of this bridge); its children take the
    /// root's decision. Spans get the instrumentation scope `observe`. The
    /// processors' `on_start` is not called for the bridge's spans (there is
    /// no SDK `Span` to give them), only `on_end`.
    pub fn new<T: ShouldSample + Clone + 'static>(
        sampler: T,
        resource: Resource,
        processors: Vec<Box<dyn SpanProcessor>>,
    ) -> (Self, SdkTracerProvider) {
        let (pipeline, provider) = Pipeline::build(sampler, resource, processors, None);
        (Self::with_pipeline(pipeline), provider)
    }

    pub(crate) fn with_pipeline(pipeline: Arc<Pipeline>) -> Self {
        SpanBridge {
            access: Access {
                pipeline,
                read: read::<S>,
                write: write::<S>,
            },
            _subscriber: PhantomData,
        }
    }

    fn pipeline(&self) -> &Pipeline {
        &self.access.pipeline
    }

    /// The parent's trace, as tracing-opentelemetry finds it: an explicit
    /// parent of this bridge, else for a contextual span the current span
    /// of this bridge or the current OpenTelemetry context; `None` when
    /// that context suppresses telemetry (the exporters' own threads).
    fn parent(&self, attrs: &Attributes<'_>, ctx: &LayerContext<'_, S>) -> Option<Parent> {
        if let Some(parent) = attrs.parent().and_then(|id| ctx.span(id))
            && let Some(parent) = local_parent(&parent)
        {
            return Some(parent);
        }
        if !attrs.is_contextual() {
            return Some(Parent::Remote(Context::new()));
        }
        if let Some(current) = ctx.lookup_current()
            && let Some(parent) = local_parent(&current)
        {
            return Some(parent);
        }
        let cx = Context::current();
        (!cx.is_telemetry_suppressed()).then_some(Parent::Remote(cx))
    }
}

/// A span of this bridge as a parent; it is started by having a child.
fn local_parent<S: for<'a> LookupSpan<'a>>(span: &SpanRef<'_, S>) -> Option<Parent> {
    span.extensions_mut()
        .get_mut::<OtelSpan>()
        .map(OtelSpan::as_parent)
}

impl<S> tracing_subscriber::Layer<S> for SpanBridge<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        // An observed call's span opens when the call started (one clock
        // read less per call, see `observe_runtime::call_clock`).
        let opened =
            observe_runtime::call_clock::opening_of(attrs.metadata()).unwrap_or_else(Instant::now);
        let Some(span) = ctx.span(id) else { return };
        let Some(parent) = self.parent(attrs, &ctx) else {
            // Telemetry is suppressed here: the span is the bridge's, but
            // recorded nowhere (see `Untraced`).
            span.extensions_mut().insert(Untraced);
            return;
        };
        let meta = attrs.metadata();
        let mut updates = Updates {
            // Room for `busy_ns` and `idle_ns` at close.
            attributes: Vec::with_capacity(attrs.fields().len() + 2),
            ..Updates::default()
        };
        attrs.record(&mut SpanFields(&mut updates));

        let origin = Origin::here(meta);
        let data = OtelSpan::open(self.pipeline(), parent, updates, origin, opened);
        span.extensions_mut().insert(data);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        // Recorded before locking: a field's `Debug` may log.
        let mut updates = Updates::default();
        values.record(&mut SpanFields(&mut updates));
        if let Some(data) = span.extensions_mut().get_mut::<OtelSpan>() {
            data.apply(updates, self.pipeline());
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: LayerContext<'_, S>) {
        let Some(follows) = ctx.span(follows) else {
            return;
        };
        let Some(follows) = follows.extensions_mut().get_mut::<OtelSpan>().map(|data| {
            data.started = true;
            data.span_context.clone()
        }) else {
            return;
        };
        let Some(span) = ctx.span(id) else { return };
        if let Some(data) = span.extensions_mut().get_mut::<OtelSpan>() {
            data.add_link(follows, self.pipeline());
        }
    }

    // The span callbacks after creation may be called for a span the
    // bridge's filter did not enable (see `filter::Output`): a span with
    // neither an `OtelSpan` nor the `Untraced` mark is not the bridge's,
    // and is left alone.

    fn on_enter(&self, id: &Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let entered = {
            let mut extensions = span.extensions_mut();
            if let Some(data) = extensions.get_mut::<OtelSpan>() {
                // An observed call's body is entered when the call started.
                Some(data.enter(observe_runtime::call_clock::entering_of(id)))
            } else if extensions.get_mut::<Untraced>().is_some() {
                None
            } else {
                return;
            }
        };
        drop(span);
        let (cx, ids) = entered.map_or((None, Ids::NONE), |(cx, ids)| (Some(cx), ids));
        let entered = Entered {
            id: id.clone(),
            pipeline: self.pipeline(),
            ids,
            _attached: cx.map(Context::attach),
        };
        ENTERED.with(|stack| stack.borrow_mut().push(entered));
        exemplar_ids::set(ids, Ids::NONE);
    }

    fn on_exit(&self, id: &Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        {
            let mut extensions = span.extensions_mut();
            if let Some(data) = extensions.get_mut::<OtelSpan>() {
                // The exit that ends an observed call's body is at the
                // call's end.
                let now = observe_runtime::call_clock::closing_of(id).unwrap_or_else(Instant::now);
                data.exit(now);
            } else if extensions.get_mut::<Untraced>().is_none() {
                return;
            }
        }
        drop(span);
        let (exited, current) = ENTERED.with(|stack| {
            let mut stack = stack.borrow_mut();
            let exited = if stack.last().is_some_and(|top| top.id == *id) {
                stack.pop()
            } else {
                stack
                    .iter()
                    .rposition(|entered| entered.id == *id)
                    .map(|at| stack.remove(at))
            };
            (exited, stack.last().map_or(Ids::NONE, |top| top.ids))
        });
        exemplar_ids::set(current, exited.as_ref().map_or(Ids::NONE, |e| e.ids));
        // Detached outside the borrow: dropping a context may drop a span.
        drop(exited);
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: LayerContext<'_, S>) {
        // The span itself says all a fast success's completion line does.
        if observe_runtime::is_routine_completion(event.metadata()) {
            return;
        }
        let Some(span) = event.parent().and_then(|id| ctx.span(id)).or_else(|| {
            event
                .is_contextual()
                .then(|| ctx.lookup_current())
                .flatten()
        }) else {
            return;
        };
        let meta = event.metadata();
        let mut name = Cow::Borrowed("");
        let mut attributes = Vec::with_capacity(meta.fields().len() + 5);
        attributes.push(KeyValue::new("level", meta.level().as_str()));
        attributes.push(KeyValue::new("target", meta.target()));
        let mut updates = None;
        // Recorded before locking: a field's `Debug` may log.
        event.record(&mut EventFields {
            name: &mut name,
            attributes: &mut attributes,
            span: &mut updates,
        });
        if name.is_empty() {
            name = Cow::Borrowed(meta.name());
        }
        push_location(meta, &mut attributes);
        if let Some(data) = span.extensions_mut().get_mut::<OtelSpan>() {
            let error = *meta.level() == Level::ERROR;
            data.add_event(name, attributes, error, updates, self.pipeline());
        }
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(data) = span.extensions_mut().remove::<OtelSpan>() else {
            return;
        };
        drop(span);
        let pipeline = self.pipeline();
        if data.dropped_unbuilt(pipeline) {
            return;
        }
        if let Some(finished) = data.finish(pipeline) {
            pipeline.end(finished);
        }
    }

    // SAFETY: each pointer returned points at a field of `self` of exactly
    // the type asked for, and lives as long as `self`.
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else if id == TypeId::of::<Access>() {
            Some(&self.access as *const Access as *const ())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::Context;
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::Sampler;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::{Layer, Registry};

    use super::SpanBridge;
    use crate::exemplar_ids::{self, Ids};
    use crate::filter::{InfoFloor, Output};

    /// Entering a span where telemetry is suppressed hides the enclosing
    /// span's ids from exemplars; entering a span the bridge's filter did
    /// not enable changes nothing.
    #[test]
    fn exemplar_ids_follow_the_bridges_own_spans() {
        let (bridge, _provider) = SpanBridge::new(
            Sampler::AlwaysOn,
            Resource::builder_empty().build(),
            Vec::new(),
        );
        let traces = Output::new(
            bridge,
            InfoFloor::spans(tracing_subscriber::EnvFilter::new("info")),
        );
        // Another output that wants the debug spans the bridge does not.
        let everything = tracing_subscriber::layer::Identity::new()
            .with_filter(tracing_subscriber::filter::LevelFilter::TRACE);
        let subscriber = Registry::default().with(traces).with(everything);
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!("outer");
            let _outer = outer.enter();
            let traced = exemplar_ids::current();
            assert!(traced.is_some());

            let foreign = tracing::debug_span!("foreign");
            assert!(!foreign.is_disabled());
            foreign.in_scope(|| assert_eq!(exemplar_ids::current(), traced));
            assert_eq!(exemplar_ids::current(), traced);
        });
        let (bridge, _provider) = SpanBridge::new(
            Sampler::AlwaysOn,
            Resource::builder_empty().build(),
            Vec::new(),
        );
        tracing::subscriber::with_default(Registry::default().with(bridge), || {
            // As on an exporter's thread: a span just exited, then a root
            // where telemetry is suppressed.
            tracing::info_span!("earlier").in_scope(|| {});
            assert!(exemplar_ids::just_exited_or_current().is_some());
            let _suppressed = Context::enter_telemetry_suppressed_scope();
            let quiet = tracing::info_span!("quiet");
            quiet.in_scope(|| assert_eq!(exemplar_ids::just_exited_or_current(), Ids::NONE));
        });
    }
}
