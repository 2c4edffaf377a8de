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
//!
//! Every user impl a probe calls (`Debug`, `Display`, `Label`) runs under
//! [`guarded`]: a panic there is recorded as a marker and never reaches
//! the user's call.

use std::cell::Cell;
use std::fmt::{self, Debug, Display};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Poll;

use tracing::field::{DisplayValue, Value};

use crate::label::Label;
use crate::outcome::{DEFAULT_ERROR_KIND, EXTRA_ERROR_KINDS};
use crate::redact::{REDACTED, debug_text, display_text, is_card_number};

/// Wraps a reference to the value being probed.
pub struct Probe<T>(pub T);

/// What is recorded for one value: a native number or `bool`, scrubbed
/// text, a fixed text, or nothing.
#[derive(Debug)]
pub enum Recorded {
    /// An unsigned integer.
    U64(u64),
    /// A signed integer.
    I64(i64),
    /// A wide unsigned integer.
    U128(u128),
    /// A wide signed integer.
    I128(i128),
    /// A float.
    F64(f64),
    /// A `bool`.
    Bool(bool),
    /// Scrubbed, truncated text.
    Text(DisplayValue<String>),
    /// A fixed text, such as [`REDACTED`].
    Static(&'static str),
    /// Nothing: the value has no `Debug`.
    Nothing,
}

impl Recorded {
    /// The value to hand to `tracing`.
    #[inline]
    pub fn value(&self) -> Option<&dyn Value> {
        Some(match self {
            Recorded::U64(v) => v,
            Recorded::I64(v) => v,
            Recorded::U128(v) => v,
            Recorded::I128(v) => v,
            Recorded::F64(v) => v,
            Recorded::Bool(v) => v,
            Recorded::Text(v) => v,
            Recorded::Static(v) => v,
            Recorded::Nothing => return None,
        })
    }

    /// A secret: recorded as [`REDACTED`].
    pub const REDACTED: Recorded = Recorded::Static(REDACTED);

    fn text(text: String) -> Self {
        Recorded::Text(tracing::field::display(text))
    }
}

thread_local! {
    static GUARDING: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is inside observe's guarded formatting: a panic hook can tell
/// a panic observe catches (a user's `Debug` panicking while recorded)
/// from one that reaches the program.
pub fn in_guarded_formatting() -> bool {
    GUARDING.with(Cell::get)
}

/// Runs `f`, a call into user code made only to record something. A panic
/// in it is caught and `fallback` is used instead: recording never changes
/// what the program does. (Under `panic = "abort"` nothing can be caught.)
#[inline]
pub fn guarded<T>(fallback: impl FnOnce() -> T, f: impl FnOnce() -> T) -> T {
    let mut f = Some(f);
    let mut out = None;
    if catches(&mut || out = f.take().map(|f| f())) {
        fallback()
    } else {
        out.unwrap_or_else(fallback)
    }
}

/// The one place that catches: not generic, so `catch_unwind`'s machinery
/// is compiled once, not once per recorded type (build time).
#[inline(never)]
pub(crate) fn catches(f: &mut dyn FnMut()) -> bool {
    let outer = GUARDING.with(|g| g.replace(true));
    let panicked = catch_unwind(AssertUnwindSafe(f)).is_err();
    GUARDING.with(|g| g.set(outer));
    panicked
}

const DEBUG_PANICKED: &str = "<unprintable: Debug panicked>";
const DISPLAY_PANICKED: &str = "<unprintable: Display panicked>";
const EXPR_PANICKED: &str = "<unprintable: the expression panicked>";

fn guarded_debug<T: Debug + ?Sized>(value: &T) -> String {
    guarded(|| DEBUG_PANICKED.into(), || debug_text(value))
}

fn guarded_display<T: Display + ?Sized>(value: &T) -> String {
    guarded(|| DISPLAY_PANICKED.into(), || display_text(value))
}

/// Records a user expression (a `fields(...)` value): a panic while
/// evaluating it is recorded as a marker.
#[inline]
pub fn field(f: impl FnOnce() -> Recorded) -> Recorded {
    guarded(|| Recorded::Static(EXPR_PANICKED), f)
}

/// A `fields(key = %expr)` value: scrubbed `Display` text.
pub fn field_display<T: Display + ?Sized>(value: &T) -> Recorded {
    Recorded::text(guarded_display(value))
}

/// A `fields(key = ?expr)` value: scrubbed `Debug` text.
pub fn field_debug<T: Debug + ?Sized>(value: &T) -> Recorded {
    Recorded::text(guarded_debug(value))
}

/// Values recorded as native span field values, not text.
pub trait NativeValue {
    /// The recorded form.
    fn native(&self) -> Recorded;
}

macro_rules! native {
    ($($ty:ty => $variant:ident as $repr:ty),* $(,)?) => {$(
        impl NativeValue for $ty {
            fn native(&self) -> Recorded {
                Recorded::$variant(*self as $repr)
            }
        }
    )*};
}

/// Integers wide enough to hold a card number are masked when they do.
macro_rules! native_masked {
    ($($ty:ty => $variant:ident as $repr:ty, magnitude $magnitude:expr),* $(,)?) => {$(
        impl NativeValue for $ty {
            fn native(&self) -> Recorded {
                let magnitude: fn($ty) -> u128 = $magnitude;
                if is_card_number(magnitude(*self)) {
                    return Recorded::REDACTED;
                }
                Recorded::$variant(*self as $repr)
            }
        }
    )*};
}

native!(
    u8 => U64 as u64, u16 => U64 as u64, u32 => U64 as u64,
    i8 => I64 as i64, i16 => I64 as i64, i32 => I64 as i64,
    f32 => F64 as f64, f64 => F64 as f64,
);

native_masked!(
    u64 => U64 as u64, magnitude |v| v as u128,
    usize => U64 as u64, magnitude |v| v as u128,
    u128 => U128 as u128, magnitude |v| v,
    i64 => I64 as i64, magnitude |v| v.unsigned_abs() as u128,
    isize => I64 as i64, magnitude |v| v.unsigned_abs() as u128,
    i128 => I128 as i128, magnitude |v| v.unsigned_abs(),
);

impl NativeValue for bool {
    fn native(&self) -> Recorded {
        Recorded::Bool(*self)
    }
}

impl<T: NativeValue + ?Sized> NativeValue for &T {
    fn native(&self) -> Recorded {
        (**self).native()
    }
}

impl<T: NativeValue + ?Sized> NativeValue for &mut T {
    fn native(&self) -> Recorded {
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

// ---- recording a value: native > text > Debug > nothing ----

/// Records a number or `bool` as itself.
pub trait RecordNative {
    /// What is recorded for this value.
    fn observe_arg(&self) -> Recorded;
}

impl<T: NativeValue + ?Sized> RecordNative for &&&Probe<&T> {
    fn observe_arg(&self) -> Recorded {
        self.0.native()
    }
}

/// Records text content, scrubbed and truncated.
pub trait RecordText {
    /// What is recorded for this value.
    fn observe_arg(&self) -> Recorded;
}

impl<T: TextValue + ?Sized> RecordText for &&Probe<&T> {
    fn observe_arg(&self) -> Recorded {
        Recorded::text(display_text(self.0.text()))
    }
}

/// Records the `Debug` text, scrubbed and truncated.
pub trait RecordDebug {
    /// What is recorded for this value.
    fn observe_arg(&self) -> Recorded;
}

impl<T: Debug + ?Sized> RecordDebug for &Probe<&T> {
    fn observe_arg(&self) -> Recorded {
        Recorded::text(guarded_debug(self.0))
    }
}

/// Records nothing: the type has no `Debug`.
pub trait RecordNothing {
    /// Nothing.
    fn observe_arg(&self) -> Recorded;
}

impl<T: ?Sized> RecordNothing for Probe<&T> {
    fn observe_arg(&self) -> Recorded {
        Recorded::Nothing
    }
}

// ---- hashing a value: Display > Debug > nothing ----

/// Formats without panicking on a `fmt::Error` (as `to_string` would) or
/// on a panicking impl: `None` then.
fn formatted(write: impl FnOnce(&mut String) -> fmt::Result) -> Option<String> {
    guarded(
        || None,
        || {
            let mut text = String::new();
            write(&mut text).ok().map(|()| text)
        },
    )
}

fn hash_of(text: Option<String>) -> Recorded {
    match text {
        Some(text) => Recorded::text(crate::hash::keyed_hash(text.as_bytes())),
        None => Recorded::Static("<unhashable: formatting failed>"),
    }
}

/// Hashes the `Display` text.
pub trait HashDisplay {
    /// The surrogate id.
    fn observe_hash(&self) -> Recorded;
}

impl<T: Display + ?Sized> HashDisplay for &&Probe<&T> {
    fn observe_hash(&self) -> Recorded {
        hash_of(formatted(|out| fmt::write(out, format_args!("{}", self.0))))
    }
}

/// Hashes the `Debug` text.
pub trait HashDebug {
    /// The surrogate id.
    fn observe_hash(&self) -> Recorded;
}

impl<T: Debug + ?Sized> HashDebug for &Probe<&T> {
    fn observe_hash(&self) -> Recorded {
        hash_of(formatted(|out| {
            fmt::write(out, format_args!("{:?}", self.0))
        }))
    }
}

/// Hashes nothing: the type has neither `Display` nor `Debug`.
pub trait HashNothing {
    /// Nothing.
    fn observe_hash(&self) -> Recorded;
}

impl<T: ?Sized> HashNothing for Probe<&T> {
    fn observe_hash(&self) -> Recorded {
        Recorded::Nothing
    }
}

// ---- classifying a return value: Result::Err > anything else ----

/// Finds the error in a `Result`, or in what a poll function returns
/// (`Poll<Result<..>>` from `Future::poll` and `Service::poll_ready`,
/// `Poll<Option<Result<..>>>` from `Stream::poll_next`).
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

impl<'a, T, E> ErrorOf<'a> for &Probe<&'a Poll<Result<T, E>>> {
    type Error = E;
    fn observe_error(&self) -> Option<&'a E> {
        match self.0 {
            Poll::Ready(Err(error)) => Some(error),
            _ => None,
        }
    }
}

impl<'a, T, E> ErrorOf<'a> for &Probe<&'a Poll<Option<Result<T, E>>>> {
    type Error = E;
    fn observe_error(&self) -> Option<&'a E> {
        match self.0 {
            Poll::Ready(Some(Err(error))) => Some(error),
            _ => None,
        }
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

/// The `error_kind` of an error type implementing [`Label`], and how many
/// kinds the type can produce. `ROOM` is how many kinds the function's
/// budget leaves once its label combinations are counted; an error type
/// with more fails to build (checked when the function is monomorphised).
pub trait KindByLabel {
    /// The label value (one of `VALUES`, else `other`) and the kind count.
    fn observe_error_kind<const ROOM: usize>(&self) -> (&'static str, usize);
}

impl<E: Label + ?Sized> KindByLabel for &Probe<&E> {
    fn observe_error_kind<const ROOM: usize>(&self) -> (&'static str, usize) {
        const {
            assert!(
                E::VALUES.len() + EXTRA_ERROR_KINDS <= ROOM,
                "metric label budget exceeded by `flow_errors_total`: the error type's `Label` values \
                 (plus `other`, `error` and `panic`) times the label combinations exceed `max_series`; \
                 give the error enum fewer variants, use fewer labels, or raise the budget with `max_series = N`"
            )
        };
        let kind = guarded(
            || crate::label::OTHER,
            || crate::labels::LabelPart::of(self.0).value(),
        );
        (kind, E::VALUES.len() + EXTRA_ERROR_KINDS)
    }
}

/// The `error_kind` of every other error type.
pub trait KindDefault {
    /// The documented default, `"error"`.
    fn observe_error_kind<const ROOM: usize>(&self) -> (&'static str, usize);
}

impl<E: ?Sized> KindDefault for Probe<&E> {
    fn observe_error_kind<const ROOM: usize>(&self) -> (&'static str, usize) {
        (DEFAULT_ERROR_KIND, 2)
    }
}

// ---- an error's message: Display > Debug > type name ----

/// The message of a `Display` error.
pub trait MessageDisplay {
    /// Scrubbed, truncated text.
    fn observe_error_message(&self) -> String;
}

impl<E: Display + ?Sized> MessageDisplay for &&Probe<&E> {
    fn observe_error_message(&self) -> String {
        guarded_display(self.0)
    }
}

/// The message of a `Debug` error.
pub trait MessageDebug {
    /// Scrubbed, truncated text.
    fn observe_error_message(&self) -> String;
}

impl<E: Debug + ?Sized> MessageDebug for &Probe<&E> {
    fn observe_error_message(&self) -> String {
        guarded_debug(self.0)
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
        Some(guarded_debug(self.0))
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
