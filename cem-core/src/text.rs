//! Localized text.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A language tag such as `en` or `fa` (BCP 47, lowercase primary subtag).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Language(String);

impl Language {
    /// Builds a tag, normalized to lowercase.
    pub fn new(tag: impl AsRef<str>) -> Self {
        Self(tag.as_ref().trim().to_ascii_lowercase())
    }

    /// English.
    pub fn en() -> Self {
        Self::new("en")
    }

    /// Persian.
    pub fn fa() -> Self {
        Self::new("fa")
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the language is written right to left.
    pub fn is_rtl(&self) -> bool {
        matches!(
            self.0.split('-').next().unwrap_or_default(),
            "fa" | "ar" | "he" | "ur" | "ps" | "ckb"
        )
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A text in several languages.
///
/// Lookups fall back from the asked language to its primary subtag (`fa-IR` → `fa`), then to the
/// given fallback language, then to any translation, so a screen never shows an empty label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LocalizedText(BTreeMap<Language, String>);

impl LocalizedText {
    /// An empty text.
    pub fn new() -> Self {
        Self::default()
    }

    /// A text with a single translation.
    pub fn single(lang: Language, text: impl Into<String>) -> Self {
        Self::new().with(lang, text)
    }

    /// Adds or replaces a translation.
    pub fn with(mut self, lang: Language, text: impl Into<String>) -> Self {
        self.0.insert(lang, text.into());
        self
    }

    /// The translation for `lang` exactly, if present.
    pub fn exact(&self, lang: &Language) -> Option<&str> {
        self.0.get(lang).map(String::as_str)
    }

    /// The best translation for `lang`, falling back as described on the type.
    pub fn get(&self, lang: &Language, fallback: &Language) -> Option<&str> {
        self.exact(lang)
            .or_else(|| {
                let primary = lang.as_str().split('-').next()?;
                self.exact(&Language::new(primary))
            })
            .or_else(|| self.exact(fallback))
            .or_else(|| self.0.values().next().map(String::as_str))
    }

    /// Whether no translation is present.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(|t| t.trim().is_empty())
    }

    /// The languages present.
    pub fn languages(&self) -> impl Iterator<Item = &Language> {
        self.0.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_falls_back_from_region_to_primary_to_fallback() {
        let t = LocalizedText::single(Language::en(), "Deposits").with(Language::fa(), "واریز");
        assert_eq!(
            t.get(&Language::new("fa-IR"), &Language::en()),
            Some("واریز")
        );
        assert_eq!(
            t.get(&Language::new("de"), &Language::en()),
            Some("Deposits")
        );
        let only_fa = LocalizedText::single(Language::fa(), "واریز");
        assert_eq!(
            only_fa.get(&Language::new("de"), &Language::en()),
            Some("واریز")
        );
        assert_eq!(
            LocalizedText::new().get(&Language::en(), &Language::en()),
            None
        );
    }

    #[test]
    fn persian_is_right_to_left() {
        assert!(Language::new("FA-ir").is_rtl());
        assert!(!Language::en().is_rtl());
    }
}
