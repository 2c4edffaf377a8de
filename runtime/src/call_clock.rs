//! The two clock readings of an observed call, lent to the `tracing` layer
//! that opens, enters and closes its span (observe's bridge to
//! OpenTelemetry), so that a synchronous call reads the clock twice, not
//! five times, and its span starts and ends at the instants its latency is
//! measured between (its body counts as entered from the call's start).
//! A read costs about 28 ns on the CI machine: a tenth of a call whose
//! line is sampled out went to the clock.
//!
//! A reading is lent only around the one `tracing` call it is for (the
//! span's creation, the enter that starts its body, the exit that ends
//! it), tagged with what it is for (the span's metadata, the span's id),
//! and taken at most once; a layer that finds none reads the clock itself.

use std::cell::Cell;
use std::time::Instant;

use tracing::Metadata;
use tracing::span::Id;

thread_local! {
    /// The call's start, for the span of this metadata being created.
    static OPENING: Cell<Option<(usize, Instant)>> = const { Cell::new(None) };
    /// The call's start or end, for the enter or the exit of this span's
    /// body (never both at once: each is lent around its own call).
    static BODY_EDGE: Cell<Option<(u64, Instant)>> = const { Cell::new(None) };
}

type Lent<K> = std::thread::LocalKey<Cell<Option<(K, Instant)>>>;

/// Clears a lent reading however the call it was lent for ends.
struct Lending<K: Copy + 'static>(&'static Lent<K>);

impl<K: Copy + 'static> Drop for Lending<K> {
    fn drop(&mut self) {
        let _ = self.0.try_with(|cell| cell.set(None));
    }
}

/// Runs `f` with `at` lent in `slot` for `key`.
fn lend<K: Copy + 'static, R>(
    slot: &'static Lent<K>,
    key: K,
    at: Instant,
    f: impl FnOnce() -> R,
) -> R {
    let _lending = Lending(slot);
    let _ = slot.try_with(|cell| cell.set(Some((key, at))));
    f()
}

/// The reading lent in `slot` for `key`, taken.
fn take<K: Copy + PartialEq + 'static>(slot: &'static Lent<K>, key: K) -> Option<Instant> {
    slot.try_with(|cell| match cell.get() {
        Some((lent, at)) if lent == key => {
            cell.set(None);
            Some(at)
        }
        _ => None,
    })
    .ok()
    .flatten()
}

/// Runs `f` (which creates the span of `metadata`) with `at` lent as the
/// span's opening.
pub(crate) fn lend_opening<R>(
    metadata: &'static Metadata<'static>,
    at: Instant,
    f: impl FnOnce() -> R,
) -> R {
    lend(&OPENING, std::ptr::from_ref(metadata) as usize, at, f)
}

/// Runs `f` (which enters span `id` for the call's body) with `at` lent
/// as the instant the body was entered.
pub(crate) fn lend_entering<R>(id: &Id, at: Instant, f: impl FnOnce() -> R) -> R {
    lend(&BODY_EDGE, id.into_u64(), at, f)
}

/// Runs `f` (which exits span `id`) with `at` lent as the span's end.
pub(crate) fn lend_closing<R>(id: &Id, at: Instant, f: impl FnOnce() -> R) -> R {
    lend(&BODY_EDGE, id.into_u64(), at, f)
}

/// The observed call's start, when the span of `metadata` being created
/// is that call's; taken, so asked once.
pub fn opening_of(metadata: &'static Metadata<'static>) -> Option<Instant> {
    take(&OPENING, std::ptr::from_ref(metadata) as usize)
}

/// The observed call's start, when the enter of span `id` is the one that
/// starts its body; taken, so asked once.
pub fn entering_of(id: &Id) -> Option<Instant> {
    take(&BODY_EDGE, id.into_u64())
}

/// The observed call's end, when the exit of span `id` is the one that
/// ends its body; taken, so asked once.
pub fn closing_of(id: &Id) -> Option<Instant> {
    take(&BODY_EDGE, id.into_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_taken_once_and_only_for_what_it_was_lent_for() {
        struct Site;
        impl tracing::Callsite for Site {
            fn set_interest(&self, _: tracing::subscriber::Interest) {}
            fn metadata(&self) -> &Metadata<'_> {
                &META
            }
        }
        static SITE: Site = Site;
        static META: Metadata<'static> = Metadata::new(
            "lent",
            "call_clock",
            tracing::Level::INFO,
            None,
            None,
            None,
            tracing::field::FieldSet::new(&[], tracing_core::identify_callsite!(&SITE)),
            tracing::metadata::Kind::SPAN,
        );
        let meta: &'static Metadata<'static> = &META;
        let at = Instant::now();
        lend_opening(meta, at, || {
            assert_eq!(opening_of(meta), Some(at));
            assert_eq!(opening_of(meta), None, "taken once");
        });
        let id = Id::from_u64(7);
        lend_entering(&id, at, || {
            assert_eq!(closing_of(&Id::from_u64(8)), None, "another span's");
            assert_eq!(entering_of(&id), Some(at));
            assert_eq!(entering_of(&id), None, "taken once");
        });
        assert_eq!(entering_of(&id), None, "not after the lending");
        lend_closing(&id, at, || {
            assert_eq!(closing_of(&Id::from_u64(8)), None, "another span's exit");
            assert_eq!(closing_of(&id), Some(at));
        });
        assert_eq!(closing_of(&id), None, "not after the lending");
    }
}
