//! Text analytics of free-text answers: language, sentiment and topic tags.
//!
//! A [`TextAnalyzer`] turns a comment into a [`TextAnalysis`]: the language it is written in, a
//! sentiment score from -1 to 1 with its [`SentimentLabel`], and the topics it mentions
//! (`waiting_time`, `staff`…). [`LexiconAnalyzer`] is the default one: pure CPU, offline, with
//! English and Persian dictionaries embedded in the binary.
//!
//! ```
//! use cem_survey::cem_core::{Language, SentimentLabel};
//! use cem_survey::text::{LexiconAnalyzer, TextAnalyzer};
//!
//! let analyzer = LexiconAnalyzer::default();
//! let a = analyzer.analyze("کارمندها مؤدب بودند ولی صف خیلی طولانی بود", Some(&Language::fa()));
//! assert_eq!(a.language, Some(Language::fa()));
//! assert!(a.sentiment.is_negative());
//! assert_eq!(a.tags, ["staff", "waiting_time"]);
//!
//! let a = analyzer.analyze("The staff were very friendly, no waiting at all!", None);
//! assert_eq!(a.sentiment, SentimentLabel::VeryPositive);
//! ```
//!
//! # Method
//!
//! 1. **Language**: by script ([`detect_language`]): most letters Arabic-script is Persian, most
//!    Latin is English; the respondent's chosen language is kept when it is of the detected
//!    script ([`resolve_language`]).
//! 2. **Normalization** ([`normalize`]): lowercase; Arabic letter variants to Persian (`ي` →
//!    `ی`, `ك` → `ک`…), no diacritics or tatweel, no zero-width non-joiner, ASCII digits. The
//!    tokenizer joins Persian prefixes and suffixes written apart (`نمی خواهم`, `کارمند ها`) and
//!    splits English `n't`. Dictionary entries go through the same steps.
//! 3. **Sentiment**: each word or phrase of the [`Lexicon`] adds its weight (-4..=4), in the
//!    manner of VADER (Hutto & Gilbert, 2014):
//!    - a *modifier* before it multiplies it (`very` ×1.4, `a bit` ×0.6; within
//!      [`MODIFIER_WINDOW`] words);
//!    - a *negator* (`not`, `never`, `without`, `نه`, `بدون`) flips and dampens the next
//!      [`NEGATION_WINDOW`] words by [`NEGATION_FACTOR`]; a *post-negator* does the same to the
//!      words before it, for Persian negated verbs after the word they negate (`خوب نبود`,
//!      `راضی نبودم`); a word is flipped once at most, and negation stops at a comma or a
//!      sentence end. Persian `هیچ`, `هیچ‌وقت`, `هرگز` go with a negated verb (negative
//!      concord: `هیچ مشکلی نداشتم`, "I had no problem at all"), so the lexicon lists them as
//!      modifiers and lets the verb negate. A negation that flips nothing adds
//!      [`UNRESOLVED_NEGATION`] ("nobody told us" is a complaint), except a *soft negator*
//!      (`without`, `بدون`), which only flips;
//!    - after a *contrast* word (`but`, `ولی`, `اما`) a sentence's words weigh
//!      [`CONTRAST_AFTER`], before it [`CONTRAST_BEFORE`].
//!
//!    - each `!` adds [`EXCLAMATION_BOOST`] to the sum's magnitude, up to
//!      [`MAX_EXCLAMATIONS`].
//!
//!    The sum is squashed into -1..=1 by [`squash`] and labelled by [`label_for`] with the
//!    thresholds [`VERY_NEGATIVE_MAX`], [`NEGATIVE_BELOW`], [`NEUTRAL_MAX`] and
//!    [`VERY_POSITIVE_MIN`].
//! 4. **Topics**: keyword dictionaries per language (`tag = [keywords]`), embedded and
//!    extensible ([`Topics`], [`LexiconAnalyzer::with_topics`]); at each place the most specific
//!    keyword wins, so `waiting room` (facilities) is not also `wait*` (waiting time).
//!
//! # Limits
//!
//! Dictionaries see words, not meaning. They miss sarcasm ("great, another hour in line"),
//! sentiment carried by facts alone ("I came three times for one stamp"), idioms not listed,
//! and misspellings beyond the forms listed; negation is found only within a few words; the
//! topic of a sentiment word is not linked to it (a comment praising staff and blaming the
//! queue gets one score and both tags). Languages other than English and Persian are detected
//! by script only and scored neutral unless a lexicon is given for them. The labelled samples in
//! `data/eval/` and the `text_eval` test measure how far this goes; a statistical model can
//! replace it behind [`TextAnalyzer`].

mod analyzer;
mod detect;
mod error;
mod lexicon;
mod normalize;

pub use analyzer::{Contribution, LexiconAnalyzer};
pub use cem_core::{Language, SentimentLabel, TextAnalysis};
pub use detect::{detect_language, resolve_language};
pub use error::TextError;
pub use lexicon::{Lexicon, MAX_MULTIPLIER, MAX_WEIGHT, TopicMerge, Topics};
pub use normalize::normalize;

/// Analyzes the free text of a survey answer.
///
/// # Behavior
///
/// - Pure and deterministic: the same text and hint give the same analysis; no IO, no clock,
///   no randomness, so it may run inline when a response is submitted.
/// - `hint` is the language the respondent chose. The analysis's `language` is the one
///   detected in the text when detection is confident (it may override the hint, for a
///   comment typed in English on a Persian form); the hint when nothing is detected (empty
///   text, digits, emoji); `None` when neither.
/// - `score` is in `-1.0..=1.0` and never NaN; `sentiment` is [`label_for`]`(score)`, so labels
///   follow the documented thresholds; `tags` are sorted, each once.
/// - Any text is accepted (empty, huge, any script): a text the analyzer cannot read is
///   neutral, with no tags.
pub trait TextAnalyzer: Send + Sync + std::fmt::Debug {
    /// Analyzes one text; see the [trait docs](TextAnalyzer).
    fn analyze(&self, text: &str, hint: Option<&Language>) -> TextAnalysis;
}

/// Scores at or below this are [`SentimentLabel::VeryNegative`].
pub const VERY_NEGATIVE_MAX: f32 = -0.6;
/// Scores below this (and above [`VERY_NEGATIVE_MAX`]) are [`SentimentLabel::Negative`].
pub const NEGATIVE_BELOW: f32 = -0.15;
/// Scores from [`NEGATIVE_BELOW`] to this, both included, are [`SentimentLabel::Neutral`].
pub const NEUTRAL_MAX: f32 = 0.15;
/// Scores at or above this are [`SentimentLabel::VeryPositive`]; between [`NEUTRAL_MAX`] and
/// this, [`SentimentLabel::Positive`].
pub const VERY_POSITIVE_MIN: f32 = 0.6;

/// The `alpha` of [`squash`]: the larger, the more words a score needs to near ±1. With 15
/// (VADER's figure) one word of weight 2 scores 0.46, two such words 0.72.
pub const SCORE_ALPHA: f32 = 15.0;

/// What a negated word's weight is multiplied by: flipped and dampened, since "not good" is
/// less negative than "bad" is (VADER's figure).
pub const NEGATION_FACTOR: f32 = -0.74;

/// What a negator or post-negator that flips no sentiment word adds, unless it is a soft one:
/// in feedback, a negated clause with no evaluative word says something expected did not
/// happen ("nobody told us", "the SMS never came", «پیامک نیومد»).
pub const UNRESOLVED_NEGATION: f32 = -0.8;

/// How many words after a negator (or before a post-negator) it reaches.
pub const NEGATION_WINDOW: usize = 3;

/// How many words after a modifier its sentiment word may start.
pub const MODIFIER_WINDOW: usize = 2;

/// The weight of a sentence's words before a contrast word (`but`).
pub const CONTRAST_BEFORE: f32 = 0.5;

/// The weight of a sentence's words after a contrast word (`but`).
pub const CONTRAST_AFTER: f32 = 1.5;

/// What each `!` adds to the magnitude of a text's sum of weights (none when the sum is 0).
pub const EXCLAMATION_BOOST: f32 = 0.3;

/// How many `!` count at most.
pub const MAX_EXCLAMATIONS: usize = 3;

/// Squashes a sum of weights into `-1.0..=1.0`: `sum / √(sum² + SCORE_ALPHA)`, VADER's
/// normalization. Monotonic, odd, 0 at 0; a non-finite sum gives its sign (NaN gives 0).
pub fn squash(sum: f32) -> f32 {
    if sum.is_nan() {
        return 0.0;
    }
    if sum.is_infinite() {
        return sum.signum();
    }
    let sum = f64::from(sum);
    let score = sum / (sum * sum + f64::from(SCORE_ALPHA)).sqrt();
    (score as f32).clamp(-1.0, 1.0)
}

/// The label of a score, by the thresholds above.
pub fn label_for(score: f32) -> SentimentLabel {
    if score <= VERY_NEGATIVE_MAX {
        SentimentLabel::VeryNegative
    } else if score < NEGATIVE_BELOW {
        SentimentLabel::Negative
    } else if score <= NEUTRAL_MAX {
        SentimentLabel::Neutral
    } else if score < VERY_POSITIVE_MIN {
        SentimentLabel::Positive
    } else {
        SentimentLabel::VeryPositive
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn analyze(text: &str) -> TextAnalysis {
        LexiconAnalyzer::default().analyze(text, None)
    }

    fn score(text: &str) -> f32 {
        analyze(text).score
    }

    #[test]
    fn the_analyzer_is_a_trait_object() {
        let analyzer: std::sync::Arc<dyn TextAnalyzer> =
            std::sync::Arc::new(LexiconAnalyzer::default());
        assert_eq!(
            analyzer.analyze("", None).sentiment,
            SentimentLabel::Neutral
        );
    }

    #[test]
    fn labels_follow_the_thresholds() {
        assert_eq!(label_for(-1.0), SentimentLabel::VeryNegative);
        assert_eq!(label_for(VERY_NEGATIVE_MAX), SentimentLabel::VeryNegative);
        assert_eq!(label_for(-0.3), SentimentLabel::Negative);
        assert_eq!(label_for(NEGATIVE_BELOW), SentimentLabel::Neutral);
        assert_eq!(label_for(0.0), SentimentLabel::Neutral);
        assert_eq!(label_for(NEUTRAL_MAX), SentimentLabel::Neutral);
        assert_eq!(label_for(0.3), SentimentLabel::Positive);
        assert_eq!(label_for(VERY_POSITIVE_MIN), SentimentLabel::VeryPositive);
        assert_eq!(label_for(1.0), SentimentLabel::VeryPositive);
    }

    #[test]
    fn squash_is_bounded_and_odd() {
        assert_eq!(squash(0.0), 0.0);
        assert_eq!(squash(f32::INFINITY), 1.0);
        assert_eq!(squash(f32::NEG_INFINITY), -1.0);
        assert_eq!(squash(f32::NAN), 0.0);
        assert_eq!(squash(f32::MAX), 1.0);
        assert_eq!(squash(-2.0), -squash(2.0));
        assert!(squash(2.0) < squash(3.0));
    }

    #[test]
    fn embedded_lexicons_load() {
        let analyzer = LexiconAnalyzer::default();
        for language in [Language::en(), Language::fa()] {
            let lexicon = analyzer.lexicon(&language).unwrap();
            assert!(lexicon.sentiment_entries() > 100, "{language}");
            assert_eq!(
                lexicon.topic_tags(),
                [
                    "appointment",
                    "digital",
                    "facilities",
                    "information",
                    "price",
                    "staff",
                    "waiting_time"
                ]
            );
        }
    }

    #[test]
    fn english_negation_flips_and_dampens() {
        let good = score("The service was good");
        let not_good = score("The service was not good");
        assert!(good > 0.15);
        assert!(not_good < -0.15);
        assert!(not_good.abs() < good.abs());
        assert!(score("It wasn't good") < -0.15);
        assert!(score("It wasnt good") < -0.15);
        assert!(score("never helpful") < -0.15);
        assert!(score("no problems at all") > 0.15);
        // Negation stops at a comma.
        assert!(score("not today, the staff were great") > 0.15);
    }

    #[test]
    fn persian_negation_before_and_after() {
        assert!(score("خوب بود") > 0.15);
        assert!(score("خوب نبود") < -0.15);
        assert!(score("اصلا راضی نبودم") < -0.15);
        assert!(score("هیچ مشکلی نداشتم") > 0.15);
        assert!(score("بدون معطلی کارم انجام شد") > 0.15);
        assert!(score("نمی‌پسندم") < -0.15);
        assert!(score("نمی پسندم") < -0.15);
        // Neither good nor bad.
        assert!(score("نه خوب بود نه بد").abs() <= 0.15);
    }

    #[test]
    fn intensifiers_and_diminishers_scale() {
        let plain = score("the staff were helpful");
        assert!(score("the staff were very helpful") > plain);
        assert!(score("the staff were extremely helpful") > score("the staff were very helpful"));
        assert!(score("the staff were slightly helpful") < plain);
        assert!(score("the staff were a bit helpful") < plain);
        let fa = score("کارمند مودب بود");
        assert!(score("کارمند خیلی مودب بود") > fa);
        assert!(score("کارمند کمی مودب بود") < fa);
        assert!(score("صف خیلی طولانی بود") < score("صف طولانی بود"));
    }

    #[test]
    fn contrast_weighs_what_follows() {
        assert!(score("The staff were friendly but the wait was very long") < 0.0);
        assert!(score("The wait was long but the staff were wonderful") > 0.0);
        assert!(score("صف طولانی بود ولی کارمندها خیلی مودب بودند") > 0.0);
    }

    #[test]
    fn persian_variants_score_alike() {
        let base = analyze("کارمندان خیلی مودب بودند");
        for variant in [
            "كارمندان خيلي مؤدب بودند",
            "کارمندان خیلی مـؤدب بودند",
            "کارمندان خیلی مُؤَدَّب بودند",
        ] {
            let a = analyze(variant);
            assert_eq!(a.score, base.score, "{variant}");
            assert_eq!(a.tags, base.tags, "{variant}");
        }
        assert_eq!(score("نمی‌خواهم برگردم"), score("نمیخواهم برگردم"));
    }

    #[test]
    fn tags_are_found_by_keyword_and_prefix() {
        assert_eq!(analyze("We waited forty minutes").tags, ["waiting_time"]);
        assert_eq!(
            analyze("The waiting room had no seats").tags,
            ["facilities"]
        );
        assert_eq!(
            analyze("Booked an appointment on the app, the fee was high").tags,
            ["appointment", "digital", "price"]
        );
        assert_eq!(
            analyze("نوبت اینترنتی گرفتم ولی پیامک نیامد").tags,
            ["appointment", "digital"]
        );
        assert_eq!(analyze("کارمند‌ها بی‌ادب بودند").tags, ["staff"]);
        assert_eq!(analyze("کارمند ها بی ادب بودند").tags, ["staff"]);
        assert!(analyze("Nothing to say").tags.is_empty());
    }

    #[test]
    fn extra_topics_extend_or_replace() {
        let topics = Topics::from_toml(
            "[en]\nbicycles = [\"bike rack*\"]\n[fr]\nattente = [\"attente\", \"queue\"]",
        )
        .unwrap();
        let extended = LexiconAnalyzer::default().with_topics(&topics, TopicMerge::Extend);
        let a = extended.analyze("the bike racks were full and the queue slow", None);
        assert_eq!(a.tags, ["bicycles", "waiting_time"]);
        let replaced = LexiconAnalyzer::default().with_topics(&topics, TopicMerge::Replace);
        let a = replaced.analyze("the bike racks were full and the queue slow", None);
        assert_eq!(a.tags, ["bicycles"]);
        // Persian keeps its topics.
        assert_eq!(replaced.analyze("صف طولانی", None).tags, ["waiting_time"]);
        // A language with topics only: tagged, neutral.
        let fr = Language::new("fr");
        let a = extended.analyze("Une longue attente", Some(&fr));
        assert_eq!(a.language, Some(fr));
        assert_eq!(a.tags, ["attente"]);
        assert_eq!(a.score, 0.0);
    }

    #[test]
    fn language_follows_detection_then_hint() {
        let analyzer = LexiconAnalyzer::default();
        let a = analyzer.analyze("very good", Some(&Language::fa()));
        assert_eq!(a.language, Some(Language::en()));
        let a = analyzer.analyze("👍", Some(&Language::fa()));
        assert_eq!(a.language, Some(Language::fa()));
        assert!(a.score > 0.15);
        let a = analyzer.analyze("", None);
        assert_eq!(a.language, None);
        assert_eq!(a.sentiment, SentimentLabel::Neutral);
    }

    #[test]
    fn explain_lists_contributions() {
        let c = LexiconAnalyzer::default().explain("not very good", None);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].words, "good");
        assert!(c[0].negated);
        assert!(c[0].valence < 0.0);
    }

    #[test]
    fn huge_texts_stay_bounded() {
        let text = "excellent ".repeat(100_000);
        let a = analyze(&text);
        assert!(a.score <= 1.0 && a.score > 0.99);
        assert_eq!(a.sentiment, SentimentLabel::VeryPositive);
    }

    fn any_text() -> impl Strategy<Value = String> {
        let words = prop::sample::select(vec![
            "good", "bad", "not", "very", "but", "wait", "staff", "n't", "no", "خوب", "نبود",
            "خیلی", "ولی", "صف", "نمی", "هیچ", "بی", "ها", "ك", "ي", "\u{200c}", "۱۲", ",", ".",
            "!", " ", "😡", ":)", "*",
        ]);
        prop_oneof![
            any::<String>(),
            "\\PC{0,80}",
            prop::collection::vec(words, 0..40).prop_map(|w| w.concat()),
        ]
    }

    proptest! {
        #[test]
        fn any_text_gives_a_bounded_consistent_analysis(text in any_text(), fa in any::<bool>()) {
            let hint = if fa { Language::fa() } else { Language::en() };
            let a = LexiconAnalyzer::default().analyze(&text, Some(&hint));
            prop_assert!((-1.0..=1.0).contains(&a.score), "score {}", a.score);
            prop_assert_eq!(a.sentiment, label_for(a.score));
            prop_assert!(a.tags.windows(2).all(|w| w[0] < w[1]), "tags {:?}", a.tags);
        }
    }
}
