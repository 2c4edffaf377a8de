//! The label values of one call: read once at entry from `labels(...)`,
//! folded into the type's declared values, and numbered so the call site
//! can find the cached handles of their combination.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::label::{Label, OTHER};

/// The most `labels(...)` one function may have (checked at compile time).
pub use observe_attr::MAX_LABELS;

/// One label's value, its index among the values its type can produce, and
/// how many values that is.
#[derive(Clone, Copy, Debug)]
pub struct LabelPart {
    value: &'static str,
    index: usize,
    cardinality: usize,
}

impl LabelPart {
    /// The label of an expression that panicked.
    const UNKNOWN: LabelPart = LabelPart {
        value: OTHER,
        index: 0,
        cardinality: 1,
    };

    /// A string-literal label: one value.
    pub const fn literal(value: &'static str) -> Self {
        LabelPart {
            value,
            index: 0,
            cardinality: 1,
        }
    }

    /// The label at `index` of a type's `values` (named `type_name`), or
    /// [`OTHER`] when the index is not one of them.
    #[inline]
    pub fn from_index(
        index: usize,
        values: &'static [&'static str],
        type_name: &'static str,
    ) -> Self {
        match values.get(index) {
            Some(text) => LabelPart {
                value: text,
                index,
                cardinality: values.len() + 1,
            },
            None => {
                warn_other(type_name);
                LabelPart {
                    value: OTHER,
                    index: values.len(),
                    cardinality: values.len() + 1,
                }
            }
        }
    }

    /// The label of `value`. The recorded text is always one of the type's
    /// `VALUES`, or [`OTHER`]: never what an implementation builds at run
    /// time, so the series stay those the budget counted.
    #[inline]
    pub fn of<L: Label + ?Sized>(value: &L) -> Self {
        // A panicking hand-written `label_index` must not reach the call.
        let index = crate::probe::guarded(|| usize::MAX, || value.label_index());
        LabelPart::from_index(index, L::VALUES, std::any::type_name::<L>())
    }

    /// Evaluates a label expression that may run user code (a method
    /// call): a panic there records the label as [`OTHER`].
    #[inline]
    pub fn guarded(f: impl FnOnce() -> LabelPart) -> Self {
        crate::probe::guarded(|| LabelPart::UNKNOWN, f)
    }

    /// The recorded text.
    pub fn value(&self) -> &'static str {
        self.value
    }
}

#[cold]
fn warn_other(type_name: &'static str) {
    static WARNED: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned.get_or_insert_with(HashSet::new).insert(type_name) {
        tracing::warn!(
            target: "observe",
            label_type = type_name,
            "a label value of `{type_name}` is not one of its `Label::VALUES`; it is recorded as \
             \"other\" (check its `label()` implementation)"
        );
    }
}

/// The label values of one call.
#[derive(Clone, Copy, Debug)]
pub struct LabelSet {
    values: [&'static str; MAX_LABELS],
    len: usize,
    combo: usize,
    combos: usize,
}

impl LabelSet {
    /// No labels.
    pub const EMPTY: LabelSet = LabelSet {
        values: [""; MAX_LABELS],
        len: 0,
        combo: 0,
        combos: 1,
    };

    /// The set of `parts`, in `labels(...)` order.
    #[inline]
    pub fn new(parts: &[LabelPart]) -> Self {
        let mut set = LabelSet::EMPTY;
        for part in parts.iter().take(MAX_LABELS) {
            set.values[set.len] = part.value;
            set.len += 1;
            set.combo = set.combo * part.cardinality + part.index;
            set.combos = set.combos.saturating_mul(part.cardinality);
        }
        set
    }

    /// Evaluates a generic function's label expressions: a panic there
    /// records every label as [`OTHER`].
    #[inline]
    pub fn guarded_set(f: impl FnOnce() -> LabelSet) -> Self {
        crate::probe::guarded(|| LabelSet::new(&[LabelPart::UNKNOWN]), f)
    }

    /// The values, in order.
    pub fn values(&self) -> &[&'static str] {
        &self.values[..self.len]
    }

    /// The index of this combination among all `combos()`.
    pub fn combo(&self) -> usize {
        self.combo
    }

    /// How many combinations the label types allow.
    pub fn combos(&self) -> usize {
        self.combos
    }

    /// Whether both hold the same values (the same static strings).
    pub(crate) fn same_values(&self, other: &LabelSet) -> bool {
        self.len == other.len
            && self
                .values()
                .iter()
                .zip(other.values())
                .all(|(a, b)| std::ptr::eq(*a, *b) || a == b)
    }
}
