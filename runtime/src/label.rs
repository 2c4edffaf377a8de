//! The `Label` trait: a value with a known, finite set of metric label values.

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
    /// How many distinct label values the type has.
    const CARDINALITY: usize = Self::VALUES.len();

    /// The label value of `self`; always one of [`Label::VALUES`].
    fn label(&self) -> &'static str;

    /// The position of [`Label::label`] in [`Label::VALUES`]. The derive
    /// implements it with a `match`; a hand-written `Label` may rely on this
    /// default, which looks the value up.
    fn label_index(&self) -> usize {
        let value = self.label();
        Self::VALUES.iter().position(|v| *v == value).unwrap_or(0)
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
