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
//! give them); the thread attributes are built once per thread; one clock
//! read per enter and exit; and at close the `SpanData` is built from the
//! struct by moves and handed straight to the processors.
//!
//! The OpenTelemetry `Context` of an entered span is attached, as
//! tracing-opentelemetry does, so `opentelemetry::Context::current()` and
//! spans started through `opentelemetry::global` follow `tracing`.

use std::any::TypeId;
use std::borrow::Cow;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags,
};
use opentelemetry::{Context, ContextGuard, Key, KeyValue, StringValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    IdGenerator, SamplingDecision, SdkTracerProvider, ShouldSample, SpanData, SpanEvents,
    SpanLinks, SpanProcessor,
};
use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Event as TracingEvent, Level, Subscriber};
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::pipeline::Pipeline;
use super::record::{EventFields, SpanFields, Updates};
use crate::exemplar_ids::{self, Ids};

/// Attributes every span gets besides its fields: `code.file.path`,
/// `code.module.name`, `code.line.number`, `thread.id`, `thread.name`,
/// `target`, and at close `busy_ns` and `idle_ns`.
const EXTRA_ATTRIBUTES: usize = 8;

/// One span's OpenTelemetry side, in its registry extensions.
pub(crate) struct OtelSpan {
    /// The span's own context (its parent's entries and its span context):
    /// what is attached while it is entered and what propagation injects.
    pub cx: Context,
    pub span_context: SpanContext,
    parent_span_id: SpanId,
    parent_is_remote: bool,
    /// False when the sampler said `Drop`: then no processor sees it.
    recording: bool,
    /// Entered, its context read or a child made: what tracing-opentelemetry
    /// calls started. From then on the parent is fixed, `otel.name` and
    /// `otel.kind` are ignored, and a status only replaces a lower one.
    pub started: bool,
    name: Cow<'static, str>,
    kind: SpanKind,
    status: Status,
    attributes: Vec<KeyValue>,
    dropped_attributes: u32,
    events: SpanEvents,
    links: SpanLinks,
    start: SystemTime,
    opened: Instant,
    /// The last enter that changed `entered` from 0.
    last: Instant,
    /// Entered time so far; the idle time is derived at close (see `finish`).
    busy_ns: i64,
    entered: u32,
    /// The end time is the last exit (else the close).
    exited: Option<Instant>,
}

/// Where a new span's trace comes from.
enum Parent {
    /// A span of this bridge: its trace, sampling decision and context.
    Local {
        cx: Context,
        span_context: SpanContext,
        recording: bool,
    },
    /// A context from elsewhere (a `traceparent`, an attached context) or
    /// none: the span is a local root and the sampler decides.
    Remote(Context),
}

/// A span's ids, flags and context, and the sampler's attributes.
struct Lineage {
    cx: Context,
    span_context: SpanContext,
    parent_span_id: SpanId,
    parent_is_remote: bool,
    recording: bool,
    attributes: Vec<KeyValue>,
}

fn lineage(
    pipeline: &Pipeline,
    parent: Parent,
    span_id: SpanId,
    name: &str,
    kind: &SpanKind,
    attributes: &[KeyValue],
) -> Lineage {
    match parent {
        Parent::Local {
            cx,
            span_context: parent,
            recording,
        } => {
            let span_context = SpanContext::new(
                parent.trace_id(),
                span_id,
                parent.trace_flags(),
                false,
                parent.trace_state().clone(),
            );
            Lineage {
                cx: cx.with_remote_span_context(span_context.clone()),
                span_context,
                parent_span_id: parent.span_id(),
                parent_is_remote: false,
                recording,
                attributes: Vec::new(),
            }
        }
        Parent::Remote(cx) => {
            // What the SDK's tracer does when it starts a span.
            let parent_span = cx.span();
            let parent = Some(parent_span.span_context()).filter(|sc| sc.is_valid());
            let trace_id = parent.map_or_else(|| pipeline.ids.new_trace_id(), |p| p.trace_id());
            let result =
                pipeline
                    .sampler
                    .should_sample(Some(&cx), trace_id, name, kind, attributes, &[]);
            let parent_flags = parent.map_or(TraceFlags::default(), |p| p.trace_flags());
            let flags = match result.decision {
                SamplingDecision::RecordAndSample => parent_flags.with_sampled(true),
                SamplingDecision::RecordOnly => parent_flags.with_sampled(false),
                SamplingDecision::Drop => TraceFlags::default(),
            };
            let span_context =
                SpanContext::new(trace_id, span_id, flags, false, result.trace_state);
            let (parent_span_id, parent_is_remote) =
                parent.map_or((SpanId::INVALID, false), |p| (p.span_id(), p.is_remote()));
            Lineage {
                cx: cx.with_remote_span_context(span_context.clone()),
                span_context,
                parent_span_id,
                parent_is_remote,
                recording: result.decision != SamplingDecision::Drop,
                attributes: result.attributes,
            }
        }
    }
}

impl OtelSpan {
    fn add_attribute(&mut self, attribute: KeyValue, limit: u32) {
        if self.attributes.len() < limit as usize {
            self.attributes.push(attribute);
        } else {
            self.dropped_attributes += 1;
        }
    }

    /// A status from a field or an event: before the span is started it
    /// replaces the status, after it only replaces a lower one (the SDK's
    /// order: unset, error, ok).
    fn set_status(&mut self, status: Status) {
        if !self.started || status > self.status {
            self.status = status;
        }
    }

    fn apply(&mut self, updates: Updates, pipeline: &Pipeline) {
        if !self.started {
            if let Some(name) = updates.name {
                self.name = name;
            }
            if let Some(kind) = updates.kind {
                self.kind = kind;
            }
        }
        if let Some(status) = updates.status {
            self.set_status(status);
        }
        for attribute in updates.attributes {
            self.add_attribute(attribute, pipeline.limits.max_attributes_per_span);
        }
    }

    /// The wall-clock time of an instant of this span.
    fn time_at(&self, instant: Instant) -> SystemTime {
        self.start + instant.saturating_duration_since(self.opened)
    }

    fn ids(&self) -> Ids {
        Ids {
            trace: u128::from_be_bytes(self.span_context.trace_id().to_bytes()),
            span: u64::from_be_bytes(self.span_context.span_id().to_bytes()),
            sampled: self.span_context.is_sampled(),
        }
    }

    /// Sets the parent from a context, as `OpenTelemetrySpanExt::set_parent`
    /// does: only before the span is started.
    pub fn set_parent(&mut self, parent: Context, pipeline: &Pipeline) -> bool {
        if self.started {
            return false;
        }
        let suppressed = parent.is_telemetry_suppressed();
        let lineage = lineage(
            pipeline,
            Parent::Remote(parent),
            self.span_context.span_id(),
            &self.name,
            &self.kind,
            &self.attributes,
        );
        self.cx = lineage.cx;
        self.span_context = lineage.span_context;
        self.parent_span_id = lineage.parent_span_id;
        self.parent_is_remote = lineage.parent_is_remote;
        // The new parent's trace decides afresh, as starting the span would.
        self.recording = lineage.recording && !suppressed;
        for attribute in lineage.attributes {
            self.add_attribute(attribute, pipeline.limits.max_attributes_per_span);
        }
        true
    }

    /// The span as the SDK hands it to processors when it ends.
    fn finish(mut self, pipeline: &Pipeline) -> SpanData {
        let limit = pipeline.limits.max_attributes_per_span;
        // tracing-opentelemetry adds the gap before each enter to the idle
        // time, so busy + idle is the time from opening to the last exit
        // (nothing once never entered): one clock difference per exit and
        // one here instead of one per enter and exit.
        let (end_time, idle_ns) = match self.exited {
            Some(exited) => {
                let lived = exited.saturating_duration_since(self.opened);
                let idle = (lived.as_nanos() as i64)
                    .saturating_sub(self.busy_ns)
                    .max(0);
                (self.start + lived, idle)
            }
            None => (self.time_at(Instant::now()), 0),
        };
        let busy = KeyValue::new(Key::from_static_str("busy_ns"), self.busy_ns);
        let idle = KeyValue::new(Key::from_static_str("idle_ns"), idle_ns);
        self.add_attribute(busy, limit);
        self.add_attribute(idle, limit);
        SpanData {
            span_context: self.span_context,
            parent_span_id: self.parent_span_id,
            parent_span_is_remote: self.parent_span_id != SpanId::INVALID && self.parent_is_remote,
            span_kind: self.kind,
            name: self.name,
            start_time: self.start,
            end_time,
            attributes: self.attributes,
            dropped_attributes_count: self.dropped_attributes,
            events: self.events,
            links: self.links,
            status: self.status,
            instrumentation_scope: pipeline.scope.clone(),
        }
    }
}

/// The attributes of the thread a span opens on, built once per thread
/// (tracing-opentelemetry formats the id and copies the name per span).
struct ThreadAttributes {
    id: KeyValue,
    name: Option<KeyValue>,
}

impl ThreadAttributes {
    fn current() -> Self {
        let thread = std::thread::current();
        // `ThreadId` has no stable integer accessor; its `Debug` is `ThreadId(n)`.
        let id = format!("{:?}", thread.id())
            .trim_start_matches("ThreadId(")
            .trim_end_matches(')')
            .parse::<u64>()
            .unwrap_or_default();
        ThreadAttributes {
            id: KeyValue::new(Key::from_static_str("thread.id"), id as i64),
            name: thread.name().map(|name| {
                KeyValue::new(
                    Key::from_static_str("thread.name"),
                    Value::String(StringValue::from(Arc::<str>::from(name))),
                )
            }),
        }
    }
}

thread_local! {
    static THREAD: ThreadAttributes = ThreadAttributes::current();
    /// The spans entered on this thread, innermost last, with their ids for
    /// exemplars and the contexts attached while they are entered; an exit
    /// removes its span's entry (found from the top: enters and exits
    /// usually nest).
    static ENTERED: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
}

struct Entered {
    id: Id,
    ids: Ids,
    /// `None` for a span this bridge does not record.
    _attached: Option<ContextGuard>,
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
    /// root's decision. Spans get the instrumentation scope `observe`.
    pub fn new<T: ShouldSample + Clone + 'static>(
        sampler: T,
        resource: Resource,
        processors: Vec<Box<dyn SpanProcessor>>,
    ) -> (Self, SdkTracerProvider) {
        let (pipeline, provider) = Pipeline::build(sampler, resource, processors);
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
    let mut extensions = span.extensions_mut();
    let data = extensions.get_mut::<OtelSpan>()?;
    data.started = true;
    Some(Parent::Local {
        cx: data.cx.clone(),
        span_context: data.span_context.clone(),
        recording: data.recording,
    })
}

impl<S> tracing_subscriber::Layer<S> for SpanBridge<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let Some(parent) = self.parent(attrs, &ctx) else {
            return;
        };
        let start = SystemTime::now();
        let opened = Instant::now();
        let meta = attrs.metadata();
        let mut updates = Updates {
            attributes: Vec::with_capacity(attrs.fields().len() + EXTRA_ATTRIBUTES),
            ..Updates::default()
        };
        let attributes = &mut updates.attributes;
        if let Some(file) = meta.file() {
            attributes.push(KeyValue::new("code.file.path", file));
        }
        if let Some(module) = meta.module_path() {
            attributes.push(KeyValue::new("code.module.name", module));
        }
        if let Some(line) = meta.line() {
            attributes.push(KeyValue::new("code.line.number", i64::from(line)));
        }
        THREAD.with(|thread| {
            attributes.push(thread.id.clone());
            attributes.extend(thread.name.clone());
        });
        attributes.push(KeyValue::new("target", meta.target()));
        attrs.record(&mut SpanFields(&mut updates));

        let pipeline = self.pipeline();
        let name = updates.name.unwrap_or(Cow::Borrowed(meta.name()));
        let kind = updates.kind.unwrap_or(SpanKind::Internal);
        let mut attributes = updates.attributes;
        let lineage = lineage(
            pipeline,
            parent,
            pipeline.ids.new_span_id(),
            &name,
            &kind,
            &attributes,
        );
        attributes.extend(lineage.attributes);
        let limit = pipeline.limits.max_attributes_per_span as usize;
        let dropped_attributes = attributes.len().saturating_sub(limit) as u32;
        attributes.truncate(limit);
        span.extensions_mut().insert(OtelSpan {
            cx: lineage.cx,
            span_context: lineage.span_context,
            parent_span_id: lineage.parent_span_id,
            parent_is_remote: lineage.parent_is_remote,
            recording: lineage.recording,
            started: false,
            name,
            kind,
            status: updates.status.unwrap_or_default(),
            attributes,
            dropped_attributes,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            start,
            opened,
            last: opened,
            busy_ns: 0,
            entered: 0,
            exited: None,
        });
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
        let limits = &self.pipeline().limits;
        if let Some(data) = span.extensions_mut().get_mut::<OtelSpan>() {
            if data.links.links.len() < limits.max_links_per_span as usize {
                data.links.links.push(Link::with_context(follows));
            } else {
                data.links.dropped_count += 1;
            }
        }
    }

    fn on_enter(&self, id: &Id, ctx: LayerContext<'_, S>) {
        let mut ids = Ids::NONE;
        let mut cx = None;
        if let Some(span) = ctx.span(id)
            && let Some(data) = span.extensions_mut().get_mut::<OtelSpan>()
        {
            if data.entered == 0 {
                data.last = Instant::now();
            }
            data.entered += 1;
            data.started = true;
            ids = data.ids();
            cx = Some(data.cx.clone());
        }
        let entered = Entered {
            id: id.clone(),
            ids,
            _attached: cx.map(Context::attach),
        };
        ENTERED.with(|stack| stack.borrow_mut().push(entered));
        exemplar_ids::set(ids, Ids::NONE);
    }

    fn on_exit(&self, id: &Id, ctx: LayerContext<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(data) = span.extensions_mut().get_mut::<OtelSpan>()
        {
            let now = Instant::now();
            data.exited = Some(now);
            data.entered = data.entered.saturating_sub(1);
            if data.entered == 0 {
                data.busy_ns += now.saturating_duration_since(data.last).as_nanos() as i64;
            }
        }
        let (exited, current) = ENTERED.with(|stack| {
            let mut stack = stack.borrow_mut();
            let exited = stack
                .iter()
                .rposition(|entered| entered.id == *id)
                .map(|at| stack.remove(at));
            (exited, stack.last().map_or(Ids::NONE, |top| top.ids))
        });
        exemplar_ids::set(current, exited.as_ref().map_or(Ids::NONE, |e| e.ids));
        // Detached outside the borrow: dropping a context may drop a span.
        drop(exited);
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: LayerContext<'_, S>) {
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
        if let Some(file) = meta.file() {
            attributes.push(KeyValue::new("code.file.path", file));
        }
        if let Some(module) = meta.module_path() {
            attributes.push(KeyValue::new("code.module.name", module));
        }
        if let Some(line) = meta.line() {
            attributes.push(KeyValue::new("code.line.number", i64::from(line)));
        }
        let pipeline = self.pipeline();
        let mut extensions = span.extensions_mut();
        let Some(data) = extensions.get_mut::<OtelSpan>() else {
            return;
        };
        if *meta.level() == Level::ERROR && data.status == Status::Unset {
            data.status = Status::error("");
        }
        if let Some(updates) = updates {
            data.apply(updates, pipeline);
        }
        let limits = &pipeline.limits;
        if data.events.events.len() < limits.max_events_per_span as usize {
            let limit = limits.max_attributes_per_event as usize;
            let dropped = attributes.len().saturating_sub(limit) as u32;
            attributes.truncate(limit);
            let timestamp = data.time_at(Instant::now());
            data.events
                .events
                .push(Event::new(name, timestamp, attributes, dropped));
        } else {
            data.events.dropped_count += 1;
        }
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(data) = span.extensions_mut().remove::<OtelSpan>() else {
            return;
        };
        drop(span);
        if data.recording {
            let pipeline = self.pipeline();
            pipeline.end(data.finish(pipeline));
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
