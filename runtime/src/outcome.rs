//! How a call ended, and what is recorded about an error.

pub use observe_attr::schema::{OUTCOME_COUNT, OUTCOME_NAMES};

/// How a call ended.
#[derive(Debug)]
pub enum Outcome {
    /// Returned normally (including `Ok`).
    Ok,
    /// Returned `Err`.
    Error(ErrorInfo),
    /// Panicked; the panic continues after recording.
    Panic,
    /// The future was dropped after its first poll, before completing.
    Cancelled,
}

impl Outcome {
    /// An `Err` return of `error`, whose type name is the error's type.
    /// (Named here, not in the expansion: `core::any::type_name_of_val` is
    /// newer than some users' `rust-version`, and clippy's
    /// `incompatible_msrv` would flag every annotated function.)
    #[inline]
    pub fn error<E: ?Sized>(kind: (&'static str, usize), message: String, _error: &E) -> Self {
        Outcome::Error(ErrorInfo {
            kind: kind.0,
            kinds: kind.1,
            message,
            type_name: std::any::type_name::<E>(),
        })
    }

    pub(crate) fn index(&self) -> usize {
        match self {
            Outcome::Ok => 0,
            Outcome::Error(_) => 1,
            Outcome::Panic => 2,
            Outcome::Cancelled => 3,
        }
    }

    /// The `outcome` label value.
    pub fn as_str(&self) -> &'static str {
        OUTCOME_NAMES[self.index()]
    }
}

/// What is recorded about an error.
#[derive(Debug)]
pub struct ErrorInfo {
    /// The `error_kind` label: the variant for `Label` errors, else `"error"`.
    pub kind: &'static str,
    /// How many `error_kind` values the error type can produce.
    pub kinds: usize,
    /// The error's `Display` (else `Debug`), scrubbed and truncated.
    pub message: String,
    /// The error's type, for the span's `error.type`.
    pub type_name: &'static str,
}

pub use observe_attr::schema::error_kind::{
    DEFAULT as DEFAULT_ERROR_KIND, PANIC as PANIC_ERROR_KIND,
};
/// The `error_kind` values observe adds to a `Label` error type's own
/// (`other`, `error`, `panic`).
pub const EXTRA_ERROR_KINDS: usize = 3;
