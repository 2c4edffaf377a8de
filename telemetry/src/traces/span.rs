//! One span's OpenTelemetry side, as the bridge keeps it in the span's
//! registry extensions: its trace (from a local parent, or a local root's
//! sampling decision, as the SDK's tracer makes it), what its fields and
//! events change (in tracing-opentelemetry's order of precedence), its
//! timings, and the `SpanData` it becomes at close.

use std::borrow::Cow;
use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags,
};
use opentelemetry::{Context, Key, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, SamplingDecision, SpanData, SpanEvents, SpanLinks};

use super::origin::Origin;
use super::pipeline::Pipeline;
use super::record::Updates;
use crate::exemplar_ids::Ids;

/// How long a thread's pairing of the two clocks is used (see
/// [`wall_time_at`]).
const CLOCK_PAIRING: Duration = Duration::from_millis(50);

thread_local! {
    /// A monotonic instant and the system clock's time at it, read together.
    static CLOCKS: Cell<Option<(Instant, SystemTime)>> = const { Cell::new(None) };
}

/// The wall-clock time at `now`, from this thread's pairing of the
/// monotonic clock with the system clock, read again once it is
/// [`CLOCK_PAIRING`] old: a span reads one clock when it opens, not two (a
/// clock read costs about 28 ns on the CI machine, a tenth of a sampled-out
/// call's time went to them). Between pairings, times follow the monotonic
/// clock, as a span's end time always did; a step of the system clock
/// shows in new spans within 50 ms.
fn wall_time_at(now: Instant) -> SystemTime {
    CLOCKS.with(|clocks| {
        let from_pairing = clocks.get().and_then(|(paired, wall)| {
            let since = now.checked_duration_since(paired)?;
            (since < CLOCK_PAIRING).then_some(wall + since)
        });
        from_pairing.unwrap_or_else(|| {
            let wall = SystemTime::now();
            clocks.set(Some((now, wall)));
            wall
        })
    })
}

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
    /// Its fields' attributes; the origin's come first once exported.
    attributes: Vec<KeyValue>,
    /// Where it opened, made into attributes only if it is exported (see
    /// `origin`); until then they keep their room under the limit.
    origin: Origin,
    origin_room: usize,
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
pub(crate) enum Parent {
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
    /// A span opened now under `parent`, with its name, kind, status and
    /// attributes from its metadata and fields.
    #[inline]
    pub fn open(
        pipeline: &Pipeline,
        parent: Parent,
        updates: Updates,
        origin: Origin,
        opened: Instant,
    ) -> Self {
        let start = wall_time_at(opened);
        let name = updates.name.unwrap_or(Cow::Borrowed(origin.name()));
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
        let origin_room = origin.len();
        let room = (pipeline.limits.max_attributes_per_span as usize).saturating_sub(origin_room);
        let dropped_attributes = attributes.len().saturating_sub(room) as u32;
        attributes.truncate(room);
        OtelSpan {
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
            origin,
            origin_room,
            dropped_attributes,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            start,
            opened,
            last: opened,
            busy_ns: 0,
            entered: 0,
            exited: None,
        }
    }

    /// This span as the parent of a new one; that starts it.
    #[inline]
    pub fn as_parent(&mut self) -> Parent {
        self.started = true;
        Parent::Local {
            cx: self.cx.clone(),
            span_context: self.span_context.clone(),
            recording: self.recording,
        }
    }

    /// Entered (again, maybe), at `at` when an observed call lends its
    /// start: its context to attach and its ids.
    #[inline]
    pub fn enter(&mut self, at: Option<Instant>) -> (Context, Ids) {
        if self.entered == 0 {
            self.last = at.unwrap_or_else(Instant::now);
        }
        self.entered += 1;
        self.started = true;
        (self.cx.clone(), self.ids())
    }

    /// Exited at `now`: the busy time grows when the last enter is left,
    /// and the last exit is the end time.
    #[inline]
    pub fn exit(&mut self, now: Instant) {
        self.exited = Some(now);
        self.entered = self.entered.saturating_sub(1);
        if self.entered == 0 {
            self.busy_ns += now.saturating_duration_since(self.last).as_nanos() as i64;
        }
    }

    /// An event inside the span: an ERROR one makes an unset status an
    /// error; past the SDK's limit it is counted as dropped.
    #[inline]
    pub fn add_event(
        &mut self,
        name: Cow<'static, str>,
        mut attributes: Vec<KeyValue>,
        error: bool,
        updates: Option<Updates>,
        pipeline: &Pipeline,
    ) {
        if error && self.status == Status::Unset {
            self.status = Status::error("");
        }
        if let Some(updates) = updates {
            self.apply(updates, pipeline);
        }
        let limits = &pipeline.limits;
        if self.events.events.len() < limits.max_events_per_span as usize {
            let limit = limits.max_attributes_per_event as usize;
            let dropped = attributes.len().saturating_sub(limit) as u32;
            attributes.truncate(limit);
            let timestamp = self.time_at(Instant::now());
            self.events
                .events
                .push(Event::new(name, timestamp, attributes, dropped));
        } else {
            self.events.dropped_count += 1;
        }
    }

    /// A `follows_from` link to the span context `to` (the bridge marks the
    /// span linked to as started, as tracing-opentelemetry starts it).
    #[inline]
    pub fn add_link(&mut self, to: SpanContext, pipeline: &Pipeline) {
        if self.links.links.len() < pipeline.limits.max_links_per_span as usize {
            self.links.links.push(Link::with_context(to));
        } else {
            self.links.dropped_count += 1;
        }
    }

    #[inline]
    fn add_attribute(&mut self, attribute: KeyValue, limit: u32) {
        if self.attributes.len() + self.origin_room < limit as usize {
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

    /// What recording fields (on `record`, or an event's) changes.
    pub fn apply(&mut self, updates: Updates, pipeline: &Pipeline) {
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
    #[inline]
    fn time_at(&self, instant: Instant) -> SystemTime {
        self.start + instant.saturating_duration_since(self.opened)
    }

    /// The ids an exemplar carries.
    #[inline]
    pub fn ids(&self) -> Ids {
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

    /// Whether the flight recorder, the pipeline's only processor, dropped
    /// this span's trace as it ended (a recorded local root that neither
    /// failed nor was slow, in a trace sampling does not keep): then the
    /// `SpanData` it would only drop is never built. Most traces end so
    /// when nothing exports them.
    pub fn dropped_unbuilt(&self, pipeline: &Pipeline) -> bool {
        let Some(recorder) = pipeline.recorder_alone() else {
            return false;
        };
        self.recording
            && self.parent_span_id == SpanId::INVALID
            && recorder.drop_ordinary_root(
                self.span_context.trace_id(),
                &self.status,
                &self.attributes,
                &self.events.events,
            )
    }

    /// The span as the SDK hands it to processors when it ends; `None` when
    /// the sampler dropped it.
    #[inline]
    pub fn finish(mut self, pipeline: &Pipeline) -> Option<SpanData> {
        if !self.recording {
            return None;
        }
        let limit = pipeline.limits.max_attributes_per_span as usize;
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
        // The origin's attributes first, as tracing-opentelemetry orders
        // them; the fields were kept within the room left for them.
        let mut attributes = Vec::with_capacity(self.origin_room + self.attributes.len() + 2);
        self.origin.push_to(&mut attributes);
        let mut dropped_attributes = self.dropped_attributes;
        dropped_attributes += attributes.len().saturating_sub(limit) as u32;
        attributes.truncate(limit);
        attributes.append(&mut self.attributes);
        let busy = KeyValue::new(Key::from_static_str("busy_ns"), self.busy_ns);
        let idle = KeyValue::new(Key::from_static_str("idle_ns"), idle_ns);
        for timing in [busy, idle] {
            if attributes.len() < limit {
                attributes.push(timing);
            } else {
                dropped_attributes += 1;
            }
        }
        Some(SpanData {
            span_context: self.span_context,
            parent_span_id: self.parent_span_id,
            parent_span_is_remote: self.parent_span_id != SpanId::INVALID && self.parent_is_remote,
            span_kind: self.kind,
            name: self.name,
            start_time: self.start,
            end_time,
            attributes,
            dropped_attributes_count: dropped_attributes,
            events: self.events,
            links: self.links,
            status: self.status,
            instrumentation_scope: pipeline.scope.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_times_follow_the_system_clock_and_keep_their_spacing() {
        let before = SystemTime::now();
        let first = Instant::now();
        let wall = wall_time_at(first);
        let after = SystemTime::now();
        assert!(
            wall >= before - Duration::from_millis(1) && wall <= after + Duration::from_millis(1)
        );
        // Within one pairing, two instants are as far apart in wall time.
        let later = first + Duration::from_millis(7);
        let spacing = wall_time_at(later)
            .duration_since(wall_time_at(first))
            .unwrap();
        assert_eq!(spacing, Duration::from_millis(7));
        // Past the pairing, the system clock is read again.
        let much_later = Instant::now() + CLOCK_PAIRING * 2;
        let paired_again = wall_time_at(much_later);
        assert!(paired_again <= SystemTime::now() + Duration::from_millis(1));
    }
}
