//! A span call site whose name is known only at run time.
//!
//! An attribute on a method cannot see the `impl` it sits in, so the
//! `Type::method` name of a method annotated on its own is read from `Self`
//! when it is first called. `tracing`'s `span!` needs its name at compile
//! time; this call site builds its `Metadata` once, at first use, with that
//! name, then registers itself like the call sites `span!` declares, so
//! filtering and interest caching work the same.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Once, OnceLock};

use tracing::level_filters::LevelFilter;
use tracing::{Level, Metadata};
use tracing_core::callsite::{self, Callsite};
use tracing_core::field::FieldSet;
use tracing_core::metadata::Kind;
use tracing_core::subscriber::Interest;

const NEVER: u8 = 0;
const SOMETIMES: u8 = 1;
const ALWAYS: u8 = 2;
const UNKNOWN: u8 = 3;

/// The static generated code declares for a run-time-named span.
pub struct SpanCallsite {
    level: Level,
    target: &'static str,
    file: &'static str,
    line: u32,
    field_names: &'static [&'static str],
    metadata: OnceLock<Metadata<'static>>,
    registration: Once,
    interest: AtomicU8,
}

impl SpanCallsite {
    /// A call site; usable in a `static`.
    pub const fn new(
        level: Level,
        target: &'static str,
        file: &'static str,
        line: u32,
        field_names: &'static [&'static str],
    ) -> Self {
        SpanCallsite {
            level,
            target,
            file,
            line,
            field_names,
            metadata: OnceLock::new(),
            registration: Once::new(),
            interest: AtomicU8::new(UNKNOWN),
        }
    }

    /// The span's metadata, named `name` (only the first call's name is
    /// used), when the current subscriber wants the span.
    #[inline]
    pub fn enabled_metadata(
        &'static self,
        name: &'static str,
    ) -> Option<&'static Metadata<'static>> {
        if self.level > LevelFilter::current() {
            return None;
        }
        let metadata = self.metadata.get_or_init(|| {
            Metadata::new(
                name,
                self.target,
                self.level,
                Some(self.file),
                Some(self.line),
                Some(self.target),
                FieldSet::new(self.field_names, tracing_core::identify_callsite!(self)),
                Kind::SPAN,
            )
        });
        self.registration.call_once(|| callsite::register(self));
        match self.interest.load(Ordering::Relaxed) {
            NEVER => None,
            ALWAYS => Some(metadata),
            _ => tracing::dispatcher::get_default(|dispatch| dispatch.enabled(metadata))
                .then_some(metadata),
        }
    }
}

impl Callsite for SpanCallsite {
    fn set_interest(&self, interest: Interest) {
        let value = if interest.is_never() {
            NEVER
        } else if interest.is_always() {
            ALWAYS
        } else {
            SOMETIMES
        };
        self.interest.store(value, Ordering::Relaxed);
    }

    fn metadata(&self) -> &Metadata<'_> {
        self.metadata
            .get()
            .expect("initialised before registration")
    }
}
