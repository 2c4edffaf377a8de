//! Run-time support for `observe`: everything the `#[observe]` expansion
//! calls, and the public types users meet (`Label`, `Sensitive`).
//!
//! Users depend on the `observe` crate, which re-exports this one; generated
//! code reaches the internals through `observe::__private`, which is not a
//! stable API.
#![deny(missing_docs)]

pub mod budget;
pub mod catalog;
pub mod hash;
mod label;
pub mod metric_names;
pub mod observation;
pub mod probe;
pub mod redact;
pub mod sampling;
pub mod site;
pub mod span_callsite;

pub use catalog::{FunctionInfo, SloInfo, catalog};
pub use hash::{HashKeyError, set_hash_key};
pub use label::Label;
pub use redact::{REDACTED, Sensitive};

/// The name rules shared with the macro and the linter: which names are
/// secrets, which label keys are high-cardinality.
pub mod names {
    pub use observe_attr::names::*;
}
