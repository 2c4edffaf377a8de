//! A new span's fields, rendered once per call site and value, per thread.
//!
//! The spans of one call site carry the same fields and mostly the same
//! texts (the flow, the function, the module, the labels). The last span
//! of each call site leaves behind, per text field (`str` or `Debug`), the
//! text it had and the fragment it was rendered to; the next span of that
//! call site copies the fragment when its text is the same, and renders
//! (and leaves behind) only the texts that changed. Rendering is a pure
//! function of the key and the text, so a copied fragment is what
//! rendering would write. Numbers and booleans are cheap to render and
//! are rendered every time.
//!
//! Only what the line shows anyway is kept: a value kept with its fragment
//! is one that was written as it is (nothing redacted); a secret-named
//! field keeps no value at all (its fragment, `[REDACTED]`, does not
//! depend on it); a value redaction changed is rendered every time.

use std::cell::RefCell;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};

use super::fields::{self, Entry, SpanFields, push_field, write_integer, write_text};
use super::json::{self, write_str};
use crate::verdicts::{self, Verdict};

/// Call sites kept per thread (direct-mapped by the metadata's address).
const SLOTS: usize = 64;

/// One field of the last span of a call site.
#[derive(Default)]
struct Kept {
    /// Its entry (`start` 0 in `fragment`); `None`: rendered every time.
    entry: Option<Entry>,
    /// A secret-named field: its fragment holds no value, none is kept.
    secret: bool,
    /// The text it was rendered from.
    text: Vec<u8>,
    fragment: Vec<u8>,
}

#[derive(Default)]
struct Template {
    /// The call site's metadata address (0: empty).
    meta: usize,
    /// By field index.
    fields: Vec<Kept>,
    /// The span's `name` fragment (its name is its call site's).
    name: Option<(Entry, Vec<u8>)>,
    /// Room for the plain rendering of a value, to compare.
    plain: Vec<u8>,
}

thread_local! {
    static TEMPLATES: RefCell<Vec<Template>> = const { RefCell::new(Vec::new()) };
}

/// Renders a new span's fields and its `name` into `fields`, copying what
/// the last span of the same call site left behind where the values are
/// the same.
pub(crate) fn record_new_span(
    fields: &mut SpanFields,
    text: &mut String,
    meta: &'static tracing::Metadata<'static>,
    record: &dyn Fn(&mut dyn Visit),
) {
    let address = meta as *const tracing::Metadata<'static> as usize;
    let slot = ((address as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize % SLOTS;
    let done = TEMPLATES.try_with(|templates| {
        let Ok(mut templates) = templates.try_borrow_mut() else {
            return false;
        };
        if templates.is_empty() {
            templates.resize_with(SLOTS, Template::default);
        }
        let template = &mut templates[slot];
        if template.meta != address {
            template.meta = address;
            template.fields.clear();
            template.name = None;
        }
        record(&mut Reusing {
            out: &mut fields.buffer,
            entries: &mut fields.entries,
            text: &mut *text,
            kept: &mut template.fields,
            plain: &mut template.plain,
        });
        let (entry, fragment) = template.name.get_or_insert_with(|| {
            let mut fragment = Vec::new();
            let mut entries = Vec::with_capacity(1);
            push_field(&mut fragment, &mut entries, "name", 0, |out, verdict| {
                write_text(out, verdict, meta.name())
            });
            (entries[0], fragment)
        });
        fields::replace_name(fields, *entry, fragment);
        true
    });
    if done != Ok(true) {
        // During thread teardown, or re-entered.
        fields::record_span(fields, text, record);
        fields::set_span_name(fields, meta.name());
    }
}

/// Writes a span's fields, from the call site's kept fragments where it can.
struct Reusing<'a> {
    out: &'a mut Vec<u8>,
    entries: &'a mut Vec<Entry>,
    text: &'a mut String,
    kept: &'a mut Vec<Kept>,
    plain: &'a mut Vec<u8>,
}

impl Reusing<'_> {
    /// Copies field `index`'s kept fragment if it was kept for this key
    /// and text.
    fn reuse(&mut self, index: usize, key: &'static str, text: &[u8]) -> bool {
        let Some(kept) = self.kept.get(index) else {
            return false;
        };
        let Some(entry) = kept.entry else {
            return false;
        };
        // The same call site has the same key at an index; checked anyway.
        if !std::ptr::eq(entry.key, key) || (!kept.secret && kept.text.as_slice() != text) {
            return false;
        }
        let start = self.out.len() as u32;
        self.out.extend_from_slice(&kept.fragment);
        self.entries.push(Entry {
            start,
            end: start + entry.end,
            ..entry
        });
        true
    }

    /// Whether field `index` was kept as secret (its value is not needed).
    fn kept_secret(&self, index: usize) -> bool {
        self.kept
            .get(index)
            .is_some_and(|kept| kept.secret && kept.entry.is_some())
    }

    /// Renders text field `index` and keeps its fragment when the text was
    /// written as it is or the key is secret (the fragment then does not
    /// depend on the text).
    fn render(&mut self, index: usize, key: &'static str, text: &str) {
        let at = self.out.len();
        let first = self.entries.len();
        let mut secret = false;
        push_field(self.out, self.entries, key, 0, |out, verdict| {
            secret = verdict == Verdict::Secret;
            write_text(out, verdict, text)
        });
        let entry = self.entries[first];
        let fragment = &self.out[at..];
        let shown = secret || {
            self.plain.clear();
            write_str(self.plain, text);
            *self.plain == fragment[entry.value_at as usize..]
        };
        if self.kept.len() <= index {
            self.kept.resize_with(index + 1, Kept::default);
        }
        let kept = &mut self.kept[index];
        if !shown {
            kept.entry = None;
            return;
        }
        kept.entry = Some(Entry {
            start: 0,
            end: fragment.len() as u32,
            ..entry
        });
        kept.secret = secret;
        kept.text.clear();
        if !secret {
            kept.text.extend_from_slice(text.as_bytes());
        }
        kept.fragment.clear();
        kept.fragment.extend_from_slice(fragment);
    }
}

impl Visit for Reusing<'_> {
    // Numbers and booleans cost little to render and change from call to
    // call (an argument): rendered every time, as `FieldWriter` does.

    fn record_f64(&mut self, field: &Field, value: f64) {
        push_field(
            self.out,
            self.entries,
            fields::recorded_key(field.name()),
            0,
            |out, verdict| fields::write_f64(out, verdict, value),
        );
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        push_field(
            self.out,
            self.entries,
            fields::recorded_key(field.name()),
            0,
            |out, verdict| write_integer(out, verdict, |out| json::write_i64(out, value)),
        );
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        push_field(
            self.out,
            self.entries,
            fields::recorded_key(field.name()),
            0,
            |out, verdict| write_integer(out, verdict, |out| json::write_u64(out, value)),
        );
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        push_field(
            self.out,
            self.entries,
            fields::recorded_key(field.name()),
            0,
            |out, verdict| fields::write_bool(out, verdict, value),
        );
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let index = field.index();
        let key = fields::recorded_key(field.name());
        if !self.reuse(index, key, value.as_bytes()) {
            self.render(index, key, value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let index = field.index();
        // A span's `Debug` field drops a `r#` prefix (as json-subscriber did).
        let name = field.name();
        let key = fields::recorded_key(name.strip_prefix("r#").unwrap_or(name));
        if self.kept_secret(index) && self.reuse(index, key, &[]) {
            return;
        }
        if verdicts::of_static_name(key).verdict == Verdict::Secret {
            // Not formatted: it is not written.
            return self.render(index, key, "");
        }
        let mut text = std::mem::take(self.text);
        text.clear();
        let _ = write!(text, "{value:?}");
        if !self.reuse(index, key, text.as_bytes()) {
            self.render(index, key, &text);
        }
        *self.text = text;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Subscriber;
    use tracing::span::Attributes;
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::registry::LookupSpan;
    use tracing_subscriber::{Layer, Registry};

    /// Renders each new span both ways and compares.
    struct Both(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    fn line(fields: &SpanFields) -> String {
        let mut entries = fields.entries.clone();
        entries.sort_by(Entry::order);
        entries
            .iter()
            .map(|entry| String::from_utf8(entry.bytes(&fields.buffer).to_vec()).unwrap())
            .collect::<Vec<_>>()
            .join(",")
    }

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Both {
        fn on_new_span(&self, attrs: &Attributes<'_>, _: &tracing::Id, _: Context<'_, S>) {
            let mut text = String::new();
            let mut reused = SpanFields::default();
            record_new_span(&mut reused, &mut text, attrs.metadata(), &|visitor| {
                attrs.record(visitor)
            });
            let mut rendered = SpanFields::default();
            fields::record_span(&mut rendered, &mut text, &|visitor| attrs.record(visitor));
            fields::set_span_name(&mut rendered, attrs.metadata().name());
            assert_eq!(line(&reused), line(&rendered));
            // Captured at the span's opening, rendered when a line needs it.
            let mut deferred = SpanFields::default();
            deferred.capture(attrs);
            assert!(deferred.is_captured());
            deferred.render_captured(&mut text);
            assert!(!deferred.is_captured());
            assert_eq!(line(&deferred), line(&rendered));
            self.0.lock().unwrap().push(line(&reused));
        }
    }

    #[test]
    fn copied_fragments_are_what_rendering_writes() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let subscriber = Registry::default().with(Both(seen.clone()));
        tracing::subscriber::with_default(subscriber, || {
            for (round, card) in [(0u64, "none"), (1, "4111 1111 1111 1111"), (1, "none")] {
                let _span = tracing::info_span!(
                    "call",
                    flow = "checkout",
                    round,
                    big = 4111111111111111u64,
                    password = "hunter2",
                    pin = 1234 + round as i64,
                    ok = round == 0,
                    ratio = 0.5 + round as f64,
                    secret_ratio = f64::NAN,
                    note = card,
                    r#type = ?"t",
                    token = ?round,
                    name = "field"
                )
                .entered();
            }
        });
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        assert!(!seen[1].contains("4111 1111"), "{}", seen[1]);
        assert!(seen[2].contains(r#""note":"none""#), "{}", seen[2]);
        assert!(seen.iter().all(|line| !line.contains("hunter2")));
        assert!(
            seen.iter()
                .all(|line| line.contains(r#""big":"[REDACTED]""#))
        );
        assert!(seen.iter().all(|line| line.contains(r#""name":"call""#)));
    }
}
