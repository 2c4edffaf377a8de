//! One observed call: started at entry, finished when the output is ready,
//! or dropped early (a panic unwinding, an exit the expansion could not
//! see, or an async call cancelled). Every exit path records the metrics,
//! restores the in-flight gauge and emits the completion event, exactly
//! once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use metrics::Gauge;
use tracing::field::Value;
use tracing::{Metadata, Span};

use crate::labels::LabelSet;
use crate::outcome::{DEFAULT_ERROR_KIND, ErrorInfo, Outcome, PANIC_ERROR_KIND};
use crate::sampling;
use crate::site::{
    CallSite, MetricsMode, Named, SPAN_OWN_FIELDS, describe_and_publish_slo, register_errors,
    register_in_flight, register_series,
};

/// What a drop before the end means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// A synchronous body: without a panic, only a `return` or `?` that
    /// the expansion could not rewrite (inside a macro) leaves early; it is
    /// recorded as an error.
    Sync,
    /// An async body: a drop before completion is a cancellation.
    Async,
    /// A synchronous body returning `Poll`: an exit the expansion could not
    /// rewrite is, in a poll function, `ready!`'s `return Poll::Pending`;
    /// it is recorded as a success, as a returned `Poll::Pending` is (not
    /// as an error on every poll that waits).
    Poll,
    /// A synchronous body that is the function's own return value (a
    /// `-> impl Trait` function, whose value cannot be named or looked
    /// into): the drop at the function's end is its completion, a success
    /// unless a panic unwinds.
    Tail,
}

/// The severity of the completion event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Severity {
    /// The function's configured level: a fast success.
    Normal,
    /// WARN: slow, or cancelled.
    Warn,
    /// ERROR: an error or a panic.
    Error,
}

/// An observed call in progress.
pub struct Observation {
    site: &'static CallSite,
    named: &'static Named,
    mode: MetricsMode,
    local_in_flight: Option<Gauge>,
    labels: LabelSet,
    span: Span,
    span_metadata: Option<&'static Metadata<'static>>,
    exit: Exit,
    start: Instant,
    done: bool,
    /// The span was entered by [`Observation::enter_body`] and stays
    /// entered until the completion is recorded.
    entered: bool,
}

impl Observation {
    /// Whether anything listens at all: a recorder, or a subscriber
    /// enabled at least for errors. When nothing does, generated code
    /// evaluates no label, reads no clock and creates no span. Inlined
    /// (two loads and a thread-local read); [`Observation::start`] is not:
    /// one call costs a nanosecond, a copy in every annotated function
    /// costs build time.
    #[inline]
    pub fn listening() -> bool {
        tracing::level_enabled!(tracing::Level::ERROR)
            || metrics::with_recorder(|recorder| std::mem::size_of_val(recorder) != 0)
    }

    /// Starts observing a call (after [`Observation::listening`]), or
    /// returns `None` when neither metrics nor the span are wanted.
    #[inline(never)]
    pub fn start(
        site: &'static CallSite,
        self_type: Option<fn() -> &'static str>,
        labels: LabelSet,
        exit: Exit,
    ) -> Option<Self> {
        let named = site.named(self_type);
        let mode = site.metrics_mode(named, labels.combos());
        if matches!(mode, MetricsMode::Off) && !tracing::level_enabled!(tracing::Level::ERROR) {
            return None;
        }
        let local_in_flight = match &mode {
            MetricsMode::Off => None,
            MetricsMode::Cached(handles) => {
                handles.in_flight.increment(1.0);
                None
            }
            MetricsMode::Local => {
                let gauge = metrics::with_recorder(|recorder| {
                    describe_and_publish_slo(recorder, site.meta(), named.function);
                    register_in_flight(recorder, site.meta(), named.function)
                });
                gauge.increment(1.0);
                Some(gauge)
            }
        };
        let meta = site.meta();
        let span_metadata = named.span.enabled(|| named.span_origin(meta));
        Some(Observation {
            site,
            named,
            mode,
            local_in_flight,
            labels,
            span: Span::none(),
            span_metadata,
            exit,
            start: Instant::now(),
            done: false,
            entered: false,
        })
    }

    /// The observation, when its span is wanted: only then does generated
    /// code compute the recorded values and call [`Observation::open_span`].
    #[inline]
    pub fn wanting_span(observation: &mut Option<Self>) -> Option<&mut Self> {
        observation
            .as_mut()
            .filter(|observation| observation.span_metadata.is_some())
    }

    /// Creates the span with `values`: one per recorded argument and
    /// `fields(...)` entry, in the order of the site's `span_fields`.
    pub fn open_span(&mut self, values: &[Option<&dyn Value>]) {
        let Some(metadata) = self.span_metadata else {
            return;
        };
        let meta = self.site.meta();
        let own: [Option<&dyn Value>; SPAN_OWN_FIELDS.len()] = [
            Some(&meta.flow),
            Some(&self.named.function),
            Some(&meta.module),
            None,
            None,
        ];
        let count = (own.len() + values.len()).min(metadata.fields().len());
        let fields = metadata.fields();
        // On the stack for every realistic signature; a heap copy beyond.
        const INLINE: usize = 32;
        if count <= INLINE {
            let mut all: [Option<&dyn Value>; INLINE] = [None; INLINE];
            for (slot, value) in all.iter_mut().zip(own.iter().chain(values)) {
                *slot = *value;
            }
            self.span = crate::call_clock::lend_opening(metadata, self.start, || {
                Span::new(metadata, &fields.value_set_all(&all[..count]))
            });
        } else {
            let mut all: Vec<Option<&dyn Value>> = own.iter().chain(values).copied().collect();
            all.truncate(count);
            self.span = crate::call_clock::lend_opening(metadata, self.start, || {
                Span::new(metadata, &fields.value_set_all(&all))
            });
        }
    }

    /// Enters the call's span (for a synchronous body).
    #[inline]
    pub fn enter(observation: &Option<Self>) -> Option<tracing::span::Entered<'_>> {
        observation
            .as_ref()
            .filter(|o| !o.span.is_disabled())
            .map(|o| o.span.enter())
    }

    /// Enters the call's span for a synchronous body and keeps it entered
    /// until [`Observation::finish`] has recorded the completion inside it
    /// (or the drop guard has, on a panic or an exit hidden in a macro):
    /// one enter and one exit per call, not a second pair for the
    /// completion event.
    #[inline]
    pub fn enter_body(observation: &mut Option<Self>) {
        if let Some(observation) = observation.as_mut()
            && !observation.span.is_disabled()
        {
            let start = observation.start;
            observation.span.with_subscriber(|(id, dispatch)| {
                crate::call_clock::lend_entering(id, start, || dispatch.enter(id))
            });
            observation.entered = true;
        }
    }

    /// Exits the span [`Observation::enter_body`] entered.
    fn exit_body(&mut self) {
        if std::mem::take(&mut self.entered) {
            self.span
                .with_subscriber(|(id, dispatch)| dispatch.exit(id));
        }
    }

    /// [`Observation::exit_body`], the call having ended at `end`.
    fn exit_body_at(&mut self, end: Instant) {
        if std::mem::take(&mut self.entered) {
            self.span.with_subscriber(|(id, dispatch)| {
                crate::call_clock::lend_closing(id, end, || dispatch.exit(id))
            });
        }
    }

    /// Finishes a synchronous call. `classify` (generated, reading the
    /// returned value) tells an `Err` from a success and renders `ret`; it
    /// is a `dyn` so that this is compiled once, not per function.
    #[inline]
    pub fn finish(
        observation: Option<Self>,
        classify: &mut dyn FnMut() -> (Outcome, Option<String>),
    ) {
        if let Some(mut observation) = observation {
            observation.finish_with(classify);
        }
    }

    fn finish_with(&mut self, classify: &mut dyn FnMut() -> (Outcome, Option<String>)) {
        self.done = true;
        let end = Instant::now();
        let seconds = end.saturating_duration_since(self.start).as_secs_f64();
        // The probes guard every user impl they call; this only catches
        // what they could not (a panicking `Label` of a generic error).
        let (outcome, ret) = crate::probe::guarded(|| (unclassified(), None), classify);
        self.record(seconds, outcome, ret.as_deref());
        self.exit_body_at(end);
    }

    fn record(&self, seconds: f64, outcome: Outcome, ret: Option<&str>) {
        let meta = self.site.meta();
        let function = self.named.function;
        let index = outcome.index();
        match &self.mode {
            MetricsMode::Off => {}
            MetricsMode::Cached(handles) => {
                handles.record(meta, function, &self.labels, index, seconds);
                handles.in_flight.decrement(1.0);
            }
            MetricsMode::Local => metrics::with_recorder(|recorder| {
                let (calls, duration) =
                    register_series(recorder, meta, function, &self.labels, outcome.as_str());
                calls.increment(1);
                duration.record(seconds);
                if let Some(gauge) = &self.local_in_flight {
                    gauge.decrement(1.0);
                }
            }),
        }
        let error_kind = match &outcome {
            Outcome::Error(info) => Some(self.bounded_kind(info)),
            Outcome::Panic => Some(PANIC_ERROR_KIND),
            _ => None,
        };
        if let Some(kind) = error_kind
            && !matches!(self.mode, MetricsMode::Off)
        {
            metrics::with_recorder(|recorder| {
                register_errors(recorder, meta, function, &self.labels, kind).increment(1)
            });
        }

        // The run-time knobs (`observe::flows()`) win over the code's values.
        let slow = crate::knobs::slow_us(meta).map(|limit| seconds * 1e6 > limit as f64);
        let severity = match (&outcome, slow) {
            (Outcome::Error(_) | Outcome::Panic, _) => Severity::Error,
            (Outcome::Cancelled, _) | (Outcome::Ok, Some(true)) => Severity::Warn,
            (Outcome::Ok, _) => Severity::Normal,
        };
        if !self.span.is_disabled() && severity == Severity::Error {
            self.span.record("otel.status_code", "ERROR");
            let type_name = match &outcome {
                Outcome::Error(info) => info.type_name,
                _ => PANIC_ERROR_KIND,
            };
            self.span.record("error.type", type_name);
        }
        if severity == Severity::Normal
            && let Some(rate) = crate::knobs::sample(meta)
            && !sampling::keep(rate, &self.span)
        {
            // Kept unformatted for the trace's log buffer, if any.
            crate::knobs::sampled_out(&crate::knobs::SampledOut {
                span: &self.span,
                meta,
                function,
                duration_ms: milliseconds(seconds),
                slow,
                ret,
            });
            return;
        }
        // At `level = "error"` a success's line is an ERROR event, which
        // marks the span failed as tracing-opentelemetry's would: not routine.
        let routine =
            severity == Severity::Normal && ret.is_none() && meta.level != tracing::Level::ERROR;
        let callsite = &self.named.events[match severity {
            _ if routine => 3,
            Severity::Normal => 0,
            Severity::Warn => 1,
            Severity::Error => 2,
        }];
        let Some(metadata) = callsite.enabled(|| self.named.event_origin(meta, routine)) else {
            return;
        };
        let (error_message, message) = match &outcome {
            Outcome::Ok if slow == Some(true) => (None, "slow call"),
            Outcome::Ok => (None, "call completed"),
            Outcome::Error(info) => (Some(info.message.as_str()), "call failed"),
            Outcome::Panic => (Some("the function panicked"), "call panicked"),
            Outcome::Cancelled => (None, "call cancelled before completing"),
        };
        let duration_ms = milliseconds(seconds);
        let outcome_name = outcome.as_str();
        // `message` is recorded through `Debug`, as `event!` records it.
        let message = tracing::field::display(message);
        let values: [Option<&dyn Value>; 9] = [
            Some(&meta.flow),
            Some(&function),
            Some(&outcome_name),
            Some(&duration_ms),
            error_kind.as_ref().map(|k| k as &dyn Value),
            error_message.as_ref().map(|m| m as &dyn Value),
            slow.as_ref().map(|s| s as &dyn Value),
            ret.as_ref().map(|r| r as &dyn Value),
            Some(&message),
        ];
        let _entered = (!self.entered && !self.span.is_disabled()).then(|| self.span.enter());
        tracing_core::Event::dispatch(metadata, &metadata.fields().value_set_all(&values));
    }

    /// The error's kind, folded into `error` when the error type has more
    /// kinds than this function's budget leaves room for (generic label
    /// types, whose budget cannot be checked at compile time).
    fn bounded_kind(&self, info: &ErrorInfo) -> &'static str {
        let series = info.kinds.saturating_mul(self.labels.combos());
        if series as u64 > self.site.meta().max_series {
            DEFAULT_ERROR_KIND
        } else {
            info.kind
        }
    }
}

/// Milliseconds rounded to the microsecond, so logs show `0.1`, not
/// `0.10006999999999999`.
fn milliseconds(seconds: f64) -> f64 {
    (seconds * 1e6).round() / 1e3
}

fn unclassified() -> Outcome {
    Outcome::Error(ErrorInfo {
        kind: DEFAULT_ERROR_KIND,
        kinds: 1,
        message: "<unprintable: classifying the result panicked>".into(),
        type_name: "unknown",
    })
}

impl Drop for Observation {
    #[inline]
    fn drop(&mut self) {
        if !self.done {
            self.finish_early();
        }
    }
}

impl Observation {
    /// A call that ends without an output the expansion saw.
    #[cold]
    fn finish_early(&mut self) {
        self.done = true;
        let outcome = if std::thread::panicking() {
            Outcome::Panic
        } else if matches!(self.exit, Exit::Tail | Exit::Poll) {
            Outcome::Ok
        } else if self.exit == Exit::Sync {
            Outcome::Error(ErrorInfo {
                kind: DEFAULT_ERROR_KIND,
                kinds: 1,
                message: "returned early from inside a macro".into(),
                type_name: "unknown",
            })
        } else {
            Outcome::Cancelled
        };
        self.record(self.start.elapsed().as_secs_f64(), outcome, None);
        self.exit_body();
    }
}

/// `future`, its output type fixed to `O`: generated code names the
/// declared `impl Future<Output = O>`, so the output is known before the
/// classifier dispatches on its type.
#[inline(always)]
pub fn with_output<O, F: Future<Output = O>>(future: F) -> F {
    future
}

pin_project_lite::pin_project! {
    /// An async call's future: enters the span on every poll, and finishes
    /// the observation when the output is ready. Dropped before that, the
    /// observation records a cancellation.
    pub struct ObservedFuture<F: Future, C> {
        #[pin]
        future: F,
        observation: Option<Observation>,
        classify: Option<C>,
    }
}

impl<F, C> ObservedFuture<F, C>
where
    F: Future,
    C: FnOnce(&F::Output) -> (Outcome, Option<String>),
{
    /// Wraps the body's future; with no observation (nothing listens) it
    /// only polls it.
    pub fn new(observation: Option<Observation>, future: F, classify: C) -> Self {
        ObservedFuture {
            future,
            observation,
            classify: Some(classify),
        }
    }
}

impl<F, C> Future for ObservedFuture<F, C>
where
    F: Future,
    C: FnOnce(&F::Output) -> (Outcome, Option<String>),
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(observation) = this.observation.as_mut() else {
            return this.future.poll(cx);
        };
        let poll = {
            let _entered = (!observation.span.is_disabled()).then(|| observation.span.enter());
            this.future.poll(cx)
        };
        if let Poll::Ready(output) = &poll
            && let Some(classify) = this.classify.take()
        {
            let mut classify = Some(classify);
            observation.finish_with(&mut || match classify.take() {
                Some(classify) => classify(output),
                None => (unclassified(), None),
            });
        }
        poll
    }
}
