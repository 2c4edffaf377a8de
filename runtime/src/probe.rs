//! Compile-time dispatch on what a value can do, without requiring bounds
//! on the user's signature ("autoref specialisation").
//!
//! Generated code calls a method on `&&&Probe(&value)` (or fewer `&`).
//! Method lookup tries the receiver type as written first, then with one
//! `&` fewer, and so on, so the impl on the most-referenced probe wins when
//! its bounds hold, and the plainer ones are the fallbacks. This happens
//! at the call site, where the concrete type (or the generic parameter with
//! its declared bounds) is known: an argument whose type is not `Debug`
//! is simply not recorded.

use std::fmt::{Debug, Display};

use crate::label::Label;
use crate::redact::{REDACTED, debug_text, display_text};

/// Wraps a reference to the value being probed.
pub struct Probe<T>(pub T);

/// Values recorded as native span field values, not text.
pub trait NativeValue {
    /// The `tracing` value recorded.
    type Repr: tracing::Value;
    /// The value to record.
    fn native(&self) -> Self::Repr;
}

macro_rules! native {
    ($($ty:ty => $repr:ty),* $(,)?) => {$(
        impl NativeValue for $ty {
            type Repr = $repr;
            fn native(&self) -> $repr {
                *self as $repr
            }
        }
    )*};
}

native!(
    u8 => u64, u16 => u64, u32 => u64, u64 => u64, usize => u64,
    i8 => i64, i16 => i64, i32 => i64, i64 => i64, isize => i64,
    f32 => f64, f64 => f64, u128 => u128, i128 => i128,
);

impl NativeValue for bool {
    type Repr = bool;
    fn native(&self) -> bool {
        *self
    }
}

impl<T: NativeValue + ?Sized> NativeValue for &T {
    type Repr = T::Repr;
    fn native(&self) -> T::Repr {
        (**self).native()
    }
}

impl<T: NativeValue + ?Sized> NativeValue for &mut T {
    type Repr = T::Repr;
    fn native(&self) -> T::Repr {
        (**self).native()
    }
}

/// Text types recorded as their content (not `Debug`-quoted).
pub trait TextValue {
    /// The text.
    fn text(&self) -> &str;
}

impl TextValue for str {
    fn text(&self) -> &str {
        self
    }
}

impl TextValue for String {
    fn text(&self) -> &str {
        self
    }
}

impl TextValue for std::borrow::Cow<'_, str> {
    fn text(&self) -> &str {
        self
    }
}

impl TextValue for Box<str> {
    fn text(&self) -> &str {
        self
    }
}

impl TextValue for std::sync::Arc<str> {
    fn text(&self) -> &str {
        self
    }
}

impl<T: TextValue + ?Sized> TextValue for &T {
    fn text(&self) -> &str {
        (**self).text()
    }
}

impl<T: TextValue + ?Sized> TextValue for &mut T {
    fn text(&self) -> &str {
        (**self).text()
    }
}

/// Scrubbed, truncated text recorded with `Display`.
pub type Text = tracing::field::DisplayValue<String>;

fn text(value: String) -> Text {
    tracing::field::display(value)
}

// ---- recording an argument: native > text > Debug > nothing ----

/// Records a number or `bool` as itself.
pub trait RecordNative {
    /// The recorded value.
    type Out;
    /// What is recorded for this argument.
    fn observe_arg(&self) -> Self::Out;
}

impl<T: NativeValue + ?Sized> RecordNative for &&&Probe<&T> {
    type Out = T::Repr;
    fn observe_arg(&self) -> T::Repr {
        self.0.native()
    }
}

/// Records text content, scrubbed and truncated.
pub trait RecordText {
    /// What is recorded for this argument.
    fn observe_arg(&self) -> Text;
}

impl<T: TextValue + ?Sized> RecordText for &&Probe<&T> {
    fn observe_arg(&self) -> Text {
        text(display_text(self.0.text()))
    }
}

/// Records the `Debug` text, scrubbed and truncated.
pub trait RecordDebug {
    /// What is recorded for this argument.
    fn observe_arg(&self) -> Text;
}

impl<T: Debug + ?Sized> RecordDebug for &Probe<&T> {
    fn observe_arg(&self) -> Text {
        text(debug_text(self.0))
    }
}

/// Records nothing: the type has no `Debug`.
pub trait RecordNothing {
    /// Nothing.
    fn observe_arg(&self) -> Option<u8>;
}

impl<T: ?Sized> RecordNothing for Probe<&T> {
    fn observe_arg(&self) -> Option<u8> {
        None
    }
}

// ---- hashing an argument: Display > Debug > nothing ----

/// Hashes the `Display` text.
pub trait HashDisplay {
    /// The surrogate id.
    fn observe_hash(&self) -> Option<String>;
}

impl<T: Display + ?Sized> HashDisplay for &&Probe<&T> {
    fn observe_hash(&self) -> Option<String> {
        Some(crate::hash::keyed_hash(self.0.to_string().as_bytes()))
    }
}

/// Hashes the `Debug` text.
pub trait HashDebug {
    /// The surrogate id.
    fn observe_hash(&self) -> Option<String>;
}

impl<T: Debug + ?Sized> HashDebug for &Probe<&T> {
    fn observe_hash(&self) -> Option<String> {
        Some(crate::hash::keyed_hash(format!("{:?}", self.0).as_bytes()))
    }
}

/// Hashes nothing: the type has neither `Display` nor `Debug`.
pub trait HashNothing {
    /// Nothing.
    fn observe_hash(&self) -> Option<String>;
}

impl<T: ?Sized> HashNothing for Probe<&T> {
    fn observe_hash(&self) -> Option<String> {
        None
    }
}

/// The recorded form of a hashed argument.
pub fn hashed(hash: Option<String>) -> Option<Text> {
    hash.map(text)
}

/// The recorded form of a redacted argument.
pub const fn redacted() -> &'static str {
    REDACTED
}

// ---- classifying a return value: Result::Err > anything else ----

/// Finds the error in a `Result`.
pub trait ErrorOf<'a> {
    /// The error type.
    type Error: ?Sized;
    /// The error, when the value is `Err`.
    fn observe_error(&self) -> Option<&'a Self::Error>;
}

impl<'a, T, E> ErrorOf<'a> for &Probe<&'a Result<T, E>> {
    type Error = E;
    fn observe_error(&self) -> Option<&'a E> {
        self.0.as_ref().err()
    }
}

/// The stand-in error type of functions that do not return `Result`.
pub enum NotAnError {}

/// Values that are not a `Result` never fail.
pub trait NoErrorOf {
    /// Always `None`.
    fn observe_error(&self) -> Option<&'static NotAnError>;
}

impl<T: ?Sized> NoErrorOf for Probe<&T> {
    fn observe_error(&self) -> Option<&'static NotAnError> {
        None
    }
}

// ---- an error's kind: Label variant > "error" ----

/// The `error_kind` of an error type implementing [`Label`].
pub trait KindByLabel {
    /// The label value.
    fn observe_error_kind(&self) -> &'static str;
}

impl<E: Label + ?Sized> KindByLabel for &Probe<&E> {
    fn observe_error_kind(&self) -> &'static str {
        self.0.label()
    }
}

/// The `error_kind` of every other error type.
pub trait KindDefault {
    /// The documented default, `"error"`.
    fn observe_error_kind(&self) -> &'static str;
}

impl<E: ?Sized> KindDefault for Probe<&E> {
    fn observe_error_kind(&self) -> &'static str {
        DEFAULT_ERROR_KIND
    }
}

/// The `error_kind` of errors whose type does not implement [`Label`].
pub const DEFAULT_ERROR_KIND: &str = "error";

// ---- an error's message: Display > Debug > type name ----

/// The message of a `Display` error.
pub trait MessageDisplay {
    /// Scrubbed, truncated text.
    fn observe_error_message(&self) -> String;
}

impl<E: Display + ?Sized> MessageDisplay for &&Probe<&E> {
    fn observe_error_message(&self) -> String {
        display_text(self.0)
    }
}

/// The message of a `Debug` error.
pub trait MessageDebug {
    /// Scrubbed, truncated text.
    fn observe_error_message(&self) -> String;
}

impl<E: Debug + ?Sized> MessageDebug for &Probe<&E> {
    fn observe_error_message(&self) -> String {
        debug_text(self.0)
    }
}

/// The message of an error with neither: its type name.
pub trait MessageTypeName {
    /// The type name.
    fn observe_error_message(&self) -> String;
}

impl<E: ?Sized> MessageTypeName for Probe<&E> {
    fn observe_error_message(&self) -> String {
        std::any::type_name::<E>().to_string()
    }
}

// ---- a return value for `ret`: text > Debug > nothing ----

/// The `ret` text of a text value.
pub trait ReturnText {
    /// Scrubbed, truncated text.
    fn observe_return(&self) -> Option<String>;
}

impl<T: TextValue + ?Sized> ReturnText for &&Probe<&T> {
    fn observe_return(&self) -> Option<String> {
        Some(display_text(self.0.text()))
    }
}

/// The `ret` text of a `Debug` value.
pub trait ReturnDebug {
    /// Scrubbed, truncated text.
    fn observe_return(&self) -> Option<String>;
}

impl<T: Debug + ?Sized> ReturnDebug for &Probe<&T> {
    fn observe_return(&self) -> Option<String> {
        Some(debug_text(self.0))
    }
}

/// No `ret` text: the type has no `Debug`.
pub trait ReturnNothing {
    /// Nothing.
    fn observe_return(&self) -> Option<String>;
}

impl<T: ?Sized> ReturnNothing for Probe<&T> {
    fn observe_return(&self) -> Option<String> {
        None
    }
}

/// A `fields(key = %expr)` value: scrubbed `Display` text.
pub fn field_display<T: Display + ?Sized>(value: &T) -> Text {
    text(display_text(value))
}

/// A `fields(key = ?expr)` value: scrubbed `Debug` text.
pub fn field_debug<T: Debug + ?Sized>(value: &T) -> Text {
    text(debug_text(value))
}

/// The label value and index of a `labels(key = expr)` value.
pub fn label_of<L: Label + ?Sized>(value: &L) -> (&'static str, usize) {
    (value.label(), value.label_index())
}
