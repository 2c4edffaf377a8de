//! `tracing` call sites whose metadata is built at run time.
//!
//! `span!` and `event!` declare their call sites with a compile-time name
//! and level. Building them here instead keeps the expansion of every
//! annotated function small (one static description, no macro expansion
//! per severity), and lets a method annotated on its own carry the
//! `Type::method` name, known from `Self` only at run time. Each call site
//! builds its `Metadata` once, at first use, then registers itself like the
//! ones `span!` declares, so filtering and interest caching work the same.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Once, OnceLock};

use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::{Level, Metadata};
use tracing_core::callsite::{self, Callsite};
use tracing_core::field::FieldSet;
use tracing_core::metadata::Kind;
use tracing_core::subscriber::Interest;

const NEVER: u8 = 0;
const SOMETIMES: u8 = 1;
const ALWAYS: u8 = 2;
const UNKNOWN: u8 = 3;

/// Where a call site's events or spans come from.
#[derive(Clone, Copy)]
pub(crate) struct Origin {
    pub name: &'static str,
    pub target: &'static str,
    pub file: &'static str,
    pub line: u32,
}

/// A span or event call site with run-time metadata.
pub(crate) struct DynCallsite {
    level: Level,
    kind: Kind,
    fields: &'static [&'static str],
    origin: OnceLock<Origin>,
    metadata: OnceLock<Metadata<'static>>,
    registration: Once,
    interest: AtomicU8,
}

impl DynCallsite {
    pub(crate) const fn new(level: Level, kind: Kind, fields: &'static [&'static str]) -> Self {
        DynCallsite {
            level,
            kind,
            fields,
            origin: OnceLock::new(),
            metadata: OnceLock::new(),
            registration: Once::new(),
            interest: AtomicU8::new(UNKNOWN),
        }
    }

    /// The metadata, when the current subscriber wants this call site.
    /// `origin` is used on the first call only.
    #[inline]
    pub(crate) fn enabled(
        &'static self,
        origin: impl FnOnce() -> Origin,
    ) -> Option<&'static Metadata<'static>> {
        if self.level > STATIC_MAX_LEVEL || self.level > LevelFilter::current() {
            return None;
        }
        let metadata = self.metadata.get_or_init(|| {
            let origin = *self.origin.get_or_init(origin);
            Metadata::new(
                origin.name,
                origin.target,
                self.level,
                Some(origin.file),
                Some(origin.line),
                Some(origin.target),
                FieldSet::new(self.fields, tracing_core::identify_callsite!(self)),
                self.kind.clone(),
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

impl Callsite for DynCallsite {
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
