//! One observed call: started at entry, finished when the output is ready,
//! or dropped early (a panic unwinding, or an async call cancelled). Every
//! exit path records the metrics, restores the in-flight gauge and emits the
//! completion event.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use metrics::Gauge;
use tracing::Span;

use crate::sampling;
use crate::site::{
    CallSite, MetricsMode, register_errors, register_in_flight_local, register_series,
};

/// How a call ended.
#[derive(Debug)]
pub enum Outcome {
    /// Returned normally (including `Ok`).
    Ok,
    /// Returned `Err`.
    Error(ErrorInfo),
    /// Panicked; the panic continues after recording.
    Panic,
    /// The future was dropped after its first poll, before completing.
    Cancelled,
}

impl Outcome {
    fn index(&self) -> usize {
        match self {
            Outcome::Ok => 0,
            Outcome::Error(_) => 1,
            Outcome::Panic => 2,
            Outcome::Cancelled => 3,
        }
    }

    /// The `outcome` label value.
    pub fn as_str(&self) -> &'static str {
        crate::site::OUTCOME_NAMES[self.index()]
    }
}

/// What is recorded about an error.
#[derive(Debug)]
pub struct ErrorInfo {
    /// The `error_kind` label: the variant for `Label` errors, else `"error"`.
    pub kind: &'static str,
    /// The error's `Display` (else `Debug`), scrubbed and truncated.
    pub message: String,
    /// The error's type, for the span's `error.type`.
    pub type_name: &'static str,
}

/// The severity of the completion event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The function's configured level: a fast success.
    Normal,
    /// WARN: slow, or cancelled.
    Warn,
    /// ERROR: an error or a panic.
    Error,
}

/// The completion event's content, handed to the generated emitter (which
/// owns the event's call site, so its target is the user's module).
#[derive(Debug)]
pub struct Completion<'a> {
    /// The event's severity.
    pub severity: Severity,
    /// `flow`.
    pub flow: &'static str,
    /// `function`.
    pub function: &'static str,
    /// `outcome`.
    pub outcome: &'static str,
    /// Milliseconds from entry to the output being ready.
    pub duration_ms: f64,
    /// `error.kind`, on errors.
    pub error_kind: Option<&'static str>,
    /// `error.message`, on errors.
    pub error_message: Option<&'a str>,
    /// `slow`, when a threshold is set.
    pub slow: Option<bool>,
    /// `return`, with `ret`.
    pub ret: Option<&'a str>,
    /// A short human message.
    pub message: &'static str,
}

/// Emits the completion event; generated per function.
pub type Emitter = fn(&Completion<'_>);

/// An observed call in progress.
pub struct Observation<'l> {
    site: &'static CallSite,
    function: &'static str,
    mode: MetricsMode,
    local_in_flight: Option<Gauge>,
    combo: usize,
    labels: &'l [&'static str],
    span: Span,
    emit: Emitter,
    start: Instant,
    done: bool,
}

impl<'l> Observation<'l> {
    /// Starts observing a call, in the metrics `mode` that
    /// [`CallSite::listening`] returned.
    #[inline(always)]
    pub fn start(
        site: &'static CallSite,
        self_type: Option<fn() -> &'static str>,
        mode: MetricsMode,
        combo: usize,
        labels: &'l [&'static str],
        span: Span,
        emit: Emitter,
    ) -> Self {
        let function = site.function(self_type);
        let local_in_flight = match &mode {
            MetricsMode::Off => None,
            MetricsMode::Cached(handles) => {
                handles.in_flight.increment(1.0);
                None
            }
            MetricsMode::Local => {
                let gauge =
                    metrics::with_recorder(|recorder| register_in_flight_local(recorder, site));
                gauge.increment(1.0);
                Some(gauge)
            }
        };
        Observation {
            site,
            function,
            mode,
            local_in_flight,
            combo,
            labels,
            span,
            emit,
            start: Instant::now(),
            done: false,
        }
    }

    /// Enters the call's span (for the synchronous body).
    pub fn enter(&self) -> tracing::span::Entered<'_> {
        self.span.enter()
    }

    /// The call's span.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Finishes a call that returned `value`. `classify` (generated) tells
    /// an `Err` from a success and renders `ret`; it only runs when something
    /// listens.
    #[inline(always)]
    pub fn finish<T: ?Sized>(
        &mut self,
        value: &T,
        classify: impl FnOnce(&T) -> (Outcome, Option<String>),
    ) {
        self.done = true;
        let elapsed = self.start.elapsed();
        let (outcome, ret) = classify(value);
        self.record(elapsed.as_secs_f64(), outcome, ret.as_deref());
    }

    /// Finishes the call if it is observed. Taking the `Option` by value
    /// means nothing is left to drop when nothing listens, so the common
    /// unobserved path calls no drop glue.
    #[inline(always)]
    pub fn finish_if_observed<T: ?Sized>(
        observation: Option<Self>,
        value: &T,
        classify: impl FnOnce(&T) -> (Outcome, Option<String>),
    ) {
        if let Some(mut observation) = observation {
            observation.finish(value, classify);
        }
    }

    fn record(&self, seconds: f64, outcome: Outcome, ret: Option<&str>) {
        let meta = self.site.meta();
        let index = outcome.index();
        match &self.mode {
            MetricsMode::Off => {}
            MetricsMode::Cached(handles) => {
                let (calls, duration) = handles.series(self.site, self.combo, self.labels, index);
                calls.increment(1);
                duration.record(seconds);
                handles.in_flight.decrement(1.0);
            }
            MetricsMode::Local => metrics::with_recorder(|recorder| {
                let (calls, duration) =
                    register_series(recorder, self.site, self.labels, outcome.as_str());
                calls.increment(1);
                duration.record(seconds);
                if let Some(gauge) = &self.local_in_flight {
                    gauge.decrement(1.0);
                }
            }),
        }
        let error_kind = match &outcome {
            Outcome::Error(info) => Some(info.kind),
            Outcome::Panic => Some("panic"),
            _ => None,
        };
        if let Some(kind) = error_kind
            && !matches!(self.mode, MetricsMode::Off)
        {
            metrics::with_recorder(|recorder| {
                register_errors(recorder, self.site, self.labels, kind).increment(1)
            });
        }

        let slow = meta.slow_us.map(|limit| seconds * 1e6 > limit as f64);
        let severity = match (&outcome, slow) {
            (Outcome::Error(_) | Outcome::Panic, _) => Severity::Error,
            (Outcome::Cancelled, _) | (Outcome::Ok, Some(true)) => Severity::Warn,
            (Outcome::Ok, _) => Severity::Normal,
        };
        if !self.span.is_disabled() && matches!(severity, Severity::Error) {
            self.span.record("otel.status_code", "ERROR");
            let type_name = match &outcome {
                Outcome::Error(info) => info.type_name,
                _ => "panic",
            };
            self.span.record("error.type", type_name);
        }
        if severity == Severity::Normal
            && let Some(rate) = meta.sample
            && !sampling::keep(rate, &self.span)
        {
            return;
        }
        let (error_message, message) = match &outcome {
            Outcome::Ok if slow == Some(true) => (None, "slow call"),
            Outcome::Ok => (None, "call completed"),
            Outcome::Error(info) => (Some(info.message.as_str()), "call failed"),
            Outcome::Panic => (Some("the function panicked"), "call panicked"),
            Outcome::Cancelled => (None, "call cancelled before completing"),
        };
        let completion = Completion {
            severity,
            flow: meta.flow,
            function: self.function,
            outcome: outcome.as_str(),
            duration_ms: seconds * 1e3,
            error_kind,
            error_message,
            slow,
            ret,
            message,
        };
        let _entered = self.span.enter();
        (self.emit)(&completion);
    }
}

impl Drop for Observation<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.finish_early();
    }
}

impl Observation<'_> {
    /// A call that ends without an output: a panic unwinding, or a future
    /// dropped before it was ready.
    #[cold]
    fn finish_early(&mut self) {
        let outcome = if std::thread::panicking() {
            Outcome::Panic
        } else {
            Outcome::Cancelled
        };
        self.record(self.start.elapsed().as_secs_f64(), outcome, None);
    }
}

pin_project_lite::pin_project! {
    /// An async call's future: enters the span on every poll, and finishes
    /// the observation when the output is ready. Dropped before that, the
    /// observation records a cancellation.
    pub struct ObservedFuture<'l, F: Future, C> {
        #[pin]
        future: F,
        observation: Option<Observation<'l>>,
        classify: Option<C>,
    }
}

impl<'l, F, C> ObservedFuture<'l, F, C>
where
    F: Future,
    C: FnOnce(&F::Output) -> (Outcome, Option<String>),
{
    /// Wraps the body's future; with no observation (nothing listens) it
    /// only polls it.
    pub fn new(observation: Option<Observation<'l>>, future: F, classify: C) -> Self {
        ObservedFuture {
            future,
            observation,
            classify: Some(classify),
        }
    }
}

impl<F, C> Future for ObservedFuture<'_, F, C>
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
            let _entered = observation.span.enter();
            this.future.poll(cx)
        };
        if let Poll::Ready(output) = &poll {
            let classify = this.classify.take().expect("ready once");
            observation.finish(output, classify);
        }
        poll
    }
}
