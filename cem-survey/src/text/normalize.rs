//! Normalization and tokenization, shared by texts and dictionaries so both meet in one form.
//!
//! [`normalize`] works on characters and is the same for every language: the two scripts the
//! analyzer reads do not share letters, so folding both at once is safe and lets a Persian
//! comment quote an English word (`app`, `SMS`) or the reverse.
//!
//! The tokenizer then splits words and applies the rules of one language: English
//! contractions (`didn't` → `did` `not`), and for Persian the joining of detached prefixes and
//! suffixes (`نمی خواهم` → `نمیخواهم`, `کارمند ها` → `کارمندها`), since the same word is
//! written with a zero-width non-joiner, a space, or nothing between its parts.

/// Folds a text to the form the analyzer matches on.
///
/// - lowercase (Unicode, so `İ` and `É` fold too);
/// - Arabic letter variants to their Persian form: `ي`/`ى`/`ئ` → `ی`, `ك` → `ک`, `ة`/`ۀ` → `ه`,
///   `أ`/`إ`/`آ`/`ٱ` → `ا`, `ؤ` → `و` (the hamza and madda are dropped: writers often omit them,
///   so matching without them is the only way to match both spellings);
/// - tashkeel (harakat, tanwin, shadda, sukun, superscript alef) and tatweel `ـ` removed;
/// - zero-width non-joiner, zero-width joiner, direction marks and the byte-order mark removed,
///   so `نمی‌خواهم` and `نمیخواهم` become one word (a space between the parts is joined by the
///   tokenizer);
/// - Persian `۰-۹` and Arabic-Indic `٠-٩` digits to ASCII `0-9`;
/// - typographic apostrophes to `'`, and the emoticons `:)`/`:-)`/`:(`/`:-(` to `🙂`/`🙁` so
///   the dictionaries can weigh them;
/// - the emoji variation selector U+FE0F removed (`❤️` → `❤`);
/// - a letter typed three times or more in a row, for emphasis, cut to one in Persian
///   (`عالییی` → `عالی`) and to two in other scripts (`goood` → `good`): English doubles
///   letters in its spelling, Persian hardly ever triples them.
///
/// Punctuation is kept: the tokenizer needs it to find clause and sentence ends.
pub fn normalize(text: &str) -> String {
    collapse_runs(&fold(text))
}

/// Cuts runs of three or more of the same letter.
fn collapse_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last: Option<char> = None;
    let mut run = 0;
    for c in text.chars() {
        if Some(c) == last {
            run += 1;
        } else {
            last = Some(c);
            run = 1;
        }
        if !c.is_alphabetic() || run <= 2 {
            out.push(c);
        } else if run == 3 && is_arabic_letter(c) {
            // Two Persian letters in a row are kept (`ممنون`); three or more become one.
            out.pop();
        }
    }
    out
}

fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' {
            let mut look = chars.clone();
            let mut next = look.next();
            if next == Some('-') {
                next = look.next();
            }
            let face = match next {
                Some(')') => Some('🙂'),
                Some('(') => Some('🙁'),
                _ => None,
            };
            if let Some(face) = face {
                out.push(' ');
                out.push(face);
                out.push(' ');
                chars = look;
                continue;
            }
        }
        match fold_char(c) {
            Folded::Drop => {}
            Folded::Char(c) => {
                for lower in c.to_lowercase() {
                    out.push(lower);
                }
            }
        }
    }
    out
}

enum Folded {
    Drop,
    Char(char),
}

fn fold_char(c: char) -> Folded {
    let folded = match c {
        // Yeh variants: Arabic yeh, alef maksura, yeh with hamza above.
        '\u{064A}' | '\u{0649}' | '\u{0626}' => 'ی',
        '\u{0643}' => 'ک',
        '\u{0629}' | '\u{06C0}' | '\u{06C1}' | '\u{06D5}' => 'ه',
        '\u{0622}' | '\u{0623}' | '\u{0625}' | '\u{0671}' => 'ا',
        '\u{0624}' => 'و',
        '\u{06F0}'..='\u{06F9}' => digit(c as u32 - 0x06F0),
        '\u{0660}'..='\u{0669}' => digit(c as u32 - 0x0660),
        '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}' => '\'',
        // Tashkeel, superscript alef, tatweel.
        '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' => return Folded::Drop,
        // ZWNJ, ZWJ, direction marks and embeddings, BOM, emoji variation selector.
        '\u{200C}'
        | '\u{200D}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}'
        | '\u{FE0F}' => return Folded::Drop,
        // The zero-width space separates words.
        '\u{200B}' => ' ',
        other => other,
    };
    Folded::Char(folded)
}

fn digit(value: u32) -> char {
    char::from_digit(value, 10).unwrap_or('0')
}

/// One unit of a tokenized text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// A word, number or emoji, normalized.
    Word(String),
    /// The end of a clause (`,` `;` `:` `،` `؛` dashes): negation stops here.
    Clause,
    /// The end of a sentence (`.` `!` `?` `؟` a line break): contrast stops here too.
    Sentence,
}

impl Token {
    pub(crate) fn word(&self) -> Option<&str> {
        match self {
            Self::Word(w) => Some(w),
            _ => None,
        }
    }
}

/// The tokenizer's rules per language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Script {
    /// English rules (contractions).
    Latin,
    /// Persian rules (detached prefixes and suffixes).
    Persian,
}

/// Persian prefixes written detached from their word.
const FA_PREFIXES: &[&str] = &["می", "نمی", "بی"];

/// Persian suffixes written detached from their word (plural, comparative, personal endings).
const FA_SUFFIXES: &[&str] = &[
    "ها", "های", "هایی", "هایم", "هایش", "تر", "ترین", "ای", "ام", "ایم", "اید", "اند",
];

/// Splits a normalized text into words and breaks and applies the language's joining rules.
pub(crate) fn tokenize(normalized: &str, script: Script) -> Vec<Token> {
    let mut raw = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, raw: &mut Vec<Token>| {
        if !word.is_empty() {
            raw.push(Token::Word(std::mem::take(word)));
        }
    };
    for c in normalized.chars() {
        if c.is_alphanumeric() || (c == '\'' && !word.is_empty()) {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut raw);
        if is_emoji(c) {
            raw.push(Token::Word(c.to_string()));
            continue;
        }
        let brk = match c {
            '.' | '!' | '?' | '؟' | '\n' | '\r' | '…' | '。' => Some(Token::Sentence),
            ',' | ';' | ':' | '،' | '؛' | '–' | '—' | '(' | ')' | '"' | '«' | '»' => {
                Some(Token::Clause)
            }
            _ => None,
        };
        if let Some(brk) = brk {
            // Consecutive breaks collapse, the stronger one kept.
            match (raw.last_mut(), brk) {
                (Some(last @ Token::Clause), Token::Sentence) => *last = Token::Sentence,
                (Some(Token::Clause | Token::Sentence), _) => {}
                (_, brk) => raw.push(brk),
            }
        }
    }
    flush(&mut word, &mut raw);

    let mut tokens = Vec::with_capacity(raw.len() + 4);
    for token in raw {
        match token {
            Token::Word(w) => push_word(&mut tokens, w, script),
            brk => tokens.push(brk),
        }
    }
    if script == Script::Persian {
        join_persian(&mut tokens);
    }
    tokens
}

fn push_word(tokens: &mut Vec<Token>, word: String, script: Script) {
    let word = word.trim_end_matches('\'');
    if !word.contains('\'') {
        tokens.push(Token::Word(word.to_owned()));
        return;
    }
    if script == Script::Latin {
        if let Some(stem) = word.strip_suffix("n't") {
            if !stem.is_empty() {
                tokens.push(Token::Word(stem.to_owned()));
            }
            tokens.push(Token::Word("not".to_owned()));
            return;
        }
        // `it's`, `we'd`, `staff's`: the ending carries nothing the dictionaries use.
        if let Some((stem, _)) = word.split_once('\'') {
            tokens.push(Token::Word(stem.to_owned()));
            return;
        }
    }
    tokens.push(Token::Word(word.replace('\'', "")));
}

/// Joins detached Persian prefixes to the next word and suffixes to the previous one.
fn join_persian(tokens: &mut Vec<Token>) {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut prefix: Option<String> = None;
    for token in tokens.drain(..) {
        match token {
            Token::Word(w) => {
                let w = match prefix.take() {
                    Some(p) => p + &w,
                    None => w,
                };
                if FA_PREFIXES.contains(&w.as_str()) {
                    prefix = Some(w);
                    continue;
                }
                if FA_SUFFIXES.contains(&w.as_str())
                    && let Some(Token::Word(prev)) = out.last_mut()
                    && prev.chars().any(is_arabic_letter)
                {
                    prev.push_str(&w);
                    continue;
                }
                out.push(Token::Word(w));
            }
            brk => {
                if let Some(p) = prefix.take() {
                    out.push(Token::Word(p));
                }
                out.push(brk);
            }
        }
    }
    if let Some(p) = prefix {
        out.push(Token::Word(p));
    }
    *tokens = out;
}

/// Whether a character is a letter of the Arabic script (Persian included).
pub(crate) fn is_arabic_letter(c: char) -> bool {
    c.is_alphabetic()
        && matches!(c,
            '\u{0600}'..='\u{06FF}'
            | '\u{0750}'..='\u{077F}'
            | '\u{08A0}'..='\u{08FF}'
            | '\u{FB50}'..='\u{FDFF}'
            | '\u{FE70}'..='\u{FEFF}')
}

/// Whether a character is an emoji or pictograph the dictionaries may weigh.
fn is_emoji(c: char) -> bool {
    matches!(
        c,
        '\u{1F300}'..='\u{1FAFF}'
            | '\u{2600}'..='\u{27BF}'
            | '\u{2300}'..='\u{23FF}'
            | '\u{2B00}'..='\u{2BFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, script: Script) -> Vec<String> {
        tokenize(&normalize(text), script)
            .into_iter()
            .filter_map(|t| t.word().map(str::to_owned))
            .collect()
    }

    #[test]
    fn arabic_letter_variants_fold_to_persian() {
        assert_eq!(normalize("كارمند"), "کارمند");
        assert_eq!(normalize("خيلي"), "خیلی");
        assert_eq!(normalize("مدرسة"), "مدرسه");
        assert_eq!(normalize("مؤدب"), "مودب");
        assert_eq!(normalize("مسئول"), "مسیول");
        assert_eq!(normalize("أحمد إيران آب"), "احمد ایران اب");
        assert_eq!(normalize("موسى"), "موسی");
    }

    #[test]
    fn diacritics_and_tatweel_are_removed() {
        assert_eq!(normalize("خُوبْ"), "خوب");
        assert_eq!(normalize("مُتَشَکِّرَم"), "متشکرم");
        assert_eq!(normalize("عـــالی"), "عالی");
    }

    #[test]
    fn zwnj_space_and_nothing_give_one_word() {
        let joined = words("نمی‌خواهم", Script::Persian);
        assert_eq!(joined, ["نمیخواهم"]);
        assert_eq!(words("نمی خواهم", Script::Persian), joined);
        assert_eq!(words("نمیخواهم", Script::Persian), joined);
        assert_eq!(words("کارمند ها", Script::Persian), ["کارمندها"]);
        assert_eq!(words("کارمند‌ها", Script::Persian), ["کارمندها"]);
        assert_eq!(words("بی ادب", Script::Persian), ["بیادب"]);
        assert_eq!(words("حرفه ای", Script::Persian), ["حرفهای"]);
    }

    #[test]
    fn repeated_letters_are_cut() {
        assert_eq!(normalize("عالییییی"), "عالی");
        assert_eq!(normalize("ممنون"), "ممنون");
        assert_eq!(normalize("Goooood"), "good");
        assert_eq!(normalize("!!!"), "!!!");
    }

    #[test]
    fn persian_and_arabic_digits_become_ascii() {
        assert_eq!(normalize("۱۲۳۴۵۶۷۸۹۰"), "1234567890");
        assert_eq!(normalize("٠١٢٣٤٥٦٧٨٩"), "0123456789");
        assert_eq!(words("ساعت ۱۰:۳۰", Script::Persian), ["ساعت", "10", "30"]);
    }

    #[test]
    fn english_is_lowercased_and_contractions_split() {
        assert_eq!(
            words("Didn't LIKE it", Script::Latin),
            ["did", "not", "like", "it"]
        );
        assert_eq!(
            words("It’s fine, isn’t it?", Script::Latin),
            ["it", "fine", "is", "not", "it"]
        );
        assert_eq!(words("can't", Script::Latin), ["ca", "not"]);
        assert_eq!(
            words("the staff's attitude", Script::Latin),
            ["the", "staff", "attitude"]
        );
    }

    #[test]
    fn punctuation_becomes_breaks() {
        let tokens = tokenize(&normalize("good, bad. ok!! fine"), Script::Latin);
        assert_eq!(
            tokens,
            [
                Token::Word("good".into()),
                Token::Clause,
                Token::Word("bad".into()),
                Token::Sentence,
                Token::Word("ok".into()),
                Token::Sentence,
                Token::Word("fine".into()),
            ]
        );
        let fa = tokenize(&normalize("خوب بود، ولی دیر شد؟"), Script::Persian);
        assert!(fa.contains(&Token::Clause));
        assert!(fa.contains(&Token::Sentence));
    }

    #[test]
    fn emoticons_and_emoji_are_words() {
        assert_eq!(words("great :) ❤️", Script::Latin), ["great", "🙂", "❤"]);
        assert_eq!(words("bad :-(", Script::Latin), ["bad", "🙁"]);
        assert_eq!(words("👍👍", Script::Latin), ["👍", "👍"]);
    }
}
