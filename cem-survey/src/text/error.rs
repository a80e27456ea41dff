//! Why a dictionary was refused.

use thiserror::Error;

/// Why a lexicon or topic dictionary was refused. Nothing is changed by a refused dictionary.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum TextError {
    /// The text is not TOML of the expected shape (an unknown table, a weight that is not a
    /// number, keywords that are not a list of strings…).
    #[error("{what} is not valid toml of the expected shape: {reason}")]
    Parse {
        /// Which dictionary (`topic file`, `lexicon`).
        what: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A language tag is empty or holds characters other than ASCII letters, digits and `-`.
    #[error("language tag {tag:?} is not valid")]
    InvalidLanguage {
        /// The tag given.
        tag: String,
    },
    /// A topic tag holds characters other than lowercase ASCII letters, digits and `_`.
    #[error("topic tag {tag:?} must be lowercase ascii letters, digits and underscores")]
    InvalidTag {
        /// The tag given.
        tag: String,
    },
    /// A topic lists no keyword.
    #[error("topic {tag:?} has no keywords")]
    NoKeywords {
        /// The topic's tag.
        tag: String,
    },
    /// An entry has no word left once normalized (empty, only punctuation).
    #[error("entry {entry:?} in {table} has no word once normalized")]
    EmptyEntry {
        /// The table (`sentiment`, `negators`, `topics.staff`).
        table: String,
        /// The entry as written.
        entry: String,
    },
    /// A `*` stands elsewhere than at the end of an entry.
    #[error("entry {entry:?} in {table} may end with `*` but hold no other `*`")]
    MisplacedWildcard {
        /// The table.
        table: String,
        /// The entry as written.
        entry: String,
    },
    /// A weight or multiplier is not finite or outside its range.
    #[error("weight {weight} of {entry:?} in {table} is outside {min}..={max}")]
    WeightOutOfRange {
        /// The table.
        table: String,
        /// The entry as written.
        entry: String,
        /// The weight given.
        weight: f32,
        /// The lowest weight allowed.
        min: f32,
        /// The highest weight allowed.
        max: f32,
    },
    /// Two entries of a table are the same once normalized (`مؤدب` and `مودب`).
    #[error("entry {entry:?} in {table} repeats an earlier entry once normalized")]
    DuplicateEntry {
        /// The table.
        table: String,
        /// The entry as written.
        entry: String,
    },
}
