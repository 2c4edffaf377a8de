//! The `Label` trait: a value with a known, finite set of metric label values.

/// The label value recorded for a [`Label`] value outside its type's
/// [`Label::VALUES`]. Every label type counts one more value than it lists
/// in the cardinality budget, for this one.
pub const OTHER: &str = "other";

/// The number of label values `L` can produce, [`OTHER`] included: what the
/// cardinality budget counts.
pub const fn cardinality<L: Label + ?Sized>() -> usize {
    L::VALUES.len() + 1
}

/// A type whose values form a small, known set, so it can be a metric label.
///
/// Every distinct label value creates a new time series in the metrics
/// store, so only types whose values are all known in advance qualify.
/// Derive it for enums with `#[derive(observe::Label)]`: the label is the
/// variant name in snake_case, overridable with `#[label(rename = "...")]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a metric label value: its values are not a known, bounded set",
    label = "unbounded label value: every distinct value would create new time series",
    note = "use an enum deriving `observe::Label`, a `bool`, or a string literal; \
            or record the value with `fields(...)` instead (span and log fields may have any cardinality)"
)]
pub trait Label {
    /// Every value this type can take as a label, in index order.
    const VALUES: &'static [&'static str];

    /// The label value of `self`; one of [`Label::VALUES`]. A value outside
    /// them is recorded as [`OTHER`] (with a one-time warning), so a
    /// hand-written implementation can never create unbudgeted series.
    fn label(&self) -> &'static str;

    /// The position of [`Label::label`] in [`Label::VALUES`], or
    /// `VALUES.len()` when it is not one of them. The derive implements it
    /// with a `match`; a hand-written `Label` may rely on this default,
    /// which looks the value up.
    fn label_index(&self) -> usize {
        let value = self.label();
        Self::VALUES
            .iter()
            .position(|v| *v == value)
            .unwrap_or(Self::VALUES.len())
    }
}

// A hand-written implementation only needs the values and `label`:
//
//     impl observe::Label for Region {
//         const VALUES: &'static [&'static str] = &["eu", "us"];
//         fn label(&self) -> &'static str { match self { Region::Eu => "eu", Region::Us => "us" } }
//     }

impl Label for bool {
    const VALUES: &'static [&'static str] = &["false", "true"];

    fn label(&self) -> &'static str {
        Self::VALUES[usize::from(*self)]
    }

    fn label_index(&self) -> usize {
        usize::from(*self)
    }
}

impl<T: Label + ?Sized> Label for &T {
    const VALUES: &'static [&'static str] = T::VALUES;

    fn label(&self) -> &'static str {
        (**self).label()
    }

    fn label_index(&self) -> usize {
        (**self).label_index()
    }
}

impl<T: Label + ?Sized> Label for Box<T> {
    const VALUES: &'static [&'static str] = T::VALUES;

    fn label(&self) -> &'static str {
        (**self).label()
    }

    fn label_index(&self) -> usize {
        (**self).label_index()
    }
}
