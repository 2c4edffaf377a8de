//! The flight recorder: recent completed traces kept in memory, so a
//! developer can debug with no backend running.
//!
//! It is a span processor (it sees every finished span, including the
//! ones head sampling keeps from the exporter, and under `init` redacts
//! each one it stores) plus a log
//! inbox fed by the log output. Spans and lines gather per trace id until
//! the trace's root span ends (or, for a trace whose root lives in another
//! process, until it has been quiet for a grace period). The trace is then
//! kept when it has an error, a slow call or a 5xx, and otherwise with the
//! configured probability (tail-based sampling). Everything is bounded: the
//! number of kept and pending traces, and spans and lines per trace.

mod model;
mod render;

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use opentelemetry::trace::{Event, SpanId, Status, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

pub use model::{KeepReason, RecordedTrace, SpanEventRecord, SpanRecord, SpanStatus};
pub use render::WaterfallStyle;

/// Bounds and sampling of the flight recorder.
#[derive(Debug, Clone)]
pub struct FlightRecorderConfig {
    /// Whether to record at all.
    pub enabled: bool,
    /// Completed traces kept (the oldest goes first).
    pub capacity: usize,
    /// Traces still gathering spans.
    pub max_pending: usize,
    /// Spans kept per trace.
    pub max_spans_per_trace: usize,
    /// Log lines kept per trace.
    pub max_logs_per_trace: usize,
    /// Share of ordinary (fast, successful) traces kept, 0 to 1.
    pub sample_rate: f64,
    /// How long a trace without a local root waits for more spans.
    pub grace: Duration,
}

impl Default for FlightRecorderConfig {
    fn default() -> Self {
        FlightRecorderConfig {
            enabled: true,
            capacity: 256,
            max_pending: 1024,
            max_spans_per_trace: 512,
            max_logs_per_trace: 256,
            sample_rate: 0.05,
            grace: Duration::from_secs(2),
        }
    }
}

/// The in-process store of recent traces. Cheap to clone.
#[derive(Clone, Debug)]
pub struct FlightRecorder {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: FlightRecorderConfig,
    default_service: String,
    /// Redacts a span before it is stored (set by `init`; a recorder made
    /// with [`FlightRecorder::new`] stores spans as it is given them).
    scrub: Option<fn(&mut SpanData)>,
    state: Mutex<State>,
}

/// Traces are keyed by their id as a number: no hex text per span or line.
type Key = u128;

fn key_of(trace_id: TraceId) -> Key {
    u128::from_be_bytes(trace_id.to_bytes())
}

fn parse_key(trace_id: &str) -> Option<Key> {
    (trace_id.len() == 32)
        .then(|| u128::from_str_radix(trace_id, 16).ok())
        .flatten()
}

/// Hashes a trace id: its bits are random already, so folding its two
/// halves with one multiply spreads them (SipHash would cost ten times as
/// much on every span and line).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = ((value as u64) ^ ((value >> 64) as u64).rotate_left(32))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_u64(&mut self, value: u64) {
        self.write_u128(u128::from(value));
    }
}

type ByKey<V> = HashMap<Key, V, BuildHasherDefault<KeyHasher>>;

/// Emptied pending traces kept for reuse, so the common trace (a root and
/// its lines, dropped when it ends) allocates nothing once warm.
const FREE_LIMIT: usize = 32;
/// A pending trace's line buffer larger than this is not kept for reuse.
const FREE_LOG_BYTES: usize = 64 * 1024;

#[derive(Debug, Default)]
struct State {
    pending: ByKey<Pending>,
    kept: VecDeque<Kept>,
    /// Where each kept trace is: its sequence number, `kept_base` being
    /// the front's (so a late span or line finds its trace without a scan).
    kept_index: ByKey<u64>,
    kept_base: u64,
    last_sweep: Option<Instant>,
    dropped: u64,
    free: Vec<Pending>,
    /// Spans recorded since the clock was last read for a sweep.
    since_sweep: u32,
}

/// The clock is read for a sweep once every this many finished spans (and
/// on every read of the traces), not on each one.
const SWEEP_EVERY: u32 = 16;

impl State {
    fn kept_mut(&mut self, key: Key) -> Option<&mut Kept> {
        let sequence = *self.kept_index.get(&key)?;
        let index = sequence.checked_sub(self.kept_base)?;
        self.kept.get_mut(usize::try_from(index).ok()?)
    }

    fn push_kept(&mut self, key: Key, trace: Kept, capacity: usize) {
        if self.kept.len() >= capacity
            && let Some(oldest) = self.kept.pop_front()
        {
            let sequence = self.kept_base;
            self.kept_base += 1;
            if self.kept_index.get(&oldest.key) == Some(&sequence) {
                self.kept_index.remove(&oldest.key);
            }
        }
        self.kept_index
            .insert(key, self.kept_base + self.kept.len() as u64);
        self.kept.push_back(trace);
    }
}

/// A kept trace: its spans as the SDK handed them over (already
/// scrubbed) and its lines, converted to a [`RecordedTrace`] only when read
/// (most kept traces are never looked at).
#[derive(Debug)]
struct Kept {
    key: Key,
    reason: KeepReason,
    spans: Vec<SpanData>,
    logs: Lines,
}

impl Kept {
    fn record(&self, default_service: &str) -> RecordedTrace {
        let spans = self.spans.iter().map(SpanRecord::from_span_data).collect();
        let mut trace =
            RecordedTrace::new(format!("{:032x}", self.key), spans, self.logs.to_strings());
        trace.refresh(default_service);
        trace.keep_reason = self.reason;
        trace
    }
}

/// A trace still gathering: its spans as the SDK handed them over
/// (already scrubbed) and its lines one after the other in one buffer,
/// converted only if the trace is kept.
#[derive(Debug)]
struct Pending {
    spans: Vec<SpanData>,
    logs: Lines,
    first_seen: Instant,
    last_seen: Instant,
}

impl Pending {
    fn new(now: Instant) -> Self {
        Pending {
            spans: Vec::new(),
            logs: Lines::default(),
            first_seen: now,
            last_seen: now,
        }
    }
}

/// A trace's lines one after the other in one buffer (each one valid
/// UTF-8), and where each one ends: copied once, from the line as written,
/// and turned into strings only when the trace is read.
#[derive(Debug, Default, Clone)]
struct Lines {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Lines {
    fn push(&mut self, line: &[u8], limit: usize) {
        if self.ends.len() < limit {
            self.bytes.extend_from_slice(line);
            self.ends.push(self.bytes.len());
        }
    }

    fn to_strings(&self) -> Vec<String> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let line = String::from_utf8_lossy(&self.bytes[start..end]).into_owned();
                start = end;
                line
            })
            .collect()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }
}

impl State {
    /// An empty pending trace, reused if one is free.
    fn new_pending(&mut self, now: Instant) -> Pending {
        match self.free.pop() {
            Some(mut pending) => {
                pending.first_seen = now;
                pending.last_seen = now;
                pending
            }
            None => Pending::new(now),
        }
    }

    /// Empties a settled trace's buffers and keeps them for the next one.
    fn recycle(&mut self, mut pending: Pending) {
        if self.free.len() >= FREE_LIMIT || pending.logs.bytes.capacity() > FREE_LOG_BYTES {
            return;
        }
        pending.spans.clear();
        pending.logs.clear();
        self.free.push(pending);
    }
}

static GLOBAL: OnceLock<FlightRecorder> = OnceLock::new();

impl FlightRecorder {
    /// A recorder; spans without a `service` attribute are attributed to
    /// `default_service`.
    pub fn new(config: FlightRecorderConfig, default_service: impl Into<String>) -> Self {
        FlightRecorder {
            inner: Arc::new(Inner {
                config,
                default_service: default_service.into(),
                scrub: None,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// A recorder that redacts each span with `scrub` before storing it.
    /// The root span of a trace that is dropped is never stored, so it is
    /// never redacted either: whether to keep a trace reads only its
    /// status, its `http.response.status_code` and its `slow` events, which
    /// redaction leaves as they are.
    pub(crate) fn redacting(
        config: FlightRecorderConfig,
        default_service: impl Into<String>,
        scrub: fn(&mut SpanData),
    ) -> Self {
        let mut recorder = FlightRecorder::new(config, default_service);
        if let Some(inner) = Arc::get_mut(&mut recorder.inner) {
            inner.scrub = Some(scrub);
        }
        recorder
    }

    fn scrub(&self, span: &mut SpanData) {
        if let Some(scrub) = self.inner.scrub {
            scrub(span);
        }
    }

    /// The recorder `init` installed, if any.
    pub fn global() -> Option<FlightRecorder> {
        GLOBAL.get().cloned()
    }

    pub(crate) fn install_global(&self) {
        let _ = GLOBAL.set(self.clone());
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a (scrubbed) log line of the trace `trace_id` (32 hex digits).
    pub fn add_log(&self, trace_id: &str, line: &str) {
        if let Some(key) = parse_key(trace_id) {
            self.add_log_key(key, line.as_bytes());
        }
    }

    /// Adds a (scrubbed) log line of the trace `trace_id`: JSON text, as
    /// the log output wrote it.
    pub(crate) fn add_log_line(&self, trace_id: TraceId, line: &[u8]) {
        self.add_log_key(key_of(trace_id), line);
    }

    fn add_log_key(&self, key: Key, line: &[u8]) {
        let config = &self.inner.config;
        let mut state = self.state();
        if let Some(kept) = state.kept_mut(key) {
            kept.logs.push(line, config.max_logs_per_trace);
            return;
        }
        let pending = self.pending_entry(&mut state, key, Instant::now());
        pending.logs.push(line, config.max_logs_per_trace);
    }

    fn pending_entry<'s>(&self, state: &'s mut State, key: Key, now: Instant) -> &'s mut Pending {
        if !state.pending.contains_key(&key) && state.pending.len() >= self.inner.config.max_pending
        {
            // Full: settle the oldest trace now rather than grow.
            if let Some(oldest) = state
                .pending
                .iter()
                .min_by_key(|(_, pending)| pending.first_seen)
                .map(|(id, _)| *id)
            {
                self.settle(state, oldest);
            }
        }
        if !state.pending.contains_key(&key) {
            let fresh = state.new_pending(now);
            state.pending.insert(key, fresh);
        }
        let pending = state.pending.get_mut(&key).expect("inserted above");
        pending.last_seen = now;
        pending
    }

    /// Records a finished span.
    pub fn record_span(&self, span: &SpanData) {
        self.record_owned_span(span.clone());
    }

    /// Records a finished span the caller hands over.
    fn record_owned_span(&self, mut span: SpanData) {
        let key = key_of(span.span_context.trace_id());
        let is_root = span.parent_span_id == SpanId::INVALID;
        let config = &self.inner.config;
        if !is_root {
            // Stored whatever is decided later: redacted now, outside the lock.
            self.scrub(&mut span);
        }
        let mut state = self.state();
        if let Some(kept) = state.kept_mut(key) {
            // A late span of a trace already kept.
            if kept.spans.len() < config.max_spans_per_trace {
                if is_root {
                    self.scrub(&mut span);
                }
                kept.spans.push(span);
            }
        } else if is_root {
            // The root ends the trace: decide before redacting the root,
            // which a dropped trace never stores.
            let pending = match state.pending.remove(&key) {
                Some(pending) => pending,
                // Settled at once: its times are never read, so the clock
                // is not either.
                None => {
                    let stand_in = state.last_sweep.unwrap_or_else(Instant::now);
                    state.new_pending(stand_in)
                }
            };
            self.settle_pending(&mut state, key, pending, Some(span));
        } else {
            let pending = self.pending_entry(&mut state, key, Instant::now());
            if pending.spans.len() < config.max_spans_per_trace {
                pending.spans.push(span);
            }
        }
        self.count_span(&mut state);
    }

    /// Counts a finished span, sweeping once every `SWEEP_EVERY`.
    fn count_span(&self, state: &mut State) {
        state.since_sweep += 1;
        if state.since_sweep >= SWEEP_EVERY {
            self.sweep(state, false, Instant::now());
        }
    }

    /// Settles the traces that have been quiet for the grace period (all
    /// of them with `all`).
    fn sweep(&self, state: &mut State, all: bool, now: Instant) {
        // The clock was read: the next count starts now, whether or not
        // this sweep is too soon after the last one.
        state.since_sweep = 0;
        if !all
            && state
                .last_sweep
                .is_some_and(|last| now.duration_since(last) < Duration::from_millis(250))
        {
            return;
        }
        state.last_sweep = Some(now);
        let grace = self.inner.config.grace;
        let quiet: Vec<Key> = state
            .pending
            .iter()
            .filter(|(_, pending)| all || now.duration_since(pending.last_seen) >= grace)
            .map(|(id, _)| *id)
            .collect();
        for key in quiet {
            self.settle(state, key);
        }
    }

    /// Decides whether the pending trace is kept.
    fn settle(&self, state: &mut State, key: Key) {
        if let Some(pending) = state.pending.remove(&key) {
            self.settle_pending(state, key, pending, None);
        }
    }

    /// Decides whether a trace is kept: its stored spans and lines, and
    /// its root when the root's end settles it (not yet redacted).
    fn settle_pending(
        &self,
        state: &mut State,
        key: Key,
        pending: Pending,
        mut root: Option<SpanData>,
    ) {
        if pending.spans.is_empty() && root.is_none() {
            state.recycle(pending);
            return;
        }
        // Most traces are dropped: decide on the spans as handed over, and
        // convert only the ones kept.
        let all = || pending.spans.iter().chain(root.as_ref());
        let Some(reason) = self.keep_reason(
            key,
            || all().any(model::span_data_is_error),
            || all().any(model::span_data_is_slow),
        ) else {
            state.dropped += 1;
            state.recycle(pending);
            return;
        };
        let mut pending = pending;
        let mut spans = std::mem::take(&mut pending.spans);
        if let Some(mut root) = root.take()
            && spans.len() < self.inner.config.max_spans_per_trace
        {
            self.scrub(&mut root);
            spans.push(root);
        }
        let trace = Kept {
            key,
            reason,
            spans,
            // A copy of exactly the bytes used; the buffer is reused.
            logs: pending.logs.clone(),
        };
        state.push_kept(key, trace, self.inner.config.capacity);
        state.recycle(pending);
    }

    /// Settles the trace of a local root that just ended, when it would be
    /// dropped (the root neither failed nor was slow, nothing recorded of
    /// the trace so far did, and sampling does not keep it): the caller
    /// then need not build the root's `SpanData` only for it to be dropped.
    /// `false`, and nothing changed, when the root has to be recorded.
    pub(crate) fn drop_ordinary_root(
        &self,
        trace_id: TraceId,
        status: &Status,
        attributes: &[KeyValue],
        events: &[Event],
    ) -> bool {
        let key = key_of(trace_id);
        let mut state = self.state();
        if state.kept_mut(key).is_some() {
            return false;
        }
        let spans = state.pending.get(&key).map_or(&[][..], |p| &p.spans[..]);
        let reason = self.keep_reason(
            key,
            || model::is_error(status, attributes) || spans.iter().any(model::span_data_is_error),
            || model::is_slow(events) || spans.iter().any(model::span_data_is_slow),
        );
        if reason.is_some() {
            return false;
        }
        // What `settle_pending` does with a dropped trace.
        state.dropped += 1;
        if let Some(pending) = state.pending.remove(&key) {
            state.recycle(pending);
        }
        self.count_span(&mut state);
        true
    }

    /// Why a settled trace is kept, if it is: an error anywhere in it, else
    /// a slow call, else sampling by its id.
    fn keep_reason(
        &self,
        key: Key,
        error: impl FnOnce() -> bool,
        slow: impl FnOnce() -> bool,
    ) -> Option<KeepReason> {
        if error() {
            Some(KeepReason::Error)
        } else if slow() {
            Some(KeepReason::Slow)
        } else if sampled(key, self.inner.config.sample_rate) {
            Some(KeepReason::Sampled)
        } else {
            None
        }
    }

    /// Settles every pending trace now (e.g. before printing a report).
    pub fn settle_all(&self) {
        let mut state = self.state();
        self.sweep(&mut state, true, Instant::now());
    }

    /// The kept traces, oldest first.
    pub fn traces(&self) -> Vec<RecordedTrace> {
        let mut state = self.state();
        self.sweep(&mut state, false, Instant::now());
        let service = &self.inner.default_service;
        state.kept.iter().map(|kept| kept.record(service)).collect()
    }

    /// The `limit` slowest kept traces, slowest first.
    pub fn slowest(&self, limit: usize) -> Vec<RecordedTrace> {
        let mut traces = self.traces();
        traces.sort_by_key(|trace| std::cmp::Reverse(trace.duration));
        traces.truncate(limit);
        traces
    }

    /// The `limit` most recent traces with an error, newest first.
    pub fn failing(&self, limit: usize) -> Vec<RecordedTrace> {
        self.traces()
            .into_iter()
            .rev()
            .filter(RecordedTrace::has_error)
            .take(limit)
            .collect()
    }

    /// The kept trace with this id (32 lowercase hex digits).
    pub fn trace(&self, trace_id: &str) -> Option<RecordedTrace> {
        self.traces()
            .into_iter()
            .find(|trace| trace.trace_id == trace_id)
    }

    /// Whether the trace with this id is kept (an index look-up, after
    /// settling the quiet traces if a sweep is due: the metrics recorder
    /// asks it before showing an exemplar).
    pub fn is_kept(&self, trace_id: u128) -> bool {
        let mut state = self.state();
        // A quiet trace whose root is elsewhere may be due to settle.
        self.sweep(&mut state, false, Instant::now());
        state.kept_index.contains_key(&trace_id)
    }

    /// How many settled traces were not kept.
    pub fn dropped(&self) -> u64 {
        let mut state = self.state();
        self.sweep(&mut state, false, Instant::now());
        state.dropped
    }

    /// The `/debug/traces` document: the slowest and the failing traces.
    pub fn to_json(&self, limit: usize) -> serde_json::Value {
        serde_json::json!({
            "slowest": self.slowest(limit).iter().map(RecordedTrace::to_json).collect::<Vec<_>>(),
            "failing": self.failing(limit).iter().map(RecordedTrace::to_json).collect::<Vec<_>>(),
            "kept": self.state().kept.len(),
            "dropped": self.dropped(),
        })
    }
}

/// Keeps a `rate` share of traces, decided by the (random) trace id so
/// every service agrees.
fn sampled(key: Key, rate: f64) -> bool {
    // The low 64 bits: the last 16 hex digits of the id.
    let low = key as u64;
    (low >> 11) as f64 / (1u64 << 53) as f64 <= rate
}

impl SpanProcessor for FlightRecorder {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        self.record_owned_span(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}
