//! Run-time support for `observe`: everything the `#[observe]` expansion
//! calls, and the public types users meet (`Label`, `Sensitive`).
//!
//! Users depend on the `observe` crate, which re-exports this one; generated
//! code reaches the internals through `observe::__private`, which is not a
//! stable API. The facade, the macros and this crate depend on each other
//! at exact versions, so generated code always meets the runtime it was
//! generated for.
#![deny(missing_docs)]

mod budget;
pub mod call_clock;
mod callsite;
mod catalog;
mod hash;
pub mod knobs;
mod label;
mod labels;
pub mod metric_names;
mod observation;
mod outcome;
mod probe;
mod question_mark;
pub mod redact;
pub mod sampling;
mod site;

pub use catalog::{FunctionInfo, SloInfo, catalog};
pub use hash::{HashKeyError, MIN_HASH_KEY_LEN, set_hash_key};
pub use label::{Label, OTHER};
pub use probe::in_guarded_formatting;
pub use redact::{REDACTED, Sensitive};
pub use site::is_routine_completion;

/// The name rules shared with the macro and the linter: which names are
/// secrets, which label keys are high-cardinality.
pub mod names {
    pub use observe_attr::names::*;
}

/// What generated code names, and nothing else. Not a stable API: it
/// changes in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::budget::{check, combinations, error_room};
    pub use crate::catalog::FunctionInfo;
    pub use crate::label::cardinality;
    pub use crate::labels::{LabelPart, LabelSet};
    pub use crate::observation::{Exit, Observation, ObservedFuture, with_output};
    pub use crate::outcome::Outcome;
    pub use crate::probe::{Probe, Recorded, field, field_debug, field_display};
    pub use crate::question_mark::{Branch, FromResidual};
    pub use crate::site::{CallSite, SiteMeta, SloMeta};

    /// The probe traits, imported together where generated code probes.
    pub mod probe {
        pub use crate::probe::{
            ErrorOf, HashDebug, HashDisplay, HashNothing, KindByLabel, KindDefault, MessageDebug,
            MessageDisplay, MessageTypeName, NoErrorOf, RecordDebug, RecordNative, RecordNothing,
            RecordText, ReturnDebug, ReturnNothing, ReturnText,
        };
    }
}
