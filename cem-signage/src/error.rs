//! Errors of signage.

use cem_core::ValidationError;
use thiserror::Error;

/// Why a signage record was refused. Each variant wraps the [`ValidationError`] that names the
/// offending field as a path with the key it belongs to (`zones.board.area`,
/// `items.welcome.duration_secs`) or the repeated key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SignageError {
    /// The layout breaks a rule of its shape.
    #[error("invalid layout: {0}")]
    InvalidLayout(ValidationError),
    /// The playlist breaks a rule of its shape.
    #[error("invalid playlist: {0}")]
    InvalidPlaylist(ValidationError),
    /// The piece of news breaks a rule of its shape.
    #[error("invalid news: {0}")]
    InvalidNews(ValidationError),
    /// The screen breaks a rule of its shape.
    #[error("invalid screen: {0}")]
    InvalidScreen(ValidationError),
    /// The branch information breaks a rule of its shape.
    #[error("invalid branch information: {0}")]
    InvalidBranchInfo(ValidationError),
}

impl SignageError {
    /// A stable machine-readable code for the error (`invalid_layout`), for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidLayout(_) => "invalid_layout",
            Self::InvalidPlaylist(_) => "invalid_playlist",
            Self::InvalidNews(_) => "invalid_news",
            Self::InvalidScreen(_) => "invalid_screen",
            Self::InvalidBranchInfo(_) => "invalid_branch_info",
        }
    }

    /// The validation error inside: which field, and why.
    pub fn validation(&self) -> &ValidationError {
        match self {
            Self::InvalidLayout(e)
            | Self::InvalidPlaylist(e)
            | Self::InvalidNews(e)
            | Self::InvalidScreen(e)
            | Self::InvalidBranchInfo(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_messages_lowercase() {
        let field = || ValidationError::InvalidField {
            field: "zones.board.area".into(),
            reason: "must fit within the screen".into(),
        };
        let errors = [
            SignageError::InvalidLayout(field()),
            SignageError::InvalidPlaylist(field()),
            SignageError::InvalidNews(field()),
            SignageError::InvalidScreen(field()),
            SignageError::InvalidBranchInfo(field()),
        ];
        let mut codes = std::collections::HashSet::new();
        for e in errors {
            assert!(e.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(codes.insert(e.code()), "{} twice", e.code());
            let msg = e.to_string();
            assert!(!msg.starts_with(char::is_uppercase), "{msg}");
            assert!(!msg.ends_with('.'), "{msg}");
            assert!(msg.contains("zones.board.area"), "{msg}");
            assert_eq!(e.validation(), &field());
        }
        assert_eq!(
            SignageError::InvalidLayout(field()).to_string(),
            "invalid layout: zones.board.area: must fit within the screen"
        );
    }
}
