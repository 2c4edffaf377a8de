//! The log output: a `tracing` layer that writes each event as one line,
//! once, redacting while it writes.
//!
//! Span fields are rendered (redacted) when a span is created or recorded
//! and kept in the span; an event renders its own fields into a per-thread
//! buffer, takes its enclosing spans' fragments (the innermost span wins a
//! key, as the flattened span list of json-subscriber did), the trace and
//! span ids from the OpenTelemetry layer and the service's identity, and
//! writes the line with the leading keys first and the rest in key order
//! (an order worked out once per sequence of keys, see `order`). Each
//! fragment is `"key":value`, written with `json`.
//! The finished line goes to the flight recorder (when it belongs to a
//! trace) and to the writer. Nothing is parsed back; the hot path does not
//! allocate once the buffers have grown.

pub(crate) mod buffer;
mod fields;
pub(crate) mod gate;
pub(crate) mod json;
mod order;
mod template;

use std::cell::RefCell;

use serde_json::{Map, Value};
use tracing::Level;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::config::{LogFormat, LogWriter};
use crate::flight_recorder::FlightRecorder;
use crate::verdicts::{self, Verdict};
use fields::{Entry, FieldWriter, SpanFields, push_field, push_known};
use json::write_str;

/// The keys written first, in this order, on every line.
pub(crate) const LEADING_KEYS: [&str; 9] = [
    "timestamp",
    "level",
    "message",
    "target",
    "service",
    "environment",
    "version",
    "trace_id",
    "span_id",
];

/// The keys the line's metadata is written under, known at compile time.
const TIMESTAMP: verdicts::Known = verdicts::trusted_key("timestamp");
const LEVEL: verdicts::Known = verdicts::trusted_key("level");
const TARGET: verdicts::Known = verdicts::trusted_key("target");
const TRACE_ID: verdicts::Known = verdicts::trusted_key("trace_id");
const SPAN_ID: verdicts::Known = verdicts::trusted_key("span_id");

/// Each byte's two lowercase hex digits (as the ids' `Display` writes them).
static HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = [[0u8; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        pairs[byte] = [HEX[byte >> 4], HEX[byte & 0xf]];
        byte += 1;
    }
    pairs
};

/// Which source wins a key named by several (the highest rank): the
/// service's identity, then the line's own metadata, then the event's
/// fields, then the spans from the root inwards, then the trace ids.
const RANK_IDENTITY: u32 = 0;
const RANK_METADATA: u32 = 1;
const RANK_EVENT: u32 = 2;
const RANK_IDS: u32 = u32::MAX;

/// Where lines go, and the service's identity written on each.
pub(crate) struct LineSink {
    pub writer: LogWriter,
    pub format: LogFormat,
    pub colour: bool,
    pub service: String,
    pub environment: String,
    pub version: String,
    pub recorder: Option<FlightRecorder>,
    /// OTLP log records, emitted from the finished (redacted) lines.
    pub otlp: Option<crate::otlp_logs::OtlpLogs>,
    /// Write to `writer` (off: OTLP only).
    pub stdout: bool,
}

/// The log layer.
pub(crate) struct LogLayer {
    sink: LineSink,
    /// `service`, `environment` and `version`, rendered and scrubbed once.
    identity: Vec<u8>,
    identity_entries: Vec<Entry>,
}

/// Builds the layer that writes to `sink`.
pub(crate) fn layer(sink: LineSink) -> LogLayer {
    let mut identity = Vec::new();
    let mut identity_entries = Vec::new();
    let mut text = String::new();
    {
        let mut writer = FieldWriter {
            out: &mut identity,
            entries: &mut identity_entries,
            text: &mut text,
            rank: RANK_IDENTITY,
            span: false,
        };
        writer.static_str("service", &sink.service);
        writer.static_str("environment", &sink.environment);
        writer.static_str("version", &sink.version);
    }
    LogLayer {
        sink,
        identity,
        identity_entries,
    }
}

/// The per-thread buffers one line is put together in.
#[derive(Default)]
struct Scratch {
    values: Vec<u8>,
    entries: Vec<Entry>,
    text: String,
    line: Vec<u8>,
    clock: Clock,
    plans: order::Plans,
}

/// The RFC 3339 timestamp of tracing-subscriber's `SystemTime`
/// (`2026-12-01T21:50:00.123456Z`), with the part up to the seconds
/// formatted once per second rather than on every line.
#[derive(Default)]
struct Clock {
    second: u64,
    /// `2026-12-01T21:50:00.`, for `second`; empty before the first line.
    prefix: Vec<u8>,
}

impl Clock {
    fn write_now(&mut self, out: &mut Vec<u8>, text: &mut String) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let second = now.as_secs();
        if second != self.second || self.prefix.is_empty() {
            text.clear();
            let _ = SystemTime.format_time(&mut Writer::new(text));
            out.extend_from_slice(text.as_bytes());
            // Reuse its first part only if it was formatted in the same
            // second as `now` (the two clock reads may straddle one).
            let seconds = format!("{:02}.", second % 60);
            match text.find('.') {
                Some(dot) if text.get(dot - 2..=dot) == Some(seconds.as_str()) => {
                    self.prefix.clear();
                    self.prefix.extend_from_slice(&text.as_bytes()[..=dot]);
                    self.second = second;
                }
                _ => self.prefix.clear(),
            }
            return;
        }
        out.extend_from_slice(&self.prefix);
        let micros = now.subsec_micros();
        let mut digits = [b'0'; 6];
        let mut rest = micros;
        for digit in digits.iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.extend_from_slice(&digits);
        out.push(b'Z');
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl<S> tracing_subscriber::Layer<S> for LogLayer
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        // Rendered when a line first needs them: the span of a sampled-out
        // call never does.
        let mut fields = fields::pooled();
        fields.capture(attrs);
        if span.parent().is_none() {
            buffer::note_root(id);
        }
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<SpanFields>() {
            with_text(|text| {
                fields.render_captured(text);
                fields::record_span(fields, text, &|v| values.record(v));
            });
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let route = gate::take_route();
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => self.write_event(event, &ctx, &mut scratch, route),
            // An event emitted while writing one (by the writer itself).
            Err(_) => self.write_event(event, &ctx, &mut Scratch::default(), route),
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        // One write lock for both: a trace's local root takes its held
        // lines with it (settled below, once the lock is let go: settling
        // writes lines, which may log), and the fields go back to the pool.
        // Only a root holds a buffer: asking its extensions is cheaper than
        // looking its parent up.
        let (buffer, fields) = {
            let mut extensions = span.extensions_mut();
            (
                extensions.remove::<buffer::TraceBuffer>(),
                extensions.remove::<SpanFields>(),
            )
        };
        drop(span);
        if let Some(buffer) = buffer {
            self.settle_and_count(buffer);
        }
        if let Some(fields) = fields {
            fields::recycle(fields);
        }
    }
}

impl LogLayer {
    fn settle_and_count(&self, buffer: buffer::TraceBuffer) {
        // Described once, so the exposition has a `# HELP` for each.
        static DESCRIBED: std::sync::Once = std::sync::Once::new();
        DESCRIBED.call_once(|| {
            metrics::describe_counter!(
                "observe_log_lines_buffered_total",
                metrics::Unit::Count,
                "Log lines held in a trace's buffer instead of being written."
            );
            metrics::describe_counter!(
                "observe_log_lines_flushed_total",
                metrics::Unit::Count,
                "Buffered log lines written because their trace failed."
            );
            metrics::describe_counter!(
                "observe_log_lines_discarded_total",
                metrics::Unit::Count,
                "Buffered log lines dropped: their trace succeeded, or a limit was hit."
            );
        });
        let settled = self.settle(buffer);
        for (name, count) in [
            ("observe_log_lines_buffered_total", settled.buffered),
            ("observe_log_lines_flushed_total", settled.flushed),
            ("observe_log_lines_discarded_total", settled.discarded),
        ] {
            if count > 0 {
                metrics::counter!(name).increment(count);
            }
        }
    }
}

/// Runs `f` with the per-thread text buffer.
fn with_text(f: impl FnOnce(&mut String)) {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch.text),
        Err(_) => f(&mut String::new()),
    });
}

impl LogLayer {
    fn write_event<S>(
        &self,
        event: &Event<'_>,
        ctx: &Context<'_, S>,
        scratch: &mut Scratch,
        route: gate::Route,
    ) where
        S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    {
        let Scratch {
            values,
            entries,
            text,
            line,
            clock,
            plans,
        } = scratch;
        values.clear();
        entries.clear();
        copy_all(
            values,
            entries,
            &self.identity,
            &self.identity_entries,
            None,
        );

        // A `log` record carries its own target and level.
        let normalized = tracing_log::NormalizeEvent::normalized_metadata(event);
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        push_known(
            values,
            entries,
            "timestamp",
            TIMESTAMP,
            RANK_METADATA,
            |out, _| {
                out.push(b'"');
                clock.write_now(out, text);
                out.push(b'"');
            },
        );
        let mut writer = FieldWriter {
            out: values,
            entries,
            text,
            rank: RANK_METADATA,
            span: false,
        };
        writer.fixed_str("level", LEVEL, meta.level().as_str());
        if normalized.is_some() {
            // A `log` record's target is any text a program built at run
            // time: scrubbed, not trusted.
            writer.scrubbed_str("target", TARGET, meta.target());
        } else {
            writer.fixed_str("target", TARGET, meta.target());
        }
        writer.rank = RANK_EVENT;
        let event_start = writer.entries.len();
        event.record(&mut writer);
        if normalized.is_some() {
            // The bridge's own fields repeat the metadata.
            entries.retain(|e| !e.key.starts_with("log."));
        }
        // An ERROR line or a slow call fails its trace (the held lines of
        // the trace are then written).
        let failed = *meta.level() == Level::ERROR
            || entries[event_start.min(entries.len())..]
                .iter()
                .any(|e| e.key == "slow" && e.value(values) == b"true");

        let leaf = ctx.event_span(event);
        let mut trace_id = None;
        if let Some(leaf) = &leaf {
            // Read before borrowing the spans' extensions: the lookup
            // borrows them itself.
            let ids = tracing::dispatcher::get_default(|dispatch| {
                crate::traces::ids(&leaf.id(), dispatch).map(|(trace, span, _)| (trace, span))
            });
            if let Some((trace, span)) = ids {
                push_ids(values, entries, text, trace, span);
                trace_id = Some(trace);
            }
            // From the leaf outwards, each span looked up once (no
            // collecting of the scope): the innermost span ranks highest,
            // the root is the last one.
            copy_span_fields(values, entries, leaf, 0);
            let mut root = None;
            let mut next = leaf.parent();
            let mut distance = 1;
            while let Some(span) = next {
                copy_span_fields(values, entries, &span, distance);
                next = span.parent();
                root = Some(span);
                distance += 1;
            }
            let root = root.as_ref().unwrap_or(leaf);
            if failed {
                buffer::mark_failed(root);
            }
            if route == gate::Route::Buffer {
                assemble(values, entries, line, plans);
                buffer::hold_line(root, line, trace_id);
                return;
            }
        }
        if route == gate::Route::Buffer {
            // Outside any trace: nothing to hold it for.
            return;
        }
        assemble(values, entries, line, plans);
        self.emit_json(line, trace_id);
    }

    /// Writes a finished JSON line (every fragment is valid UTF-8 JSON) to
    /// the flight recorder, OTLP and the writer: for a new line and for a
    /// flushed one alike.
    fn emit_json(&self, line: &mut Vec<u8>, trace_id: Option<opentelemetry::trace::TraceId>) {
        if let (Some(recorder), Some(trace_id)) = (&self.sink.recorder, trace_id) {
            recorder.add_log_line(trace_id, line);
        }
        if let Some(otlp) = &self.sink.otlp {
            otlp.emit(line);
        }
        if !self.sink.stdout {
            return;
        }
        match self.sink.format {
            LogFormat::Json => {
                line.push(b'\n');
                self.sink.writer.write_all(line);
            }
            LogFormat::Pretty => {
                let fields: Map<String, Value> = serde_json::from_slice(line).unwrap_or_default();
                let mut pretty = pretty_line(&fields, self.sink.colour);
                pretty.push('\n');
                self.sink.writer.write_all(pretty.as_bytes());
            }
        }
    }
}

/// The line's `trace_id` and `span_id` fragments, ranked above everything.
pub(crate) fn push_ids(
    out: &mut Vec<u8>,
    entries: &mut Vec<Entry>,
    text: &mut String,
    trace: opentelemetry::trace::TraceId,
    span: opentelemetry::trace::SpanId,
) {
    let mut writer = FieldWriter {
        out,
        entries,
        text,
        rank: RANK_IDS,
        span: false,
    };
    writer.trusted_hex("trace_id", &trace.to_bytes());
    writer.trusted_hex("span_id", &span.to_bytes());
}

/// Puts a line together from its fragments: one entry per key, the
/// highest rank winning; the leading keys first, the rest in key order
/// (the order is worked out once per sequence of keys, see `order`).
fn assemble(values: &[u8], entries: &[Entry], line: &mut Vec<u8>, plans: &mut order::Plans) {
    let order = plans.order(entries);
    line.clear();
    line.reserve(values.len() + order.len() + 2);
    line.push(b'{');
    for (index, &entry) in order.iter().enumerate() {
        if index > 0 {
            line.push(b',');
        }
        line.extend_from_slice(entries[entry as usize].bytes(values));
    }
    line.push(b'}');
}

/// The rank of an enclosing span's fields, `distance` spans out from the
/// event's own: above the event's fields, below the ids, the innermost
/// highest.
pub(crate) fn span_rank(distance: usize) -> u32 {
    RANK_IDS - 1 - distance.min(1 << 20) as u32
}

/// Copies a span's fragments into the line's buffer, ranked by its
/// `distance` from the event's own span.
fn copy_span_fields<S>(
    values: &mut Vec<u8>,
    entries: &mut Vec<Entry>,
    span: &tracing_subscriber::registry::SpanRef<'_, S>,
    distance: usize,
) where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    with_span_fields(span, |fields| {
        copy_all(
            values,
            entries,
            &fields.buffer,
            &fields.entries,
            Some(span_rank(distance)),
        )
    });
}

/// Calls `f` with a span's rendered fields, rendering the captured ones
/// first if no line has needed them yet: one read lock once they are
/// rendered, the write lock only for the first line.
pub(crate) fn with_span_fields<S, R>(
    span: &tracing_subscriber::registry::SpanRef<'_, S>,
    f: impl FnOnce(&SpanFields) -> R,
) -> Option<R>
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    {
        let extensions = span.extensions();
        match extensions.get::<SpanFields>() {
            Some(fields) if !fields.is_captured() => return Some(f(fields)),
            Some(_) => {}
            None => return None,
        }
    }
    let mut extensions = span.extensions_mut();
    let fields = extensions.get_mut::<SpanFields>()?;
    // Its own text buffer: the line's is in use while a line is written.
    fields.render_captured(&mut String::new());
    Some(f(fields))
}

/// Copies a whole buffer of fragments into the line's buffer in one go
/// (bytes no entry points at any more included: `SpanFields` keeps them
/// few), with its entries moved along and ranked `rank` (or as they are).
fn copy_all(
    values: &mut Vec<u8>,
    entries: &mut Vec<Entry>,
    from: &[u8],
    from_entries: &[Entry],
    rank: Option<u32>,
) {
    let base = values.len() as u32;
    values.extend_from_slice(from);
    entries.extend(from_entries.iter().map(|entry| Entry {
        start: entry.start + base,
        end: entry.end + base,
        rank: rank.unwrap_or(entry.rank),
        ..*entry
    }));
}

/// Copies one fragment from `from` into the line's buffer.
fn push_copy(values: &mut Vec<u8>, entries: &mut Vec<Entry>, entry: Entry, from: &[u8], rank: u32) {
    let start = values.len() as u32;
    values.extend_from_slice(entry.bytes(from));
    entries.push(Entry {
        start,
        end: values.len() as u32,
        rank,
        ..entry
    });
}

impl FieldWriter<'_> {
    /// A string under a fixed key, redacted by the key's verdict.
    fn static_str(&mut self, key: &'static str, value: &str) {
        self.push(key, |out, verdict| match verdict {
            Verdict::Secret => write_str(out, observe_runtime::redact::REDACTED),
            Verdict::Trusted => write_str(out, value),
            Verdict::Scrub => verdicts::write_scrubbed_json(out, value),
        });
    }

    /// A string the telemetry generated under one of its own keys.
    fn fixed_str(&mut self, key: &'static str, known: verdicts::Known, value: &str) {
        push_known(self.out, self.entries, key, known, self.rank, |out, _| {
            write_str(out, value)
        });
    }

    /// A string under one of the telemetry's own keys that a program
    /// supplied: scrubbed.
    fn scrubbed_str(&mut self, key: &'static str, known: verdicts::Known, value: &str) {
        push_known(self.out, self.entries, key, known, self.rank, |out, _| {
            verdicts::write_scrubbed_json(out, value)
        });
    }

    /// A string the telemetry generated (never scrubbed).
    fn trusted_str(&mut self, key: &'static str, value: &str) {
        self.push(key, |out, _| write_str(out, value));
    }

    /// An id the telemetry generated, as a JSON string of lowercase hex
    /// digits (as the ids' `Display` writes them).
    fn trusted_hex<const N: usize>(&mut self, key: &'static str, bytes: &[u8; N]) {
        let known = match key {
            "trace_id" => TRACE_ID,
            "span_id" => SPAN_ID,
            _ => verdicts::of_static_name(key),
        };
        push_known(self.out, self.entries, key, known, self.rank, |out, _| {
            // At most 16 bytes (a trace id): 32 digits and the quotes.
            let bytes = &bytes[..N.min(16)];
            let mut text = [b'"'; 34];
            for (digits, byte) in text[1..].chunks_exact_mut(2).zip(bytes) {
                digits.copy_from_slice(&HEX_PAIRS[usize::from(*byte)]);
            }
            let len = 2 * bytes.len() + 2;
            text[len - 1] = b'"';
            out.extend_from_slice(&text[..len]);
        });
    }

    fn push(&mut self, key: &'static str, render: impl FnOnce(&mut Vec<u8>, Verdict)) {
        push_field(self.out, self.entries, key, self.rank, render);
    }
}

/// Serialises `fields` with the leading keys first, then the rest.
pub fn ordered_json(fields: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(256);
    out.push('{');
    let mut first = true;
    let mut push = |out: &mut String, key: &str, value: &Value| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&Value::String(key.to_owned()).to_string());
        out.push(':');
        out.push_str(&value.to_string());
    };
    for key in LEADING_KEYS {
        if let Some(value) = fields.get(key) {
            push(&mut out, key, value);
        }
    }
    for (key, value) in fields {
        if !LEADING_KEYS.contains(&key.as_str()) {
            push(&mut out, key, value);
        }
    }
    out.push('}');
    out
}

/// `12:00:00.123Z  INFO target: message key=value … trace_id=…`
pub fn pretty_line(fields: &Map<String, Value>, colour: bool) -> String {
    let text = |key: &str| match fields.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let level = text("level");
    let (on, dim, off) = if colour {
        let on = match level.as_str() {
            "ERROR" => "\x1b[31m",
            "WARN" => "\x1b[33m",
            "INFO" => "\x1b[32m",
            _ => "\x1b[34m",
        };
        (on, "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let timestamp = text("timestamp");
    let mut line = format!(
        "{dim}{timestamp}{off} {on}{level:>5}{off} {dim}{}:{off} {}",
        text("target"),
        text("message")
    );
    for (key, value) in fields {
        if matches!(
            key.as_str(),
            "timestamp" | "level" | "target" | "message" | "environment" | "version" | "span_id"
        ) {
            continue;
        }
        let value = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        line.push_str(&format!(" {dim}{key}={off}{value}"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_have_the_rfc3339_shape_when_cached() {
        let mut clock = Clock::default();
        let mut text = String::new();
        for _ in 0..3 {
            let mut out = Vec::new();
            clock.write_now(&mut out, &mut text);
            let stamp = String::from_utf8(out).unwrap();
            assert_eq!(stamp.len(), 27, "{stamp}");
            for (index, byte) in stamp.bytes().enumerate() {
                let expected = match index {
                    4 | 7 => b'-',
                    10 => b'T',
                    13 | 16 => b':',
                    19 => b'.',
                    26 => b'Z',
                    _ => b'0',
                };
                if expected == b'0' {
                    assert!(byte.is_ascii_digit(), "{stamp}");
                } else {
                    assert_eq!(byte, expected, "{stamp}");
                }
            }
        }
        assert!(!clock.prefix.is_empty(), "the second's prefix is kept");
    }

    #[test]
    fn ids_are_written_as_their_display() {
        use opentelemetry::trace::{SpanId, TraceId};
        let trace =
            TraceId::from_bytes(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128.to_be_bytes());
        let span = SpanId::from_bytes(0x00ff_10a0_0000_0001u64.to_be_bytes());
        let (mut out, mut entries, mut text) = (Vec::new(), Vec::new(), String::new());
        push_ids(&mut out, &mut entries, &mut text, trace, span);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(r#""trace_id":"{trace}""span_id":"{span}""#)
        );
        assert_eq!(entries[1].leading, 8);
    }

    #[test]
    fn leading_keys_come_first() {
        let Value::Object(map) = json!({"z": 1, "message": "m", "timestamp": "t", "level": "INFO"})
        else {
            unreachable!()
        };
        assert_eq!(
            ordered_json(&map),
            r#"{"timestamp":"t","level":"INFO","message":"m","z":1}"#
        );
    }
}
