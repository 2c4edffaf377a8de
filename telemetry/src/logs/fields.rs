//! Field values rendered once, as redacted JSON fragments.
//!
//! A visitor writes each value of a span or an event straight into a byte
//! buffer as JSON, already redacted, and notes where it lies; the line is
//! then put together from those fragments without ever being parsed back.
//! The rendering matches what json-subscriber followed by
//! `redaction::scrub_json` produced: strings and `Debug` text through
//! `scrub`, a secret-named field's value as `[REDACTED]`, whole numbers of
//! 13 or more characters through `scrub` (card numbers), floats as
//! serde_json writes them (`null` when not finite).

use std::fmt::{self, Write as _};

use observe_runtime::redact::{REDACTED, scrub};
use tracing::field::{Field, Visit};

use super::json::{self, write_key, write_str};
use crate::verdicts::{self, Known, Verdict, write_scrubbed_json};

/// Where one field's fragment (`"key":value`) lies in its buffer, and how
/// much it counts when several sources (the event, each enclosing span)
/// name the same key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub key: &'static str,
    /// The key's first eight bytes, big-endian: most comparisons of keys
    /// are decided by this number alone.
    pub prefix: u64,
    /// Its place among the keys written first (`u8::MAX` if it is not one).
    pub leading: u8,
    /// The fragment, `"key":value`.
    pub start: u32,
    pub end: u32,
    /// Where the value starts, from `start` (the length of `"key":`).
    pub value_at: u32,
    pub rank: u32,
}

impl Entry {
    /// By key, then by rank.
    pub(crate) fn order(a: &Entry, b: &Entry) -> std::cmp::Ordering {
        a.prefix
            .cmp(&b.prefix)
            .then_with(|| a.key.cmp(b.key))
            .then(a.rank.cmp(&b.rank))
    }

    /// The whole fragment, `"key":value`.
    pub(crate) fn bytes<'b>(&self, buffer: &'b [u8]) -> &'b [u8] {
        &buffer[self.start as usize..self.end as usize]
    }

    /// The value alone.
    pub(crate) fn value<'b>(&self, buffer: &'b [u8]) -> &'b [u8] {
        &buffer[(self.start + self.value_at) as usize..self.end as usize]
    }
}

/// Writes one fragment, `"key":` and the value `render` writes (given the
/// key's verdict), into `out`, and notes it in `entries`.
#[inline]
pub(crate) fn push_field(
    out: &mut Vec<u8>,
    entries: &mut Vec<Entry>,
    key: &'static str,
    rank: u32,
    render: impl FnOnce(&mut Vec<u8>, Verdict),
) {
    push_known(
        out,
        entries,
        key,
        verdicts::of_static_name(key),
        rank,
        render,
    );
}

/// [`push_field`] for a key whose [`Known`] the caller has.
#[inline]
pub(crate) fn push_known(
    out: &mut Vec<u8>,
    entries: &mut Vec<Entry>,
    key: &'static str,
    known: Known,
    rank: u32,
    render: impl FnOnce(&mut Vec<u8>, Verdict),
) {
    let start = out.len();
    write_key(out, key, known.plain);
    let value_at = (out.len() - start) as u32;
    render(out, known.verdict);
    entries.push(Entry {
        key,
        prefix: known.prefix,
        leading: known.leading,
        start: start as u32,
        end: out.len() as u32,
        value_at,
        rank,
    });
}

/// A span's fields, rendered when the span is created or recorded.
#[derive(Debug)]
pub(crate) struct SpanFields {
    pub buffer: Vec<u8>,
    pub entries: Vec<Entry>,
    /// Bytes of `buffer` no entry points at any more (re-recorded fields).
    dead: usize,
    /// The values the span opened with, kept as they came until a line
    /// needs them rendered (most spans of a sampled function never do).
    captured: Captured,
}

impl Default for SpanFields {
    /// Room for a typical span's fields without growing.
    fn default() -> Self {
        SpanFields {
            buffer: Vec::with_capacity(192),
            entries: Vec::with_capacity(12),
            dead: 0,
            captured: Captured::default(),
        }
    }
}

/// A new span's field values, copied as the span's `ValueSet` gave them:
/// texts and numbers as they are, a `Debug` value formatted (it cannot be
/// kept), a secret-named `Debug` value not formatted at all, as rendering
/// would not format it. Replayed into the renderer when first needed, so
/// the fragments are what rendering at once would have written.
#[derive(Debug, Default)]
struct Captured {
    /// The span's call site; `None`: nothing captured (or rendered).
    meta: Option<&'static tracing::Metadata<'static>>,
    values: Vec<(Field, Raw)>,
    text: String,
}

#[derive(Debug)]
enum Raw {
    F64(f64),
    I64(i64),
    U64(u64),
    Bool(bool),
    /// A text, `text[start..end]`.
    Str(u32, u32),
    /// A `Debug` value's formatting, `text[start..end]`.
    Debug(u32, u32),
    /// A secret-named `Debug` value: never formatted.
    Secret,
}

/// A formatted `Debug` value handed back to a visitor as itself.
struct Verbatim<'a>(&'a str);

impl fmt::Debug for Verbatim<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

struct Capture<'a>(&'a mut Captured);

impl Capture<'_> {
    fn text(&mut self, field: &Field, write: impl FnOnce(&mut String), raw: fn(u32, u32) -> Raw) {
        let start = self.0.text.len() as u32;
        write(&mut self.0.text);
        let end = self.0.text.len() as u32;
        self.0.values.push((field.clone(), raw(start, end)));
    }
}

impl Visit for Capture<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.values.push((field.clone(), Raw::F64(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.values.push((field.clone(), Raw::I64(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.values.push((field.clone(), Raw::U64(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.values.push((field.clone(), Raw::Bool(value)));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, |text| text.push_str(value), Raw::Str);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // The renderer's rule: a secret-named `Debug` value is not formatted.
        let name = field.name();
        let key = name.strip_prefix("r#").unwrap_or(name);
        if verdicts::of_static_name(key).verdict == Verdict::Secret {
            self.0.values.push((field.clone(), Raw::Secret));
            return;
        }
        self.text(
            field,
            |text| {
                let _ = write!(text, "{value:?}");
            },
            Raw::Debug,
        );
    }
}

impl Captured {
    fn replay(&self, visitor: &mut dyn Visit) {
        let text = |start: u32, end: u32| &self.text[start as usize..end as usize];
        for (field, raw) in &self.values {
            match *raw {
                Raw::F64(value) => visitor.record_f64(field, value),
                Raw::I64(value) => visitor.record_i64(field, value),
                Raw::U64(value) => visitor.record_u64(field, value),
                Raw::Bool(value) => visitor.record_bool(field, value),
                Raw::Str(start, end) => visitor.record_str(field, text(start, end)),
                Raw::Debug(start, end) => visitor.record_debug(field, &Verbatim(text(start, end))),
                Raw::Secret => visitor.record_debug(field, &Verbatim("")),
            }
        }
    }

    fn clear(&mut self) {
        self.meta = None;
        self.values.clear();
        self.text.clear();
    }
}

impl SpanFields {
    /// Keeps a new span's values for rendering when a line needs them.
    pub(crate) fn capture(&mut self, attrs: &tracing::span::Attributes<'_>) {
        self.captured.clear();
        self.captured.meta = Some(attrs.metadata());
        attrs.record(&mut Capture(&mut self.captured));
    }

    /// Whether the captured values still wait to be rendered.
    pub(crate) fn is_captured(&self) -> bool {
        self.captured.meta.is_some()
    }

    /// Renders the captured values (see [`SpanFields::capture`]), once.
    pub(crate) fn render_captured(&mut self, text: &mut String) {
        let Some(meta) = self.captured.meta else {
            return;
        };
        let mut captured = std::mem::take(&mut self.captured);
        super::template::record_new_span(self, text, meta, &|visitor| captured.replay(visitor));
        captured.clear();
        self.captured = captured;
    }
}

impl SpanFields {
    /// Drops the bytes of replaced values once they outweigh the live ones.
    fn compact(&mut self) {
        if self.dead <= 256 || self.dead * 2 <= self.buffer.len() {
            return;
        }
        let mut buffer = Vec::with_capacity(self.buffer.len() - self.dead);
        for entry in &mut self.entries {
            let start = buffer.len() as u32;
            buffer.extend_from_slice(entry.bytes(&self.buffer));
            entry.end = buffer.len() as u32;
            entry.start = start;
        }
        self.buffer = buffer;
        self.dead = 0;
    }
}

/// Span buffers kept per thread for the next spans (a span's buffers
/// would otherwise be allocated and freed on every call).
const POOL_LIMIT: usize = 64;

thread_local! {
    static POOL: std::cell::RefCell<Vec<SpanFields>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Empty span buffers, reused if this thread has some.
pub(crate) fn pooled() -> SpanFields {
    POOL.try_with(|pool| pool.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Gives a closed span's buffers back to this thread's pool.
pub(crate) fn recycle(mut fields: SpanFields) {
    // Buffers grown by an unusual span are not kept.
    if fields.buffer.capacity() > 4096 || fields.entries.capacity() > 64 {
        return;
    }
    fields.buffer.clear();
    fields.entries.clear();
    fields.dead = 0;
    fields.captured.clear();
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < POOL_LIMIT {
            pool.push(fields);
        }
    });
}

pub(super) fn write_text(out: &mut Vec<u8>, verdict: Verdict, text: &str) {
    match verdict {
        Verdict::Trusted => write_str(out, text),
        Verdict::Secret => write_str(out, REDACTED),
        Verdict::Scrub => write_scrubbed_json(out, text),
    }
}

/// A float: a secret-named one as `[REDACTED]` when finite; a float is
/// never a card number; NaN and infinities are `null` (as serde_json
/// writes them).
pub(super) fn write_f64(out: &mut Vec<u8>, verdict: Verdict, value: f64) {
    if verdict == Verdict::Secret && value.is_finite() {
        write_str(out, REDACTED);
    } else {
        let _ = serde_json::to_writer(&mut *out, &value);
    }
}

pub(super) fn write_bool(out: &mut Vec<u8>, verdict: Verdict, value: bool) {
    if verdict == Verdict::Secret {
        write_str(out, REDACTED);
    } else {
        out.extend_from_slice(if value { b"true" } else { b"false" });
    }
}

/// An integer, written by `write`; 13 or more characters (sign included)
/// may be a card number, and go through `scrub`.
pub(super) fn write_integer(out: &mut Vec<u8>, verdict: Verdict, write: impl FnOnce(&mut Vec<u8>)) {
    if verdict == Verdict::Secret {
        return write_str(out, REDACTED);
    }
    let start = out.len();
    write(out);
    if verdict == Verdict::Scrub && out.len() - start >= 13 {
        let digits = std::str::from_utf8(&out[start..]).unwrap_or_default();
        if matches!(scrub(digits), std::borrow::Cow::Owned(_)) {
            out.truncate(start);
            write_str(out, REDACTED);
        }
    }
}

/// Renders the fields of one span or event into `out`, appending an
/// [`Entry`] per field.
pub(crate) struct FieldWriter<'a> {
    pub out: &'a mut Vec<u8>,
    pub entries: &'a mut Vec<Entry>,
    /// Reused for `Debug` text.
    pub text: &'a mut String,
    pub rank: u32,
    /// Span fields drop a `r#` prefix of `Debug` values (as json-subscriber
    /// did); event fields keep it.
    pub span: bool,
}

impl FieldWriter<'_> {
    fn field(
        &mut self,
        key: &'static str,
        render: impl FnOnce(&mut Vec<u8>, Verdict, &mut String),
    ) {
        let text = &mut *self.text;
        let key = recorded_key(key);
        push_field(self.out, self.entries, key, self.rank, |out, verdict| {
            render(out, verdict, text)
        });
    }
}

/// The key a recorded field is written under. A field named like one of
/// the keys the line's own metadata is written under goes under
/// `fields.<name>`: it can neither replace the line's time, level, target
/// or ids nor pose as them, and it is scrubbed like any field.
#[inline]
pub(crate) fn recorded_key(key: &'static str) -> &'static str {
    // Most names start with another letter: one comparison.
    if !matches!(key.as_bytes().first(), Some(b't' | b'l' | b's')) {
        return key;
    }
    match key {
        "timestamp" => "fields.timestamp",
        "level" => "fields.level",
        "target" => "fields.target",
        "trace_id" => "fields.trace_id",
        "span_id" => "fields.span_id",
        _ => key,
    }
}

impl Visit for FieldWriter<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field.name(), |out, verdict, _| {
            write_f64(out, verdict, value)
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field.name(), |out, verdict, _| {
            write_integer(out, verdict, |out| json::write_i64(out, value))
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field.name(), |out, verdict, _| {
            write_integer(out, verdict, |out| json::write_u64(out, value))
        });
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field.name(), |out, verdict, _| {
            write_bool(out, verdict, value)
        });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field.name(), |out, verdict, _| {
            write_text(out, verdict, value)
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let name = field.name();
        let key = match name.strip_prefix("r#") {
            Some(stripped) if self.span => stripped,
            _ => name,
        };
        self.field(key, |out, verdict, text| {
            if verdict == Verdict::Secret {
                // No need to format what is not written.
                return write_str(out, REDACTED);
            }
            text.clear();
            let _ = write!(text, "{value:?}");
            write_text(out, verdict, text);
        });
    }
}

/// Records `values` into a span's fields; a field recorded again replaces
/// its earlier value.
pub(crate) fn record_span(
    fields: &mut SpanFields,
    text: &mut String,
    values: &dyn Fn(&mut dyn Visit),
) {
    let first_new = fields.entries.len();
    values(&mut FieldWriter {
        out: &mut fields.buffer,
        entries: &mut fields.entries,
        text,
        rank: 0,
        span: true,
    });
    // Keep one entry per key: a new value replaces an old one in place.
    let mut index = first_new;
    while index < fields.entries.len() {
        let new = fields.entries[index];
        match fields.entries[..first_new]
            .iter()
            .position(|e| e.key == new.key)
        {
            Some(old) => {
                fields.dead += (fields.entries[old].end - fields.entries[old].start) as usize;
                fields.entries[old] = new;
                fields.entries.remove(index);
            }
            None => index += 1,
        }
    }
    fields.compact();
}

/// Sets a span's `name` field to an already rendered `name` fragment (see
/// [`set_span_name`]).
pub(super) fn replace_name(fields: &mut SpanFields, entry: Entry, fragment: &[u8]) {
    if let Some(old) = fields.entries.iter().position(|e| e.key == "name") {
        let old = fields.entries.remove(old);
        fields.dead += (old.end - old.start) as usize;
    }
    let start = fields.buffer.len() as u32;
    fields.buffer.extend_from_slice(fragment);
    fields.entries.push(Entry {
        start,
        end: start + (entry.end - entry.start),
        ..entry
    });
}

/// Sets a span's `name` field to the span's name, as json-subscriber did
/// (after the attributes: it wins over a field called `name` until that
/// field is recorded again).
pub(crate) fn set_span_name(fields: &mut SpanFields, name: &'static str) {
    if let Some(old) = fields.entries.iter().position(|e| e.key == "name") {
        let old = fields.entries.remove(old);
        fields.dead += (old.end - old.start) as usize;
    }
    push_field(
        &mut fields.buffer,
        &mut fields.entries,
        "name",
        0,
        |out, verdict| write_text(out, verdict, name),
    );
}
