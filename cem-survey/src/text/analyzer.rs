//! The default analyzer: weighted dictionaries with negation, modifiers and contrast.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock};

use cem_core::{Language, TextAnalysis};

use super::detect::{primary_subtag, resolve_language};
use super::lexicon::{Forms, Lexicon, Match, TopicMerge, Topics, forms};
use super::normalize::{Token, normalize, tokenize};
use super::{
    CONTRAST_AFTER, CONTRAST_BEFORE, EXCLAMATION_BOOST, MAX_EXCLAMATIONS, MODIFIER_WINDOW,
    NEGATION_FACTOR, NEGATION_WINDOW, TextAnalyzer, UNRESOLVED_NEGATION, label_for, squash,
};

const EMBEDDED_EN: &str = include_str!("../../data/lexicon/en.toml");
const EMBEDDED_FA: &str = include_str!("../../data/lexicon/fa.toml");

/// The embedded lexicons, parsed once.
static EMBEDDED: LazyLock<BTreeMap<String, Arc<Lexicon>>> = LazyLock::new(|| {
    [EMBEDDED_EN, EMBEDDED_FA]
        .into_iter()
        .map(|text| {
            // The embedded files are checked by this crate's tests.
            let lexicon = Lexicon::from_toml(text).expect("embedded lexicon is valid");
            (
                primary_subtag(lexicon.language()).to_owned(),
                Arc::new(lexicon),
            )
        })
        .collect()
});

/// The default [`TextAnalyzer`]: dictionaries of weighted words and phrases, per language,
/// embedded in the binary (English and Persian); see the [module docs](super) for the method.
///
/// Cloning is cheap: lexicons are shared.
#[derive(Debug, Clone)]
pub struct LexiconAnalyzer {
    /// Lexicons by primary language subtag.
    lexicons: BTreeMap<String, Arc<Lexicon>>,
}

impl Default for LexiconAnalyzer {
    /// The embedded English and Persian lexicons.
    fn default() -> Self {
        Self {
            lexicons: EMBEDDED.clone(),
        }
    }
}

/// What one word or phrase added to a text's score, as [`LexiconAnalyzer::explain`] lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// The words matched, normalized, separated by spaces.
    pub words: String,
    /// The entry's weight in the lexicon.
    pub weight: f32,
    /// What it added: the weight after modifiers, negation and contrast.
    pub valence: f32,
    /// Whether a negator flipped it.
    pub negated: bool,
}

impl LexiconAnalyzer {
    /// The embedded English and Persian lexicons; the same as [`Default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses this lexicon for its language (its primary subtag), in place of the one there.
    pub fn with_lexicon(mut self, lexicon: Lexicon) -> Self {
        self.lexicons.insert(
            primary_subtag(lexicon.language()).to_owned(),
            Arc::new(lexicon),
        );
        self
    }

    /// Adds topic keywords to the lexicons, or replaces their topics (see [`TopicMerge`]).
    ///
    /// A language without a lexicon gets one with these topics and no sentiment words: its
    /// texts are tagged and scored neutral.
    pub fn with_topics(mut self, topics: &Topics, merge: TopicMerge) -> Self {
        for (language, by_tag) in topics.languages() {
            let lexicon = self
                .lexicons
                .entry(language.to_owned())
                .or_insert_with(|| Arc::new(Lexicon::bare(Language::new(language))));
            Arc::make_mut(lexicon).merge_topics(by_tag, merge);
        }
        self
    }

    /// The lexicon used for a language, by its primary subtag.
    pub fn lexicon(&self, language: &Language) -> Option<&Lexicon> {
        self.lexicons.get(primary_subtag(language)).map(Arc::as_ref)
    }

    /// The words and phrases that made a text's score, in text order: why the analyzer said
    /// what it said. Empty when the text's language has no lexicon.
    pub fn explain(&self, text: &str, hint: Option<&Language>) -> Vec<Contribution> {
        let Some(lexicon) = resolve_language(text, hint).and_then(|l| self.lexicon(&l)) else {
            return Vec::new();
        };
        let tokens = tokenize(&normalize(text), lexicon.script());
        let forms = forms(&tokens, lexicon.script());
        sentiment_hits(lexicon, &tokens, &forms)
            .into_iter()
            .map(|hit| Contribution {
                words: tokens[hit.at..hit.at + hit.len]
                    .iter()
                    .filter_map(Token::word)
                    .collect::<Vec<_>>()
                    .join(" "),
                weight: hit.weight,
                valence: hit.valence,
                negated: hit.negated,
            })
            .collect()
    }
}

impl TextAnalyzer for LexiconAnalyzer {
    fn analyze(&self, text: &str, hint: Option<&Language>) -> TextAnalysis {
        let language = resolve_language(text, hint);
        let Some(lexicon) = language.as_ref().and_then(|l| self.lexicon(l)) else {
            return TextAnalysis {
                language,
                score: 0.0,
                sentiment: label_for(0.0),
                tags: Vec::new(),
            };
        };
        let tokens = tokenize(&normalize(text), lexicon.script());
        let forms = forms(&tokens, lexicon.script());
        let sum: f32 = sentiment_hits(lexicon, &tokens, &forms)
            .iter()
            .map(|h| h.valence)
            .sum();
        let score = squash(emphasize(sum, text));
        TextAnalysis {
            language,
            score,
            sentiment: label_for(score),
            tags: topic_tags(lexicon, &forms),
        }
    }
}

/// Adds [`EXCLAMATION_BOOST`] to a sum's magnitude per `!` in the text, up to
/// [`MAX_EXCLAMATIONS`]; a sum of zero stays zero.
fn emphasize(sum: f32, text: &str) -> f32 {
    if sum == 0.0 {
        return sum;
    }
    let marks = text
        .chars()
        .filter(|&c| c == '!')
        .take(MAX_EXCLAMATIONS)
        .count();
    sum + sum.signum() * EXCLAMATION_BOOST * marks as f32
}

/// A sentiment entry found in a text.
#[derive(Debug, Clone, PartialEq)]
struct Hit {
    at: usize,
    len: usize,
    weight: f32,
    valence: f32,
    negated: bool,
}

/// What a token starts.
enum Step {
    Sentiment(f32),
    Modifier(f32),
    /// `true` for a soft negator.
    Negator(bool),
    PostNegator,
    Contrast,
}

/// The most specific entry of any table at token `at`, and how many tokens it covers.
///
/// On a tie the order is negator, post-negator, contrast, modifier, sentiment, except that an
/// entry both a modifier and a sentiment word (`فوق‌العاده`, "extraordinary" and "extremely") is a
/// modifier when a sentiment word or modifier follows it within the modifier window.
fn step_at(lexicon: &Lexicon, forms: &[Option<Forms>], at: usize) -> Option<(Step, usize)> {
    fn rank<T>(m: &Option<Match<'_, T>>) -> Option<(usize, usize, usize)> {
        m.as_ref().map(|m| m.specificity)
    }
    let negator = lexicon.negators.best_at(forms, at);
    let post = lexicon.post_negators.best_at(forms, at);
    let contrast = lexicon.contrast.best_at(forms, at);
    let modifier = lexicon.modifiers.best_at(forms, at);
    let sentiment = lexicon.sentiment.best_at(forms, at);
    let best = [
        rank(&negator),
        rank(&post),
        rank(&contrast),
        rank(&modifier),
        rank(&sentiment),
    ]
    .into_iter()
    .flatten()
    .max()?;
    if rank(&negator) == Some(best) {
        return negator.map(|m| (Step::Negator(*m.value), m.len));
    }
    if rank(&post) == Some(best) {
        return post.map(|m| (Step::PostNegator, m.len));
    }
    if rank(&contrast) == Some(best) {
        return contrast.map(|m| (Step::Contrast, m.len));
    }
    match (modifier, sentiment) {
        (Some(m), Some(s)) if m.specificity == best && s.specificity == best => {
            let end = at + m.len;
            let followed = (end..end + MODIFIER_WINDOW)
                .take_while(|&j| forms.get(j).is_some_and(Option::is_some))
                .any(|j| {
                    lexicon.sentiment.best_at(forms, j).is_some()
                        || lexicon.modifiers.best_at(forms, j).is_some()
                });
            if followed {
                Some((Step::Modifier(*m.value), m.len))
            } else {
                Some((Step::Sentiment(*s.value), s.len))
            }
        }
        (Some(m), _) if m.specificity == best => Some((Step::Modifier(*m.value), m.len)),
        (_, Some(s)) => Some((Step::Sentiment(*s.value), s.len)),
        _ => None,
    }
}

/// A negator whose reach has not ended yet.
struct OpenNegation {
    at: usize,
    len: usize,
    until: usize,
    soft: bool,
    resolved: bool,
}

/// The hit of a negation that flipped nothing: "nobody told us", "پیامک نیومد".
fn unresolved(at: usize, len: usize) -> Hit {
    Hit {
        at,
        len,
        weight: UNRESOLVED_NEGATION,
        valence: UNRESOLVED_NEGATION,
        // Nothing may flip it again.
        negated: true,
    }
}

/// The sentiment entries of a text with the valence each adds.
fn sentiment_hits(lexicon: &Lexicon, tokens: &[Token], forms: &[Option<Forms>]) -> Vec<Hit> {
    let mut hits: Vec<Hit> = Vec::new();
    // Hits before this index belong to earlier sentences.
    let mut sentence_start_hit = 0;
    let mut clause_start = 0;
    let mut contrast_at: Option<usize> = None;
    let mut negation: Option<OpenNegation> = None;
    let mut modifier = 1.0_f32;
    let mut modifier_until = 0;

    let close = |negation: &mut Option<OpenNegation>, hits: &mut Vec<Hit>| {
        if let Some(n) = negation.take()
            && !n.resolved
            && !n.soft
        {
            hits.push(unresolved(n.at, n.len));
        }
    };
    let end_sentence = |hits: &mut [Hit], contrast_at: Option<usize>| {
        if let Some(c) = contrast_at {
            for hit in hits {
                hit.valence *= if hit.at < c {
                    CONTRAST_BEFORE
                } else {
                    CONTRAST_AFTER
                };
            }
        }
    };

    let mut i = 0;
    while i < forms.len() {
        if negation.as_ref().is_some_and(|n| i >= n.until) {
            close(&mut negation, &mut hits);
        }
        if forms[i].is_none() {
            // A break: clause or sentence end.
            close(&mut negation, &mut hits);
            modifier_until = 0;
            clause_start = i + 1;
            if tokens[i] == Token::Sentence {
                end_sentence(&mut hits[sentence_start_hit..], contrast_at.take());
                sentence_start_hit = hits.len();
            }
            i += 1;
            continue;
        }
        let Some((step, len)) = step_at(lexicon, forms, i) else {
            i += 1;
            continue;
        };
        match step {
            Step::Sentiment(weight) => {
                let mut valence = weight;
                if i < modifier_until {
                    valence *= modifier;
                }
                let negated = match negation.as_mut() {
                    Some(n) => {
                        n.resolved = true;
                        true
                    }
                    None => false,
                };
                if negated {
                    valence *= NEGATION_FACTOR;
                }
                hits.push(Hit {
                    at: i,
                    len,
                    weight,
                    valence,
                    negated,
                });
                modifier_until = 0;
            }
            Step::Modifier(m) => {
                modifier = if i < modifier_until { modifier * m } else { m };
                modifier_until = i + len + MODIFIER_WINDOW;
            }
            Step::Negator(soft) => {
                close(&mut negation, &mut hits);
                negation = Some(OpenNegation {
                    at: i,
                    len,
                    until: i + len + NEGATION_WINDOW,
                    soft,
                    resolved: false,
                });
            }
            Step::PostNegator => {
                let from = clause_start.max(i.saturating_sub(NEGATION_WINDOW));
                let mut reached = false;
                for hit in hits[sentence_start_hit..].iter_mut().rev() {
                    if hit.at < from {
                        break;
                    }
                    reached = true;
                    if !hit.negated {
                        hit.valence *= NEGATION_FACTOR;
                        hit.negated = true;
                    }
                }
                if !reached {
                    hits.push(unresolved(i, len));
                }
            }
            Step::Contrast => {
                close(&mut negation, &mut hits);
                contrast_at = Some(i);
                modifier_until = 0;
                clause_start = i + len;
            }
        }
        i += len;
    }
    close(&mut negation, &mut hits);
    end_sentence(&mut hits[sentence_start_hit..], contrast_at);
    hits
}

/// The topic tags of a text: at each place the most specific keyword wins (`waiting room`
/// over `wait*`), its words are consumed, and a tie tags every topic tied.
fn topic_tags(lexicon: &Lexicon, forms: &[Option<Forms>]) -> Vec<String> {
    let mut found: BTreeSet<usize> = BTreeSet::new();
    let mut i = 0;
    while i < forms.len() {
        let matches = lexicon.topics.matches_at(forms, i);
        let Some(best) = matches.iter().map(|m| m.specificity).max() else {
            i += 1;
            continue;
        };
        let mut len = 1;
        for m in matches.iter().filter(|m| m.specificity == best) {
            found.extend(m.value.iter().copied());
            len = len.max(m.len);
        }
        i += len;
    }
    found
        .into_iter()
        .filter_map(|t| lexicon.topic_tags.get(t).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_files_parse() {
        for text in [EMBEDDED_EN, EMBEDDED_FA] {
            if let Err(e) = Lexicon::from_toml(text) {
                panic!("{e}");
            }
        }
    }
}
