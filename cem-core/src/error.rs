//! Errors shared by every crate.

use thiserror::Error;

/// A configuration that breaks a rule of the organization model.
///
/// Produced by [`BranchConfig::validate`](crate::org::BranchConfig::validate) and by anything that
/// builds domain state from configuration; each variant names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// Two entities of one kind share an id.
    #[error("duplicate {kind} id {id}")]
    DuplicateId {
        /// The kind of entity (`service`, `counter`, `class`).
        kind: &'static str,
        /// The repeated id.
        id: String,
    },
    /// Two services of a branch share a display prefix.
    #[error("services share the display prefix {prefix:?}")]
    DuplicatePrefix {
        /// The repeated prefix.
        prefix: String,
    },
    /// Two counters of a branch share a number.
    #[error("counters share the number {number}")]
    DuplicateCounterNumber {
        /// The repeated number.
        number: u16,
    },
    /// A reference points to nothing in the configuration.
    #[error("{from} refers to unknown {kind} {id}")]
    UnknownReference {
        /// Who refers.
        from: String,
        /// The kind of entity referred to.
        kind: &'static str,
        /// The missing id.
        id: String,
    },
    /// A field holds a value outside its allowed range.
    #[error("{field}: {reason}")]
    InvalidField {
        /// The field, as a path (`service A.prefix`).
        field: String,
        /// Why the value is refused.
        reason: String,
    },
}
