//! Per-trace log buffering, flushed on failure.
//!
//! Lines the output would not write but the buffer directive allows are
//! rendered (redacted) as usual and held in their trace's local root span
//! instead of being written; so are the completion lines `sample` drops,
//! kept unformatted (the spans' rendered fields, copied) and put together
//! only at flush. When the root closes, the lines are written in order,
//! with their own timestamps and `log.buffered = true`, if anything in the
//! trace failed (an ERROR line, a panic, a slow call); else they are
//! dropped. Bounded per trace (lines, bytes) and across traces (bytes):
//! the oldest lines of the trace go first, and the flushed batch says how
//! many were lost.

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing::Subscriber;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::registry::{LookupSpan, Registry, SpanRef};

use super::fields::{Entry, FieldWriter, push_field};
use super::json::write_str;
use super::{LogLayer, RANK_EVENT, RANK_METADATA, push_copy, push_ids, span_rank};
use crate::config::LogBufferConfig;

/// Bytes held across every trace now.
static TOTAL_BYTES: AtomicUsize = AtomicUsize::new(0);
/// The limits in force (set once by `init`; absent: buffering is off).
static LIMITS: OnceLock<LogBufferConfig> = OnceLock::new();

/// Bytes held by every trace's buffer now (what the total limit bounds).
pub fn buffered_bytes() -> usize {
    TOTAL_BYTES.load(Ordering::Relaxed)
}

pub(crate) fn install(limits: LogBufferConfig) {
    let _ = LIMITS.set(limits);
    observe_runtime::knobs::set_sampled_out_hook(hold_sampled_out);
}

/// A completion line `sample` dropped: what it is rebuilt from.
struct Completion {
    timestamp: String,
    level: tracing::Level,
    target: &'static str,
    flow: &'static str,
    function: &'static str,
    duration_ms: f64,
    slow: Option<bool>,
    ret: Option<String>,
    /// The enclosing spans' fragments, ranked, and the ids.
    values: Vec<u8>,
    entries: Vec<Entry>,
}

enum Held {
    /// A finished JSON line (no newline).
    Line(Box<[u8]>),
    Completion(Box<Completion>),
}

impl Held {
    fn size(&self) -> usize {
        match self {
            Held::Line(line) => line.len(),
            Held::Completion(c) => 160 + c.values.len() + c.entries.len() * size_of::<Entry>(),
        }
    }
}

/// One trace's held lines, kept in its local root span.
#[derive(Default)]
pub(crate) struct TraceBuffer {
    lines: VecDeque<Held>,
    bytes: usize,
    /// Lines dropped by a limit.
    lost: u64,
    /// Lines ever held (for `observe_log_lines_buffered_total`).
    held: u64,
    failed: bool,
    trace_id: Option<opentelemetry::trace::TraceId>,
}

impl Drop for TraceBuffer {
    fn drop(&mut self) {
        TOTAL_BYTES.fetch_sub(self.bytes, Ordering::Relaxed);
        if self.failed {
            FAILED_TRACES.fetch_sub(1, Ordering::Release);
        }
    }
}

/// Traces marked failed whose root is still open, across all threads.
static FAILED_TRACES: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The id of the last root span the log output saw open on this thread
    /// (0: none). Span ids carry their slot's generation, so an open span
    /// with this id is that root.
    static LAST_ROOT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Notes a root span just opened on this thread (see [`hold_sampled_out`]).
pub(crate) fn note_root(id: &tracing::span::Id) {
    LAST_ROOT.with(|last| last.set(id.into_u64()));
}

impl TraceBuffer {
    fn pop_oldest(&mut self) -> bool {
        match self.lines.pop_front() {
            Some(line) => {
                let size = line.size();
                self.bytes -= size;
                TOTAL_BYTES.fetch_sub(size, Ordering::Relaxed);
                self.lost += 1;
                true
            }
            None => false,
        }
    }

    fn push(&mut self, limits: &LogBufferConfig, line: Held) {
        self.held += 1;
        let size = line.size();
        if size > limits.max_bytes_per_trace {
            self.lost += 1;
            return;
        }
        while self.lines.len() >= limits.max_lines_per_trace
            || self.bytes + size > limits.max_bytes_per_trace
        {
            self.pop_oldest();
        }
        // Across traces: this trace's oldest go first; with none left, the
        // new line is lost.
        while TOTAL_BYTES.load(Ordering::Relaxed) + size > limits.max_total_bytes {
            if !self.pop_oldest() {
                self.lost += 1;
                return;
            }
        }
        TOTAL_BYTES.fetch_add(size, Ordering::Relaxed);
        self.bytes += size;
        self.lines.push_back(line);
    }
}

/// Holds a rendered line in the buffer of `root`'s trace.
pub(crate) fn hold_line<S>(
    root: &SpanRef<'_, S>,
    line: &[u8],
    trace_id: Option<opentelemetry::trace::TraceId>,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(limits) = LIMITS.get() else { return };
    let mut extensions = root.extensions_mut();
    if extensions.get_mut::<TraceBuffer>().is_none() {
        extensions.insert(TraceBuffer::default());
    }
    if let Some(buffer) = extensions.get_mut::<TraceBuffer>() {
        buffer.trace_id = buffer.trace_id.or(trace_id);
        buffer.push(limits, Held::Line(line.into()));
    }
}

/// Marks `root`'s trace as failed: its held lines will be written.
pub(crate) fn mark_failed<S>(root: &SpanRef<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if LIMITS.get().is_none() {
        return;
    }
    let mut extensions = root.extensions_mut();
    if extensions.get_mut::<TraceBuffer>().is_none() {
        extensions.insert(TraceBuffer::default());
    }
    if let Some(buffer) = extensions.get_mut::<TraceBuffer>()
        && !buffer.failed
    {
        buffer.failed = true;
        FAILED_TRACES.fetch_add(1, Ordering::Release);
    }
}

/// Whether the call is its own trace's root and nothing in it failed (most
/// sampled-out calls): its line would be dropped when the root closes, now,
/// so it is not copied. Decided before the trace ids are looked up.
fn own_root_and_fine(id: &tracing::span::Id) -> bool {
    tracing::dispatcher::get_default(|dispatch| {
        let Some(registry) = dispatch.downcast_ref::<Registry>() else {
            return false;
        };
        registry.span(id).is_some_and(|leaf| {
            leaf.parent().is_none()
                && !leaf
                    .extensions()
                    .get::<TraceBuffer>()
                    .is_some_and(|buffer| buffer.failed)
        })
    })
}

/// The runtime's hook for completion lines `sample` dropped.
fn hold_sampled_out(dropped: &observe_runtime::knobs::SampledOut<'_>) {
    let Some(limits) = LIMITS.get() else { return };
    let Some(id) = dropped.span.id() else { return };
    // The common case first, without a look-up: the call is the root this
    // thread opened last, and no trace anywhere has failed.
    let last_root = LAST_ROOT.try_with(std::cell::Cell::get).unwrap_or(0);
    if last_root == id.into_u64() && FAILED_TRACES.load(Ordering::Acquire) == 0 {
        return;
    }
    if own_root_and_fine(&id) {
        return;
    }
    tracing::dispatcher::get_default(|dispatch| {
        let ids = crate::traces::ids(&id, dispatch).map(|(trace, span, _)| (trace, span));
        let Some(registry) = dispatch.downcast_ref::<Registry>() else {
            return;
        };
        let Some(leaf) = registry.span(&id) else {
            return;
        };
        // The call is its own trace's root and nothing in it failed: the
        // line would be dropped when the root closes, now. Skip the copy.
        if leaf.parent().is_none()
            && !leaf
                .extensions()
                .get::<TraceBuffer>()
                .is_some_and(|buffer| buffer.failed)
        {
            return;
        }
        let mut values = Vec::with_capacity(256);
        let mut entries = Vec::with_capacity(16);
        let mut root = None;
        for (distance, span) in leaf.scope().enumerate() {
            super::with_span_fields(&span, |fields| {
                for entry in &fields.entries {
                    push_copy(
                        &mut values,
                        &mut entries,
                        *entry,
                        &fields.buffer,
                        span_rank(distance),
                    );
                }
            });
            root = Some(span);
        }
        let Some(root) = root else { return };
        let mut text = String::new();
        if let Some((trace, span)) = ids {
            push_ids(&mut values, &mut entries, &mut text, trace, span);
        }
        text.clear();
        let _ = SystemTime.format_time(&mut Writer::new(&mut text));
        let completion = Completion {
            timestamp: text,
            level: dropped.meta.level,
            target: dropped.meta.module,
            flow: dropped.meta.flow,
            function: dropped.function,
            duration_ms: dropped.duration_ms,
            slow: dropped.slow,
            ret: dropped.ret.map(str::to_owned),
            values,
            entries,
        };
        let mut extensions = root.extensions_mut();
        if extensions.get_mut::<TraceBuffer>().is_none() {
            extensions.insert(TraceBuffer::default());
        }
        if let Some(buffer) = extensions.get_mut::<TraceBuffer>() {
            buffer.trace_id = buffer.trace_id.or(ids.map(|(trace, _)| trace));
            buffer.push(limits, Held::Completion(Box::new(completion)));
        }
    });
}

/// What closing a root did with its trace's lines.
pub(crate) struct Settled {
    pub flushed: u64,
    pub discarded: u64,
    pub buffered: u64,
}

impl LogLayer {
    /// Writes or drops the held lines of the trace whose root closes.
    pub(crate) fn settle(&self, mut buffer: TraceBuffer) -> Settled {
        let buffered = buffer.held;
        if !buffer.failed {
            let discarded = buffer.lines.len() as u64 + buffer.lost;
            return Settled {
                flushed: 0,
                discarded,
                buffered,
            };
        }
        let trace_id = buffer.trace_id;
        let lost = buffer.lost;
        let mut flushed = 0;
        let mut line = Vec::with_capacity(512);
        let mut first = true;
        while let Some(held) = buffer.lines.pop_front() {
            let size = held.size();
            buffer.bytes -= size;
            TOTAL_BYTES.fetch_sub(size, Ordering::Relaxed);
            line.clear();
            match held {
                Held::Line(json) => line.extend_from_slice(&json),
                Held::Completion(completion) => self.rebuild(&completion, &mut line),
            }
            // `{…}` becomes `{…,"log.buffered":true}`; the first line of
            // the batch says how many older lines a limit dropped.
            if line.last() == Some(&b'}') {
                line.pop();
                line.extend_from_slice(b",\"log.buffered\":true");
                if first && lost > 0 {
                    line.extend_from_slice(format!(",\"log.buffer.lost\":{lost}").as_bytes());
                }
                line.push(b'}');
            }
            first = false;
            self.emit_json(&mut line, trace_id);
            flushed += 1;
        }
        Settled {
            flushed,
            discarded: lost,
            buffered,
        }
    }

    /// Puts a dropped completion line together as it would have been
    /// written.
    fn rebuild(&self, completion: &Completion, line: &mut Vec<u8>) {
        let mut values = Vec::with_capacity(completion.values.len() + 256);
        let mut entries = Vec::with_capacity(completion.entries.len() + 16);
        for entry in &self.identity_entries {
            push_copy(
                &mut values,
                &mut entries,
                *entry,
                &self.identity,
                entry.rank,
            );
        }
        for entry in &completion.entries {
            push_copy(
                &mut values,
                &mut entries,
                *entry,
                &completion.values,
                entry.rank,
            );
        }
        push_field(
            &mut values,
            &mut entries,
            "timestamp",
            RANK_METADATA,
            |out, _| write_str(out, &completion.timestamp),
        );
        let mut text = String::new();
        let mut writer = FieldWriter {
            out: &mut values,
            entries: &mut entries,
            text: &mut text,
            rank: RANK_METADATA,
            span: false,
        };
        writer.trusted_str("level", completion.level.as_str());
        writer.trusted_str("target", completion.target);
        writer.rank = RANK_EVENT;
        writer.static_str("flow", completion.flow);
        writer.static_str("function", completion.function);
        writer.trusted_str("outcome", "ok");
        writer.number("duration_ms", completion.duration_ms);
        if let Some(slow) = completion.slow {
            writer.boolean("slow", slow);
        }
        if let Some(ret) = &completion.ret {
            writer.static_str("return", ret);
        }
        writer.trusted_str("message", "call completed");
        super::assemble(&values, &entries, line, &mut super::order::Plans::default());
    }
}

impl FieldWriter<'_> {
    /// A float, as serde_json writes it.
    fn number(&mut self, key: &'static str, value: f64) {
        self.push(key, |out, _| {
            let _ = serde_json::to_writer(&mut *out, &value);
        });
    }

    fn boolean(&mut self, key: &'static str, value: bool) {
        self.push(key, |out, _| {
            out.extend_from_slice(if value { b"true" } else { b"false" })
        });
    }
}
