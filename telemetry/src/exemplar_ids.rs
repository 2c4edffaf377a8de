//! The trace and span ids an exemplar carries, kept in thread-locals so
//! the metrics recorder reads them with two `Cell` loads instead of
//! looking a span up per sample.
//!
//! The span bridge (`traces::bridge`), which keeps the stack of entered
//! spans, calls [`set`] on every enter and exit. `#[observe]` records
//! its metrics right after its span exits (the span is exited before the
//! completion is classified), so the recorder also keeps the ids of the
//! span that has just exited on this thread, cleared by the next enter.

use std::cell::Cell;

/// A trace id, a span id and whether the trace was sampled for export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ids {
    pub trace: u128,
    pub span: u64,
    pub sampled: bool,
}

impl Ids {
    pub const NONE: Ids = Ids {
        trace: 0,
        span: 0,
        sampled: false,
    };

    pub fn is_some(&self) -> bool {
        self.trace != 0
    }
}

thread_local! {
    static CURRENT: Cell<Ids> = const { Cell::new(Ids::NONE) };
    static JUST_EXITED: Cell<Ids> = const { Cell::new(Ids::NONE) };
}

/// The ids of the span entered on this thread (none outside spans).
#[inline]
pub(crate) fn current() -> Ids {
    CURRENT.with(Cell::get)
}

/// The ids of the span that has just exited on this thread if no span was
/// entered since, else the current span's: where `#[observe]` records.
#[inline]
pub(crate) fn just_exited_or_current() -> Ids {
    let exited = JUST_EXITED.with(Cell::get);
    if exited.is_some() { exited } else { current() }
}

/// Sets the ids of the span now entered on this thread and of the span
/// that has just exited (`Ids::NONE` for none).
#[inline]
pub(crate) fn set(current: Ids, just_exited: Ids) {
    CURRENT.with(|slot| slot.set(current));
    JUST_EXITED.with(|slot| slot.set(just_exited));
}

#[cfg(test)]
pub(crate) fn set_for_test(ids: Ids) {
    CURRENT.with(|current| current.set(ids));
    JUST_EXITED.with(|slot| slot.set(Ids::NONE));
}
