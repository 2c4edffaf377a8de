//! Keeping secrets out of telemetry: the `Sensitive<T>` wrapper, and the
//! scrubber every recorded text passes through before it reaches a span or
//! an event (where every layer, including exporters, would see it).
//!
//! - [`scrub`](scrub()) masks secrets in free text (one pass, borrowed when
//!   nothing is masked);
//! - [`debug_text`] / [`display_text`] format a value up to a cap, scrub it
//!   and cut it to [`MAX_TEXT_LEN`] without keeping a partial secret at the
//!   cut ([`truncate`]);
//! - [`is_card_number`] tells whether an integer holds a card number.

mod formats;
mod keyed;
mod numbers;
mod scrub;
mod truncate;

#[cfg(test)]
mod tests;

use std::fmt;

pub use numbers::is_card_number;
pub use scrub::scrub;
pub use truncate::truncate;

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// The longest text recorded for one value, in bytes; longer text is cut
/// at a character boundary and ends with `…`.
pub const MAX_TEXT_LEN: usize = 512;

/// How much of a value is formatted before scrubbing, in bytes: a huge
/// value is never formatted whole, and the scrubber sees well past the
/// point where the recorded text is cut.
pub const FORMAT_CAP: usize = 4 * MAX_TEXT_LEN;

/// A value that must never appear in telemetry: its `Debug` and `Display`
/// print `[REDACTED]`. Read it with [`Sensitive::expose`].
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wraps a secret.
    pub const fn new(value: T) -> Self {
        Sensitive(value)
    }

    /// The secret itself, for the code that needs it.
    pub const fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Sensitive(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Formats `value` with `Debug`, scrubbed and cut to [`MAX_TEXT_LEN`].
pub fn debug_text<T: fmt::Debug + ?Sized>(value: &T) -> String {
    truncate::capped(format_args!("{value:?}"))
}

/// Formats `value` with `Display`, scrubbed and cut to [`MAX_TEXT_LEN`].
pub fn display_text<T: fmt::Display + ?Sized>(value: &T) -> String {
    truncate::capped(format_args!("{value}"))
}
