//! Language detection by script.
//!
//! The analyzer reads English and Persian, whose scripts differ, so counting letters per script
//! tells them apart on any text, however short, and always gives the same answer for the same
//! text. A statistical detector (character n-grams) can also tell English from French, but it is
//! unreliable on the three-word comments surveys collect, and the respondent's chosen language
//! is a better guess within a script anyway; see [`resolve_language`].

use cem_core::Language;

use super::normalize::is_arabic_letter;

/// The fewest letters of one script a text needs before its language is guessed.
const MIN_LETTERS: usize = 2;

/// Primary language subtags written in the Arabic script.
const ARABIC_SCRIPT_LANGUAGES: &[&str] = &["fa", "ar", "ur", "ps", "ckb", "sd", "ug", "ku"];

/// Detects the language of a text from its letters: Persian (`fa`) when most letters are of the
/// Arabic script, English (`en`) when most are Latin.
///
/// Returns `None` when the text has fewer than two letters of its main script (empty, digits,
/// emoji only) or as many letters of each script. Other languages of these scripts (Arabic,
/// Urdu, French…) are not told apart; [`resolve_language`] keeps the respondent's choice in
/// that case.
pub fn detect_language(text: &str) -> Option<Language> {
    let (mut arabic, mut latin) = (0usize, 0usize);
    for c in text.chars() {
        if is_arabic_letter(c) {
            arabic += 1;
        } else if is_latin_letter(c) {
            latin += 1;
        }
    }
    if arabic > latin && arabic >= MIN_LETTERS {
        Some(Language::fa())
    } else if latin > arabic && latin >= MIN_LETTERS {
        Some(Language::en())
    } else {
        None
    }
}

/// The language a text is analyzed in: the detected one, unless the hint (the language the
/// respondent chose) is written in the same script, when the hint is kept (`fa-IR` stays
/// `fa-IR`, `fr` stays `fr`); the hint alone when nothing is detected.
pub fn resolve_language(text: &str, hint: Option<&Language>) -> Option<Language> {
    match (detect_language(text), hint) {
        (Some(detected), Some(hint)) if is_arabic_script(hint) == is_arabic_script(&detected) => {
            Some(hint.clone())
        }
        (Some(detected), _) => Some(detected),
        (None, hint) => hint.cloned(),
    }
}

/// The primary subtag of a language tag (`fa-IR` → `fa`).
pub(crate) fn primary_subtag(language: &Language) -> &str {
    let tag = language.as_str();
    tag.split(['-', '_']).next().unwrap_or(tag)
}

/// Whether a language is written in the Arabic script (its primary subtag).
pub(crate) fn is_arabic_script(language: &Language) -> bool {
    ARABIC_SCRIPT_LANGUAGES.contains(&primary_subtag(language))
}

fn is_latin_letter(c: char) -> bool {
    c.is_alphabetic() && matches!(c, 'A'..='Z' | 'a'..='z' | '\u{00C0}'..='\u{024F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_tell_english_from_persian() {
        assert_eq!(detect_language("The queue was long"), Some(Language::en()));
        assert_eq!(detect_language("صف خیلی طولانی بود"), Some(Language::fa()));
        assert_eq!(detect_language("ok"), Some(Language::en()));
        // Arabic letter variants are still the Arabic script.
        assert_eq!(
            detect_language("كارمند خيلي مؤدب بود"),
            Some(Language::fa())
        );
        // Mostly Persian with an English word.
        assert_eq!(
            detect_language("اپلیکیشن SMS نفرستاد"),
            Some(Language::fa())
        );
    }

    #[test]
    fn undecidable_text_has_no_language() {
        assert_eq!(detect_language(""), None);
        assert_eq!(detect_language("   "), None);
        assert_eq!(detect_language("10/10 !!!"), None);
        assert_eq!(detect_language("۱۲۳"), None);
        assert_eq!(detect_language("👍"), None);
        assert_eq!(detect_language("a"), None);
    }

    #[test]
    fn hint_is_kept_within_its_script_and_overridden_across() {
        let fa_ir = Language::new("fa-IR");
        assert_eq!(
            resolve_language("خوب بود", Some(&fa_ir)),
            Some(fa_ir.clone())
        );
        assert_eq!(
            resolve_language("very good", Some(&fa_ir)),
            Some(Language::en())
        );
        assert_eq!(
            resolve_language("خوب بود", Some(&Language::en())),
            Some(Language::fa())
        );
        assert_eq!(
            resolve_language("très bien", Some(&Language::new("fr"))),
            Some(Language::new("fr"))
        );
        assert_eq!(resolve_language("👍", Some(&fa_ir)), Some(fa_ir));
        assert_eq!(resolve_language("👍", None), None);
    }
}
