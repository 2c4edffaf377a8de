//! The trace and span ids an exemplar carries, kept in thread-locals so
//! the metrics recorder reads them with two `Cell` loads instead of
//! looking a span up per sample.
//!
//! The span bridge (`traces::bridge`) calls [`entered`] with a span's ids
//! when it enters it and [`exited`] when it exits it. `#[observe]` records
//! its metrics right after its span exits (the span is exited before the
//! completion is classified), so the recorder also keeps the ids of the
//! span that has just exited on this thread, cleared by the next enter.

use std::cell::{Cell, RefCell};

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
    static STACK: RefCell<Vec<Ids>> = const { RefCell::new(Vec::new()) };
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

/// A span was entered on this thread (`Ids::NONE` for one the bridge
/// does not record).
pub(crate) fn entered(ids: Ids) {
    STACK.with(|stack| stack.borrow_mut().push(ids));
    CURRENT.with(|current| current.set(ids));
    JUST_EXITED.with(|exited| exited.set(Ids::NONE));
}

/// The span entered last on this thread was exited.
pub(crate) fn exited() {
    let (exited, parent) = STACK.with(|stack| {
        let mut stack = stack.borrow_mut();
        let exited = stack.pop().unwrap_or(Ids::NONE);
        (exited, stack.last().copied().unwrap_or(Ids::NONE))
    });
    CURRENT.with(|current| current.set(parent));
    JUST_EXITED.with(|slot| slot.set(exited));
}

#[cfg(test)]
pub(crate) fn set_for_test(ids: Ids) {
    CURRENT.with(|current| current.set(ids));
    JUST_EXITED.with(|slot| slot.set(Ids::NONE));
}
