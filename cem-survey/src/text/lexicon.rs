//! Dictionaries: a [`Lexicon`] per language and [`Topics`], extra keyword dictionaries.

use std::collections::{BTreeMap, HashMap};

use cem_core::Language;
use serde::Deserialize;

use super::detect::{is_arabic_script, primary_subtag};
use super::error::TextError;
use super::normalize::{Script, Token, normalize, tokenize};

/// The largest magnitude of a sentiment weight.
pub const MAX_WEIGHT: f32 = 4.0;

/// The largest modifier multiplier (the smallest is 0).
pub const MAX_MULTIPLIER: f32 = 4.0;

/// Persian suffixes removed to find a word's stem, longest first.
const FA_STEM_SUFFIXES: &[&str] = &[
    "هایی", "هایم", "هایت", "هایش", "ترین", "مان", "تان", "شان", "های", "اند", "ها", "تر", "ای",
    "ام", "یم", "ید", "ند", "ست", "ان", "ات", "ی", "م", "ت", "ش", "ه", "ا", "ن",
];

/// The fewest letters a Persian stem keeps.
const FA_MIN_STEM: usize = 3;

/// A word of a text with the stems it may also match as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Forms {
    word: String,
    stems: Vec<String>,
}

impl Forms {
    fn new(word: &str, script: Script) -> Self {
        let mut stems: Vec<String> = Vec::new();
        match script {
            Script::Latin => {
                if word.len() > 3
                    && let Some(stem) = word.strip_suffix('s')
                    && !stem.ends_with('s')
                {
                    stems.push(stem.to_owned());
                }
            }
            Script::Persian => {
                let mut frontier = vec![word.to_owned()];
                for _ in 0..2 {
                    let mut next = Vec::new();
                    for form in &frontier {
                        for suffix in FA_STEM_SUFFIXES {
                            if let Some(stem) = form.strip_suffix(suffix)
                                && stem.chars().count() >= FA_MIN_STEM
                                && stem != word
                                && !stems.iter().any(|s| s == stem)
                            {
                                stems.push(stem.to_owned());
                                next.push(stem.to_owned());
                            }
                        }
                    }
                    frontier = next;
                }
            }
        }
        Self {
            word: word.to_owned(),
            stems,
        }
    }
}

/// The forms of each token; `None` for breaks.
pub(crate) fn forms(tokens: &[Token], script: Script) -> Vec<Option<Forms>> {
    tokens
        .iter()
        .map(|t| t.word().map(|w| Forms::new(w, script)))
        .collect()
}

/// One word of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    text: String,
    prefix: bool,
}

impl Term {
    fn matches(&self, forms: &Forms) -> bool {
        if self.prefix {
            forms.word.starts_with(&self.text)
        } else {
            forms.word == self.text || forms.stems.contains(&self.text)
        }
    }
}

/// How specific an entry is: words, letters, exact words. Larger is more specific.
pub(crate) type Specificity = (usize, usize, usize);

fn specificity(terms: &[Term]) -> Specificity {
    (
        terms.len(),
        terms.iter().map(|t| t.text.chars().count()).sum(),
        terms.iter().filter(|t| !t.prefix).count(),
    )
}

/// A match of a table's entry at a place in the text.
#[derive(Debug)]
pub(crate) struct Match<'a, T> {
    /// How many tokens it covers.
    pub(crate) len: usize,
    /// The entry's value.
    pub(crate) value: &'a T,
    pub(crate) specificity: Specificity,
}

/// Entries (words or phrases) with a value each, matched against tokens.
#[derive(Debug, Clone)]
pub(crate) struct PhraseTable<T> {
    entries: Vec<(Vec<Term>, T)>,
    /// Entries by their first word, when it is exact.
    by_first: HashMap<String, Vec<usize>>,
    /// Entries whose first word is a prefix.
    prefixed: Vec<usize>,
}

impl<T> Default for PhraseTable<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            by_first: HashMap::new(),
            prefixed: Vec::new(),
        }
    }
}

impl<T> PhraseTable<T> {
    /// Adds an entry; false (and nothing added) when the same entry is there already.
    fn insert(&mut self, terms: Vec<Term>, value: T) -> bool {
        let first = &terms[0];
        let same = |i: &usize| self.entries[*i].0 == terms;
        let exists = if first.prefix {
            self.prefixed.iter().any(same)
        } else {
            self.by_first
                .get(&first.text)
                .is_some_and(|v| v.iter().any(same))
        };
        if exists {
            return false;
        }
        let index = self.entries.len();
        if first.prefix {
            self.prefixed.push(index);
        } else {
            self.by_first
                .entry(first.text.clone())
                .or_default()
                .push(index);
        }
        self.entries.push((terms, value));
        true
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Every entry matching at token `at`.
    pub(crate) fn matches_at<'a>(
        &'a self,
        forms: &[Option<Forms>],
        at: usize,
    ) -> Vec<Match<'a, T>> {
        let Some(Some(first)) = forms.get(at) else {
            return Vec::new();
        };
        let exact = std::iter::once(&first.word)
            .chain(&first.stems)
            .filter_map(|w| self.by_first.get(w))
            .flatten();
        exact
            .chain(&self.prefixed)
            .filter_map(|&i| {
                let (terms, value) = &self.entries[i];
                let covered = forms.get(at..at + terms.len())?;
                let all = terms
                    .iter()
                    .zip(covered)
                    .all(|(term, f)| f.as_ref().is_some_and(|f| term.matches(f)));
                all.then(|| Match {
                    len: terms.len(),
                    value,
                    specificity: specificity(terms),
                })
            })
            .collect()
    }

    /// The most specific entry matching at token `at`.
    pub(crate) fn best_at<'a>(
        &'a self,
        forms: &[Option<Forms>],
        at: usize,
    ) -> Option<Match<'a, T>> {
        self.matches_at(forms, at)
            .into_iter()
            .max_by_key(|m| m.specificity)
    }
}

/// Parses an entry into terms, normalized as texts are.
fn parse_entry(entry: &str, table: &str, script: Script) -> Result<Vec<Term>, TextError> {
    let trimmed = entry.trim();
    let (body, prefix) = match trimmed.strip_suffix('*') {
        Some(body) => (body, true),
        None => (trimmed, false),
    };
    if body.contains('*') {
        return Err(TextError::MisplacedWildcard {
            table: table.to_owned(),
            entry: entry.to_owned(),
        });
    }
    let mut terms: Vec<Term> = tokenize(&normalize(body), script)
        .into_iter()
        .filter_map(|t| match t {
            Token::Word(text) => Some(Term {
                text,
                prefix: false,
            }),
            _ => None,
        })
        .collect();
    match terms.last_mut() {
        Some(last) => last.prefix = prefix,
        None => {
            return Err(TextError::EmptyEntry {
                table: table.to_owned(),
                entry: entry.to_owned(),
            });
        }
    }
    Ok(terms)
}

/// A parser's message with the line it points at.
fn parse_error(what: &'static str, text: &str, error: &toml::de::Error) -> TextError {
    let reason = match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {}", error.message())
        }
        None => error.message().to_owned(),
    };
    TextError::Parse { what, reason }
}

fn script_of(language: &Language) -> Script {
    if is_arabic_script(language) {
        Script::Persian
    } else {
        Script::Latin
    }
}

fn check_language(tag: &str) -> Result<Language, TextError> {
    let valid = !tag.trim().is_empty()
        && tag
            .trim()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(Language::new(tag))
    } else {
        Err(TextError::InvalidLanguage {
            tag: tag.to_owned(),
        })
    }
}

fn check_tag(tag: &str) -> Result<(), TextError> {
    let valid = !tag.is_empty()
        && tag
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(TextError::InvalidTag {
            tag: tag.to_owned(),
        })
    }
}

fn check_weight(
    table: &str,
    entry: &str,
    weight: f32,
    (min, max): (f32, f32),
) -> Result<(), TextError> {
    if weight.is_finite() && (min..=max).contains(&weight) {
        Ok(())
    } else {
        Err(TextError::WeightOutOfRange {
            table: table.to_owned(),
            entry: entry.to_owned(),
            weight,
            min,
            max,
        })
    }
}

/// The dictionaries of one language: sentiment weights, negators, modifiers, contrast words and
/// topics.
///
/// # Entries
///
/// An entry is a word or a phrase, written as people write it: it is normalized and tokenized
/// like the texts it is matched against, so `مؤدب`, `مودب` and `مـودب` are one entry, and so are
/// `نمی‌خواهم` and `نمی خواهم`. An entry ending in `*` matches any word that starts with its last
/// word (`wait*` matches `waiting` and `waited`); no other `*` is allowed.
///
/// Without `*`, a word matches itself and its light stems: an English plural (`problems` →
/// `problem`), or a Persian word with up to two common suffixes removed (`کارمندهاش` →
/// `کارمندها` → `کارمند`; `راضی‌ام` → `راضی`; `خوبه` → `خوب`), as long as three letters remain.
/// Shorter stems (`بد`) must list their forms.
///
/// When several entries match at one place, the most specific wins: more words first, then
/// more letters, then fewer `*`.
///
/// # The file
///
/// ```toml
/// language = "en"
/// negators = ["not", "no", "never"]        # flip the next few words
/// soft_negators = ["without"]              # the same, but say nothing when they flip nothing
/// post_negators = []                       # flip the few words before (Persian verbs: نبود)
/// contrast = ["but", "however"]            # what follows outweighs what precedes
///
/// [modifiers]                              # multiply the next sentiment word
/// very = 1.4
/// "a bit" = 0.6
///
/// [sentiment]                              # weights from -4 to 4
/// good = 2
/// "waste of time" = -2.5
///
/// [topics]                                 # tag = keywords
/// waiting_time = ["wait*", "queue*"]
/// ```
#[derive(Debug, Clone)]
pub struct Lexicon {
    language: Language,
    script: Script,
    pub(crate) sentiment: PhraseTable<f32>,
    pub(crate) modifiers: PhraseTable<f32>,
    /// Negators; `true` for soft ones, which add nothing when they flip nothing.
    pub(crate) negators: PhraseTable<bool>,
    pub(crate) post_negators: PhraseTable<()>,
    pub(crate) contrast: PhraseTable<()>,
    /// Keywords by tag, as written; the table below is built from them.
    topic_keywords: BTreeMap<String, Vec<String>>,
    /// Keyword to the index of its tag in `topic_keywords`' order.
    pub(crate) topics: PhraseTable<Vec<usize>>,
    pub(crate) topic_tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    language: String,
    #[serde(default)]
    negators: Vec<String>,
    #[serde(default)]
    soft_negators: Vec<String>,
    #[serde(default)]
    post_negators: Vec<String>,
    #[serde(default)]
    contrast: Vec<String>,
    #[serde(default)]
    modifiers: BTreeMap<String, f32>,
    #[serde(default)]
    sentiment: BTreeMap<String, f32>,
    #[serde(default)]
    topics: BTreeMap<String, Vec<String>>,
}

impl Lexicon {
    /// Reads a lexicon file (see [`Lexicon`] for its format).
    ///
    /// # Errors
    ///
    /// [`TextError::Parse`] when the text is not TOML of that shape;
    /// [`TextError::InvalidLanguage`], [`TextError::InvalidTag`], [`TextError::NoKeywords`],
    /// [`TextError::EmptyEntry`], [`TextError::MisplacedWildcard`],
    /// [`TextError::WeightOutOfRange`] (a weight beyond ±[`MAX_WEIGHT`], a multiplier beyond
    /// 0..=[`MAX_MULTIPLIER`]) and [`TextError::DuplicateEntry`] for a bad entry.
    pub fn from_toml(text: &str) -> Result<Self, TextError> {
        let file: LexiconFile =
            toml::from_str(text).map_err(|e| parse_error("lexicon", text, &e))?;
        let mut lexicon = Self::bare(check_language(&file.language)?);
        let script = lexicon.script;
        fn words<T: Clone>(
            table: &str,
            entries: &[String],
            value: T,
            script: Script,
            into: &mut PhraseTable<T>,
        ) -> Result<(), TextError> {
            for entry in entries {
                let terms = parse_entry(entry, table, script)?;
                if !into.insert(terms, value.clone()) {
                    return Err(TextError::DuplicateEntry {
                        table: table.to_owned(),
                        entry: entry.clone(),
                    });
                }
            }
            Ok(())
        }
        words(
            "negators",
            &file.negators,
            false,
            script,
            &mut lexicon.negators,
        )?;
        words(
            "soft_negators",
            &file.soft_negators,
            true,
            script,
            &mut lexicon.negators,
        )?;
        words(
            "post_negators",
            &file.post_negators,
            (),
            script,
            &mut lexicon.post_negators,
        )?;
        words(
            "contrast",
            &file.contrast,
            (),
            script,
            &mut lexicon.contrast,
        )?;
        let weighted = |table: &str,
                        entries: &BTreeMap<String, f32>,
                        range: (f32, f32),
                        into: &mut PhraseTable<f32>| {
            for (entry, &weight) in entries {
                check_weight(table, entry, weight, range)?;
                let terms = parse_entry(entry, table, script)?;
                if !into.insert(terms, weight) {
                    return Err(TextError::DuplicateEntry {
                        table: table.to_owned(),
                        entry: entry.clone(),
                    });
                }
            }
            Ok(())
        };
        weighted(
            "modifiers",
            &file.modifiers,
            (0.0, MAX_MULTIPLIER),
            &mut lexicon.modifiers,
        )?;
        weighted(
            "sentiment",
            &file.sentiment,
            (-MAX_WEIGHT, MAX_WEIGHT),
            &mut lexicon.sentiment,
        )?;
        let mut topics = BTreeMap::new();
        for (tag, keywords) in file.topics {
            check_topic(&tag, &keywords, script)?;
            topics.insert(tag, keywords);
        }
        lexicon.set_topics(topics);
        Ok(lexicon)
    }

    /// An empty lexicon: no sentiment, no topics.
    pub fn bare(language: Language) -> Self {
        Self {
            script: script_of(&language),
            language,
            sentiment: PhraseTable::default(),
            modifiers: PhraseTable::default(),
            negators: PhraseTable::default(),
            post_negators: PhraseTable::default(),
            contrast: PhraseTable::default(),
            topic_keywords: BTreeMap::new(),
            topics: PhraseTable::default(),
            topic_tags: Vec::new(),
        }
    }

    /// The language it reads.
    pub fn language(&self) -> &Language {
        &self.language
    }

    /// How many sentiment entries it holds.
    pub fn sentiment_entries(&self) -> usize {
        self.sentiment.len()
    }

    /// The topic tags it finds, sorted.
    pub fn topic_tags(&self) -> &[String] {
        &self.topic_tags
    }

    /// The keywords of a topic, as written.
    pub fn topic_keywords(&self, tag: &str) -> Option<&[String]> {
        self.topic_keywords.get(tag).map(Vec::as_slice)
    }

    pub(crate) fn script(&self) -> Script {
        self.script
    }

    /// Adds keywords to topics, or replaces all topics, then rebuilds the keyword table.
    pub(crate) fn merge_topics(
        &mut self,
        topics: &BTreeMap<String, Vec<String>>,
        merge: TopicMerge,
    ) {
        let mut all = match merge {
            TopicMerge::Extend => std::mem::take(&mut self.topic_keywords),
            TopicMerge::Replace => BTreeMap::new(),
        };
        for (tag, keywords) in topics {
            let list: &mut Vec<String> = all.entry(tag.clone()).or_default();
            for keyword in keywords {
                if !list.contains(keyword) {
                    list.push(keyword.clone());
                }
            }
        }
        self.set_topics(all);
    }

    /// Sets the topics; every keyword was checked by [`check_topic`].
    fn set_topics(&mut self, topics: BTreeMap<String, Vec<String>>) {
        let mut table: PhraseTable<Vec<usize>> = PhraseTable::default();
        let mut by_terms: Vec<(Vec<Term>, Vec<usize>)> = Vec::new();
        for (index, keywords) in topics.values().enumerate() {
            for keyword in keywords {
                // Checked when the topic was accepted.
                let Ok(terms) = parse_entry(keyword, "topics", self.script) else {
                    continue;
                };
                match by_terms.iter_mut().find(|(t, _)| *t == terms) {
                    Some((_, tags)) if !tags.contains(&index) => tags.push(index),
                    Some(_) => {}
                    None => by_terms.push((terms, vec![index])),
                }
            }
        }
        for (terms, tags) in by_terms {
            table.insert(terms, tags);
        }
        self.topic_tags = topics.keys().cloned().collect();
        self.topic_keywords = topics;
        self.topics = table;
    }
}

fn check_topic(tag: &str, keywords: &[String], script: Script) -> Result<(), TextError> {
    check_tag(tag)?;
    if keywords.is_empty() {
        return Err(TextError::NoKeywords {
            tag: tag.to_owned(),
        });
    }
    let table = format!("topics.{tag}");
    for keyword in keywords {
        parse_entry(keyword, &table, script)?;
    }
    Ok(())
}

/// How [`Topics`] combine with the topics a lexicon already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TopicMerge {
    /// Add the keywords to the topics of the same tag, and add the new tags.
    #[default]
    Extend,
    /// Replace every topic of each language the [`Topics`] name; other languages keep theirs.
    Replace,
}

/// Topic keyword dictionaries per language: `tag -> [keywords]`, to add to or replace the
/// embedded ones with
/// [`LexiconAnalyzer::with_topics`](super::LexiconAnalyzer::with_topics).
///
/// # The file
///
/// [`Topics::from_toml`] reads one table per language tag, each mapping a topic tag to its
/// keywords:
///
/// ```toml
/// [en]
/// parking = ["parking", "car park*"]
/// [fa]
/// parking = ["پارکینگ", "جای پارک"]
/// ```
///
/// Keywords are entries as a [`Lexicon`] reads them (`*` for a prefix).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topics {
    /// Keywords by tag, by primary language subtag.
    by_language: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl Topics {
    /// No topics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a topic file: a table per language tag mapping topic tags to keywords (see
    /// [`Topics`]).
    ///
    /// # Errors
    ///
    /// [`TextError::Parse`] when the text is not TOML of that shape (a keyword that is not a
    /// string, a value that is not a table of lists); [`TextError::InvalidLanguage`],
    /// [`TextError::InvalidTag`], [`TextError::NoKeywords`], [`TextError::EmptyEntry`] and
    /// [`TextError::MisplacedWildcard`] for a bad entry.
    pub fn from_toml(text: &str) -> Result<Self, TextError> {
        let file: BTreeMap<String, BTreeMap<String, Vec<String>>> =
            toml::from_str(text).map_err(|e| parse_error("topic file", text, &e))?;
        let mut topics = Self::new();
        for (language, tags) in file {
            let language = check_language(&language)?;
            for (tag, keywords) in tags {
                topics.insert(&language, &tag, keywords)?;
            }
        }
        Ok(topics)
    }

    /// Adds keywords to a topic of a language (the primary subtag counts: `fa-IR` is `fa`).
    ///
    /// # Errors
    ///
    /// [`TextError::InvalidTag`], [`TextError::NoKeywords`] (none given),
    /// [`TextError::EmptyEntry`] and [`TextError::MisplacedWildcard`]; nothing is added then.
    pub fn insert<I, S>(
        &mut self,
        language: &Language,
        tag: &str,
        keywords: I,
    ) -> Result<(), TextError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let keywords: Vec<String> = keywords.into_iter().map(Into::into).collect();
        check_topic(tag, &keywords, script_of(language))?;
        let list = self
            .by_language
            .entry(primary_subtag(language).to_owned())
            .or_default()
            .entry(tag.to_owned())
            .or_default();
        for keyword in keywords {
            if !list.contains(&keyword) {
                list.push(keyword);
            }
        }
        Ok(())
    }

    /// The keywords of a topic of a language.
    pub fn keywords(&self, language: &Language, tag: &str) -> Option<&[String]> {
        self.by_language
            .get(primary_subtag(language))?
            .get(tag)
            .map(Vec::as_slice)
    }

    /// Whether there is no topic.
    pub fn is_empty(&self) -> bool {
        self.by_language.is_empty()
    }

    pub(crate) fn languages(&self) -> impl Iterator<Item = (&str, &BTreeMap<String, Vec<String>>)> {
        self.by_language.iter().map(|(l, t)| (l.as_str(), t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms_of(text: &str, script: Script) -> Vec<Option<Forms>> {
        forms(&tokenize(&normalize(text), script), script)
    }

    #[test]
    fn persian_stems_drop_up_to_two_suffixes() {
        let f = Forms::new("کارمندهاش", Script::Persian);
        assert!(f.stems.contains(&"کارمندها".to_owned()));
        assert!(f.stems.contains(&"کارمند".to_owned()));
        let f = Forms::new("خوبه", Script::Persian);
        assert!(f.stems.contains(&"خوب".to_owned()));
        // Two-letter stems are not made: `بدون` (without) is not `بد` (bad).
        let f = Forms::new("بدون", Script::Persian);
        assert!(f.stems.iter().all(|s| s.chars().count() >= 3));
    }

    #[test]
    fn english_plural_is_a_stem() {
        assert_eq!(Forms::new("problems", Script::Latin).stems, ["problem"]);
        assert!(Forms::new("class", Script::Latin).stems.is_empty());
        assert!(Forms::new("yes", Script::Latin).stems.is_empty());
    }

    #[test]
    fn most_specific_entry_wins() {
        let mut table = PhraseTable::default();
        for (entry, value) in [("wait*", 1), ("waiting room", 2), ("waiting", 3)] {
            let terms = parse_entry(entry, "t", Script::Latin).unwrap();
            assert!(table.insert(terms, value));
        }
        let forms = forms_of("the waiting room", Script::Latin);
        assert_eq!(*table.best_at(&forms, 1).unwrap().value, 2);
        let forms = forms_of("waiting here", Script::Latin);
        assert_eq!(*table.best_at(&forms, 0).unwrap().value, 3);
        let forms = forms_of("waited", Script::Latin);
        assert_eq!(*table.best_at(&forms, 0).unwrap().value, 1);
    }

    #[test]
    fn entries_are_normalized_like_texts() {
        let a = parse_entry("نمی‌خواهم", "t", Script::Persian).unwrap();
        let b = parse_entry("نمی خواهم", "t", Script::Persian).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            parse_entry("مؤدب", "t", Script::Persian).unwrap(),
            parse_entry("مودب", "t", Script::Persian).unwrap()
        );
    }

    #[test]
    fn topic_file_parses_and_checks() {
        let topics = Topics::from_toml(
            r#"
            [en]
            parking = ["parking", "car park*"]
            [fa-IR]
            parking = ["پارکینگ"]
            "#,
        )
        .unwrap();
        assert_eq!(
            topics.keywords(&Language::en(), "parking").unwrap(),
            ["parking", "car park*"]
        );
        assert_eq!(
            topics.keywords(&Language::fa(), "parking").unwrap(),
            ["پارکینگ"]
        );
    }

    #[test]
    fn bad_topic_files_are_refused_with_a_reason() {
        let err = |text: &str| Topics::from_toml(text).unwrap_err();
        assert!(matches!(err("[en\nx = 1"), TextError::Parse { .. }));
        assert!(matches!(
            err("[en]\nparking = \"parking\""),
            TextError::Parse { .. }
        ));
        assert!(matches!(
            err("[en]\nparking = [1]"),
            TextError::Parse { .. }
        ));
        assert_eq!(
            err("[en]\nParking = [\"x\"]"),
            TextError::InvalidTag {
                tag: "Parking".into()
            }
        );
        assert_eq!(
            err("[en]\nparking = []"),
            TextError::NoKeywords {
                tag: "parking".into()
            }
        );
        assert!(matches!(
            err("[en]\nparking = [\"car*park\"]"),
            TextError::MisplacedWildcard { .. }
        ));
        assert!(matches!(
            err("[en]\nparking = [\" ?! \"]"),
            TextError::EmptyEntry { .. }
        ));
        assert!(matches!(
            err("[\"e n\"]\nparking = [\"x\"]"),
            TextError::InvalidLanguage { .. }
        ));
        let message = err("[en]\nparking = []").to_string();
        assert_eq!(message, "topic \"parking\" has no keywords");
    }

    #[test]
    fn bad_lexicons_are_refused() {
        let err = |text: &str| Lexicon::from_toml(text).unwrap_err();
        assert!(matches!(
            err("language = \"en\"\n[sentiment]\ngood = 9"),
            TextError::WeightOutOfRange { .. }
        ));
        assert!(matches!(
            err("language = \"en\"\n[modifiers]\nvery = -1"),
            TextError::WeightOutOfRange { .. }
        ));
        assert!(matches!(
            err("language = \"fa\"\n[sentiment]\n\"مؤدب\" = 2\n\"مودب\" = 2"),
            TextError::DuplicateEntry { .. }
        ));
        assert!(matches!(
            err("language = \"en\"\nsentimen = 1"),
            TextError::Parse { .. }
        ));
    }
}
