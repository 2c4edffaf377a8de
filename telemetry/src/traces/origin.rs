//! Where a span or a span event comes from, as tracing-opentelemetry
//! records it: the call site's `code.*` attributes, the thread a span
//! opened on, and its `target`.
//!
//! A span keeps its [`Origin`] and turns it into attributes only when it
//! is exported: most spans end in traces the flight recorder drops unbuilt,
//! and building, then dropping, six attributes per span was about 5% of a
//! sampled-out call (perf).

use std::sync::Arc;

use opentelemetry::{Key, KeyValue, StringValue, Value};
use tracing::Metadata;

/// The attributes of the thread a span opens on, built once per thread
/// (tracing-opentelemetry formats the id and copies the name per span).
#[derive(Clone)]
struct ThreadAttributes {
    id: i64,
    name: Option<Arc<str>>,
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
            id: id as i64,
            name: thread.name().map(Arc::from),
        }
    }
}

thread_local! {
    static THREAD: ThreadAttributes = ThreadAttributes::current();
}

/// The call site's `code.*` attributes, as tracing-opentelemetry sets
/// them on spans and events.
pub(super) fn push_location(meta: &'static Metadata<'static>, attributes: &mut Vec<KeyValue>) {
    if let Some(file) = meta.file() {
        attributes.push(KeyValue::new("code.file.path", file));
    }
    if let Some(module) = meta.module_path() {
        attributes.push(KeyValue::new("code.module.name", module));
    }
    if let Some(line) = meta.line() {
        attributes.push(KeyValue::new("code.line.number", i64::from(line)));
    }
}

/// A span's call site and the thread it opened on.
pub(super) struct Origin {
    meta: &'static Metadata<'static>,
    thread: ThreadAttributes,
}

impl Origin {
    /// The origin of a span of `meta` opening on this thread.
    pub(super) fn here(meta: &'static Metadata<'static>) -> Self {
        let thread = THREAD
            .try_with(ThreadAttributes::clone)
            .unwrap_or_else(|_| ThreadAttributes::current());
        Origin { meta, thread }
    }

    /// The span's name, as its call site gives it.
    pub(super) fn name(&self) -> &'static str {
        self.meta.name()
    }

    /// How many attributes [`Origin::attributes`] gives.
    pub(super) fn len(&self) -> usize {
        let meta = self.meta;
        usize::from(meta.file().is_some())
            + usize::from(meta.module_path().is_some())
            + usize::from(meta.line().is_some())
            + 1 // thread.id
            + usize::from(self.thread.name.is_some())
            + 1 // target
    }

    /// Pushes `code.file.path`, `code.module.name`, `code.line.number`,
    /// `thread.id`, `thread.name` and `target`, in tracing-opentelemetry's
    /// order.
    pub(super) fn push_to(self, attributes: &mut Vec<KeyValue>) {
        push_location(self.meta, attributes);
        attributes.push(KeyValue::new(
            Key::from_static_str("thread.id"),
            self.thread.id,
        ));
        if let Some(name) = self.thread.name {
            let name = Value::String(StringValue::from(name));
            attributes.push(KeyValue::new(Key::from_static_str("thread.name"), name));
        }
        attributes.push(KeyValue::new("target", self.meta.target()));
    }
}
