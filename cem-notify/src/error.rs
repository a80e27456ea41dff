//! [`RenderError`]: why a message could not be written, or what is wrong in a catalogue.

use chrono::{DateTime, Utc};
use thiserror::Error;

/// Why a message could not be rendered, or a fault that [`check_catalogues`](crate::check_catalogues)
/// found in a catalogue.
///
/// Templates are named by their path in the catalogue file: `messages.ticket_called.sms`,
/// `phrases.wait_known`, `format.date`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RenderError {
    /// A catalogue file is not valid TOML of the expected shape, or its `[format]` table is
    /// unusable (not ten digits, not twelve months, not seven weekdays).
    #[error("catalogue `{language}` is invalid: {reason}")]
    Catalogue {
        /// The catalogue's language tag.
        language: String,
        /// What is wrong.
        reason: String,
    },
    /// A catalogue lacks a message kind, or one of its parts.
    #[error("catalogue `{language}` has no `{template}`")]
    MissingTemplate {
        /// The catalogue's language tag.
        language: String,
        /// The missing template's path.
        template: String,
    },
    /// A catalogue has a message or phrase that no kind or rule uses (a misspelt name).
    #[error("catalogue `{language}` has `{template}`, which nothing uses")]
    UnknownTemplate {
        /// The catalogue's language tag.
        language: String,
        /// The unused template's path.
        template: String,
    },
    /// A template names a placeholder its message kind does not provide.
    #[error("`{template}` in catalogue `{language}` names `{{{name}}}`, which it is not given")]
    UnknownPlaceholder {
        /// The catalogue's language tag.
        language: String,
        /// The template's path.
        template: String,
        /// The placeholder's name.
        name: String,
    },
    /// A template's braces do not parse.
    #[error("`{template}` in catalogue `{language}` is malformed: {reason}")]
    MalformedTemplate {
        /// The catalogue's language tag.
        language: String,
        /// The template's path.
        template: String,
        /// What is wrong.
        reason: String,
    },
    /// A template's own text has ASCII digits in a language that writes numbers with other
    /// digits.
    #[error("`{template}` in catalogue `{language}` writes ASCII digits")]
    ForeignDigits {
        /// The catalogue's language tag.
        language: String,
        /// The template's path.
        template: String,
    },
    /// An instant whose date the language's calendar cannot write.
    #[error("{at} is out of the calendar's range")]
    DateOutOfRange {
        /// The instant.
        at: DateTime<Utc>,
    },
    /// The webhook document could not be written.
    #[error("cannot encode the webhook document: {reason}")]
    Encode {
        /// What failed.
        reason: String,
    },
}
