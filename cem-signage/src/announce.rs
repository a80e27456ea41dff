//! Call announcements: what a screen shows and says when a ticket is called, and when.
//!
//! - [`ScreenCall`] is all a screen ever learns of a call: the ticket's display number, the
//!   counter, the service's name and the instant. No ticket or customer id, no name, no phone
//!   number: customer personal data never reaches a screen.
//! - [`announcement`] words it in the screen's language: the `text` shown
//!   ("Ticket A-042, please go to counter 3.") and the `speech` for a speech synthesizer, with
//!   every number in words ("Ticket A forty-two, please go to counter three."). English and
//!   Persian are written; other languages fall back to English.
//! - [`words`] spells a number in English or Persian.
//! - [`AnnouncementQueue`] plays announcements one at a time, in call order, never
//!   overlapping; [`speech_secs`] estimates how long one lasts.

use std::collections::VecDeque;

use cem_core::Language;
use cem_core::chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// All a screen learns of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenCall {
    /// The ticket's display number (`A-042`).
    pub display: String,
    /// The counter's number.
    pub counter: u16,
    /// The service's name in the screen's language, when the board shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// When the ticket was called.
    pub called_at: DateTime<Utc>,
}

impl ScreenCall {
    /// The announcement of this call in `language` (see [`announcement`]).
    pub fn announcement(&self, language: &Language) -> Announcement {
        announcement(&self.display, self.counter, language)
    }
}

/// A call as a screen shows and says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The sentence shown, with numbers in digits and the ticket as printed.
    pub text: String,
    /// The sentence spoken, with numbers in words and letters as a person says them.
    pub speech: String,
    /// The language of `text` and `speech`: the screen's, or English when it has no wording.
    pub language: Language,
    /// Whether a chime plays before the speech.
    pub chime: bool,
}

/// The languages with a wording of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wording {
    English,
    Persian,
}

impl Wording {
    fn of(language: &Language) -> Self {
        match language.as_str().split('-').next() {
            Some("fa") => Self::Persian,
            _ => Self::English,
        }
    }
}

/// The call of ticket `display` to counter `counter`, in `language` (English when it has no
/// wording here; [`Announcement::language`] says which was used).
///
/// The ticket is shown as printed and spoken part by part: letters one by one, as a person
/// says them (in English the letter itself; in Persian its name, see [`letter_name`]), each
/// run of digits as a number without its leading zeros (`042` is "forty-two"), other
/// letters (a prefix in a non-Latin script) as written; dashes and spaces only separate.
///
/// ```
/// use cem_core::Language;
/// use cem_signage::announcement;
///
/// let a = announcement("A-042", 3, &Language::en());
/// assert_eq!(a.text, "Ticket A-042, please go to counter 3.");
/// assert_eq!(a.speech, "Ticket A forty-two, please go to counter three.");
/// let a = announcement("A-042", 3, &Language::fa());
/// assert_eq!(a.speech, "شمارهٔ ای چهل و دو، لطفاً به باجهٔ سه مراجعه کنید.");
/// ```
pub fn announcement(display: &str, counter: u16, language: &Language) -> Announcement {
    let wording = Wording::of(language);
    let spoken = spell_display(display, wording);
    let display = display.trim();
    let counter_words = spell(u32::from(counter), wording);
    let (text, speech, language) = match wording {
        Wording::English => {
            let say = |ticket: &str, counter: &str| {
                if ticket.is_empty() {
                    format!("Please go to counter {counter}.")
                } else {
                    format!("Ticket {ticket}, please go to counter {counter}.")
                }
            };
            (
                say(display, &counter.to_string()),
                say(&spoken, &counter_words),
                Language::en(),
            )
        }
        Wording::Persian => {
            let say = |ticket: &str, counter: &str| {
                if ticket.is_empty() {
                    format!("لطفاً به باجهٔ {counter} مراجعه کنید.")
                } else {
                    format!("شمارهٔ {ticket}، لطفاً به باجهٔ {counter} مراجعه کنید.")
                }
            };
            (
                say(display, &persian_digits(&counter.to_string())),
                say(&spoken, &counter_words),
                language.clone(),
            )
        }
    };
    Announcement {
        text,
        speech,
        language,
        chime: true,
    }
}

/// The parts of a display number as spoken.
fn spell_display(display: &str, wording: Wording) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut digits = String::new();
    let mut word = String::new();
    let flush = |parts: &mut Vec<String>, digits: &mut String, word: &mut String| {
        if !digits.is_empty() {
            parts.push(spell_digits(digits, wording));
            digits.clear();
        }
        if !word.is_empty() {
            parts.push(std::mem::take(word));
        }
    };
    for c in display.chars() {
        if let Some(d) = digit(c) {
            if !word.is_empty() {
                flush(&mut parts, &mut digits, &mut word);
            }
            digits.push(char::from(b'0' + d));
        } else if c.is_ascii_alphabetic() {
            flush(&mut parts, &mut digits, &mut word);
            parts.push(match wording {
                Wording::English => c.to_ascii_uppercase().to_string(),
                Wording::Persian => letter_name(c).unwrap_or_default().to_owned(),
            });
        } else if c.is_alphabetic() {
            if !digits.is_empty() {
                flush(&mut parts, &mut digits, &mut word);
            }
            word.push(c);
        } else {
            flush(&mut parts, &mut digits, &mut word);
        }
    }
    flush(&mut parts, &mut digits, &mut word);
    parts.join(" ")
}

/// A run of decimal digits as spoken: a number without leading zeros, or digit by digit when
/// it is too long to be one.
fn spell_digits(digits: &str, wording: Wording) -> String {
    let significant = digits.trim_start_matches('0');
    match significant.parse::<u32>() {
        Ok(n) => spell(n, wording),
        Err(_) if significant.is_empty() => spell(0, wording),
        Err(_) => digits
            .bytes()
            .map(|b| spell(u32::from(b - b'0'), wording))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The value of a decimal digit: ASCII, Persian (`۴`) or Arabic-Indic (`٤`).
fn digit(c: char) -> Option<u8> {
    let d = match c {
        '0'..='9' => u32::from(c) - u32::from('0'),
        '۰'..='۹' => u32::from(c) - u32::from('۰'),
        '٠'..='٩' => u32::from(c) - u32::from('٠'),
        _ => return None,
    };
    u8::try_from(d).ok()
}

/// ASCII digits written as Persian digits (`3` → `۳`).
fn persian_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(u32::from('۰') + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// The Persian name of a Latin letter, as Persian speakers say it when reading a ticket
/// (`A` → `ای`, `B` → `بی`); the same for a lower-case letter; `None` for anything else.
///
/// A ای, B بی, C سی, D دی, E ایی, F اف, G جی, H اچ, I آی, J جِی, K کی, L ال, M ام,
/// N ان, O او, P پی, Q کیو, R آر, S اس, T تی, U یو, V وی, W دبلیو, X ایکس, Y وای, Z زد.
///
/// `A` (said "ey") and `E` (said "ee") are told apart in writing, `ای` and `ایی`, so a speech
/// synthesizer says them differently; so are `G` ("jee", `جی`) and `J` ("jey", `جِی`, with a
/// kasra).
pub fn letter_name(letter: char) -> Option<&'static str> {
    const NAMES: [&str; 26] = [
        "ای",
        "بی",
        "سی",
        "دی",
        "ایی",
        "اف",
        "جی",
        "اچ",
        "آی",
        "جِی",
        "کی",
        "ال",
        "ام",
        "ان",
        "او",
        "پی",
        "کیو",
        "آر",
        "اس",
        "تی",
        "یو",
        "وی",
        "دبلیو",
        "ایکس",
        "وای",
        "زد",
    ];
    letter
        .is_ascii_alphabetic()
        .then(|| NAMES[usize::from(letter.to_ascii_uppercase() as u8 - b'A')])
}

/// `n` in words in `language`: English ("two thousand and twenty-six") or Persian
/// ("دو هزار و بیست و شش"); any other language falls back to English. Every `u32` is spelled.
///
/// English is written in the British way, with "and" before the tens and units of a hundred
/// ("one hundred and five") and before a last part below a hundred ("one thousand and one").
/// Persian joins every part with "و", says a single thousand as "هزار" (not "یک هزار") and
/// larger units with their count ("یک میلیون").
pub fn words(n: u32, language: &Language) -> String {
    spell(n, Wording::of(language))
}

fn spell(n: u32, wording: Wording) -> String {
    match wording {
        Wording::English => english(n),
        Wording::Persian => persian(n),
    }
}

const EN_ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const EN_TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
/// The units of three digits each, largest first.
const SCALES: [u32; 3] = [1_000_000_000, 1_000_000, 1_000];

fn english_below_100(n: u32) -> String {
    let n = n as usize;
    match (n / 10, n % 10) {
        (0 | 1, _) => EN_ONES[n].to_owned(),
        (tens, 0) => EN_TENS[tens].to_owned(),
        (tens, units) => format!("{}-{}", EN_TENS[tens], EN_ONES[units]),
    }
}

fn english_below_1000(n: u32) -> String {
    let (hundreds, rest) = (n / 100, n % 100);
    match (hundreds, rest) {
        (0, r) => english_below_100(r),
        (h, 0) => format!("{} hundred", EN_ONES[h as usize]),
        (h, r) => format!(
            "{} hundred and {}",
            EN_ONES[h as usize],
            english_below_100(r)
        ),
    }
}

fn english(n: u32) -> String {
    if n == 0 {
        return EN_ONES[0].to_owned();
    }
    let mut parts = Vec::new();
    let mut rest = n;
    for (scale, name) in SCALES.into_iter().zip(["billion", "million", "thousand"]) {
        if rest >= scale {
            parts.push(format!("{} {name}", english_below_1000(rest / scale)));
            rest %= scale;
        }
    }
    if rest > 0 {
        if !parts.is_empty() && rest < 100 {
            parts.push(format!("and {}", english_below_100(rest)));
        } else {
            parts.push(english_below_1000(rest));
        }
    }
    parts.join(" ")
}

const FA_ONES: [&str; 20] = [
    "صفر",
    "یک",
    "دو",
    "سه",
    "چهار",
    "پنج",
    "شش",
    "هفت",
    "هشت",
    "نه",
    "ده",
    "یازده",
    "دوازده",
    "سیزده",
    "چهارده",
    "پانزده",
    "شانزده",
    "هفده",
    "هجده",
    "نوزده",
];
const FA_TENS: [&str; 10] = [
    "",
    "",
    "بیست",
    "سی",
    "چهل",
    "پنجاه",
    "شصت",
    "هفتاد",
    "هشتاد",
    "نود",
];
const FA_HUNDREDS: [&str; 10] = [
    "",
    "صد",
    "دویست",
    "سیصد",
    "چهارصد",
    "پانصد",
    "ششصد",
    "هفتصد",
    "هشتصد",
    "نهصد",
];

/// The parts of `1..=999` in Persian, to be joined with "و".
fn persian_below_1000(n: u32) -> Vec<&'static str> {
    let n = n as usize;
    let mut parts = Vec::new();
    if n >= 100 {
        parts.push(FA_HUNDREDS[n / 100]);
    }
    match n % 100 {
        0 => {}
        r if r < 20 => parts.push(FA_ONES[r]),
        r => {
            parts.push(FA_TENS[r / 10]);
            if r % 10 != 0 {
                parts.push(FA_ONES[r % 10]);
            }
        }
    }
    parts
}

fn persian(n: u32) -> String {
    if n == 0 {
        return FA_ONES[0].to_owned();
    }
    let mut parts = Vec::new();
    let mut rest = n;
    for (scale, name) in SCALES.into_iter().zip(["میلیارد", "میلیون", "هزار"]) {
        if rest >= scale {
            let count = rest / scale;
            parts.push(if count == 1 && scale == 1_000 {
                name.to_owned()
            } else {
                format!("{} {name}", persian_below_1000(count).join(" و "))
            });
            rest %= scale;
        }
    }
    if rest > 0 {
        parts.push(persian_below_1000(rest).join(" و "));
    }
    parts.join(" و ")
}

/// The chime before an announcement, in seconds.
pub const CHIME_SECS: f64 = 1.5;
/// The speaking rate [`speech_secs`] assumes, in characters per second (about 150 words a
/// minute in English).
pub const SPEECH_CHARS_PER_SEC: f64 = 13.0;
/// The longest an announcement is given in an [`AnnouncementQueue`], in seconds.
pub const MAX_ANNOUNCEMENT_SECS: f64 = 120.0;

/// An estimate of how long an announcement lasts, in seconds: the chime ([`CHIME_SECS`]) and
/// the speech at [`SPEECH_CHARS_PER_SEC`] characters a second. A screen that measures the real
/// duration passes that to the queue instead.
pub fn speech_secs(speech: &str) -> f64 {
    // Characters, not bytes: a Persian letter is two bytes but one sound.
    CHIME_SECS + speech.chars().count() as f64 / SPEECH_CHARS_PER_SEC
}

/// When an announcement plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheduled {
    /// When it starts (the chime).
    pub starts_at: DateTime<Utc>,
    /// When it is over, so the next may start.
    pub ends_at: DateTime<Utc>,
}

/// An announcement in an [`AnnouncementQueue`], with when it plays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    /// What is said.
    pub announcement: Announcement,
    /// When.
    pub at: Scheduled,
}

/// The announcements of a screen, one after the other: each starts when it is called or when
/// the one before is over, whichever is later, so two never overlap and they play in the order
/// they were pushed (the order of the calls), whatever the instants given.
///
/// It is pure state; the caller passes the instants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementQueue {
    queued: VecDeque<Queued>,
    busy_until: Option<DateTime<Utc>>,
}

impl AnnouncementQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `announcement`, called at `now`, lasting `duration_secs` (rounded up to the
    /// millisecond; a negative or NaN duration counts as zero, one above
    /// [`MAX_ANNOUNCEMENT_SECS`] as that).
    pub fn push(
        &mut self,
        announcement: Announcement,
        now: DateTime<Utc>,
        duration_secs: f64,
    ) -> Scheduled {
        let millis = if duration_secs.is_nan() {
            0.0
        } else {
            (duration_secs * 1000.0)
                .ceil()
                .clamp(0.0, MAX_ANNOUNCEMENT_SECS * 1000.0)
        };
        let starts_at = self.busy_until.map_or(now, |busy| busy.max(now));
        let at = Scheduled {
            starts_at,
            ends_at: starts_at + Duration::milliseconds(millis as i64),
        };
        self.busy_until = Some(at.ends_at);
        self.queued.push_back(Queued { announcement, at });
        at
    }

    /// Schedules `announcement`, called at `now`, for the [estimated](speech_secs) length of
    /// its speech.
    pub fn push_estimated(&mut self, announcement: Announcement, now: DateTime<Utc>) -> Scheduled {
        let secs = speech_secs(&announcement.speech);
        self.push(announcement, now, secs)
    }

    /// When the last announcement is over; `None` before the first.
    pub fn busy_until(&self) -> Option<DateTime<Utc>> {
        self.busy_until
    }

    /// The announcement playing at `now`, if any.
    pub fn playing(&self, now: DateTime<Utc>) -> Option<&Queued> {
        self.queued
            .iter()
            .find(|q| q.at.starts_at <= now && now < q.at.ends_at)
    }

    /// The announcements kept, in order: those not yet [pruned](Self::prune).
    pub fn queued(&self) -> impl Iterator<Item = &Queued> {
        self.queued.iter()
    }

    /// Forgets the announcements over at `now`. What comes next is scheduled as before.
    pub fn prune(&mut self, now: DateTime<Utc>) {
        while self.queued.front().is_some_and(|q| q.at.ends_at <= now) {
            self.queued.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::utc;
    use proptest::prelude::*;

    fn en(n: u32) -> String {
        words(n, &Language::en())
    }

    fn fa(n: u32) -> String {
        words(n, &Language::fa())
    }

    #[test]
    fn english_numbers() {
        let table = [
            (0, "zero"),
            (1, "one"),
            (7, "seven"),
            (10, "ten"),
            (11, "eleven"),
            (12, "twelve"),
            (13, "thirteen"),
            (14, "fourteen"),
            (15, "fifteen"),
            (16, "sixteen"),
            (17, "seventeen"),
            (18, "eighteen"),
            (19, "nineteen"),
            (20, "twenty"),
            (30, "thirty"),
            (40, "forty"),
            (42, "forty-two"),
            (50, "fifty"),
            (60, "sixty"),
            (70, "seventy"),
            (80, "eighty"),
            (90, "ninety"),
            (99, "ninety-nine"),
            (100, "one hundred"),
            (105, "one hundred and five"),
            (110, "one hundred and ten"),
            (200, "two hundred"),
            (999, "nine hundred and ninety-nine"),
            (1_000, "one thousand"),
            (1_001, "one thousand and one"),
            (1_100, "one thousand one hundred"),
            (1_234, "one thousand two hundred and thirty-four"),
            (2_026, "two thousand and twenty-six"),
            (10_000, "ten thousand"),
            (21_000, "twenty-one thousand"),
            (100_000, "one hundred thousand"),
            (101_010, "one hundred and one thousand and ten"),
            (
                999_999,
                "nine hundred and ninety-nine thousand nine hundred and ninety-nine",
            ),
            (1_000_000, "one million"),
            (1_000_001, "one million and one"),
            (2_500_000, "two million five hundred thousand"),
            (
                u32::MAX,
                "four billion two hundred and ninety-four million nine hundred and sixty-seven \
                 thousand two hundred and ninety-five",
            ),
        ];
        for (n, w) in table {
            assert_eq!(en(n), w, "{n}");
        }
    }

    #[test]
    fn persian_numbers() {
        let table = [
            (0, "صفر"),
            (1, "یک"),
            (2, "دو"),
            (3, "سه"),
            (10, "ده"),
            (11, "یازده"),
            (12, "دوازده"),
            (13, "سیزده"),
            (14, "چهارده"),
            (15, "پانزده"),
            (16, "شانزده"),
            (17, "هفده"),
            (18, "هجده"),
            (19, "نوزده"),
            (20, "بیست"),
            (30, "سی"),
            (40, "چهل"),
            (42, "چهل و دو"),
            (50, "پنجاه"),
            (60, "شصت"),
            (70, "هفتاد"),
            (80, "هشتاد"),
            (90, "نود"),
            (100, "صد"),
            (105, "صد و پنج"),
            (200, "دویست"),
            (300, "سیصد"),
            (400, "چهارصد"),
            (500, "پانصد"),
            (600, "ششصد"),
            (700, "هفتصد"),
            (800, "هشتصد"),
            (900, "نهصد"),
            (999, "نهصد و نود و نه"),
            (1_000, "هزار"),
            (1_001, "هزار و یک"),
            (1_500, "هزار و پانصد"),
            (2_000, "دو هزار"),
            (2_026, "دو هزار و بیست و شش"),
            (12_000, "دوازده هزار"),
            (100_000, "صد هزار"),
            (101_000, "صد و یک هزار"),
            (999_999, "نهصد و نود و نه هزار و نهصد و نود و نه"),
            (1_000_000, "یک میلیون"),
            (3_000_001, "سه میلیون و یک"),
            (2_000_000_000, "دو میلیارد"),
        ];
        for (n, w) in table {
            assert_eq!(fa(n), w, "{n}");
        }
    }

    #[test]
    fn other_languages_fall_back_to_english_and_regions_count() {
        assert_eq!(words(42, &Language::new("de")), "forty-two");
        assert_eq!(words(42, &Language::new("fa-IR")), "چهل و دو");
        assert_eq!(words(42, &Language::new("en-GB")), "forty-two");
    }

    #[test]
    fn calls_are_shown_and_spoken() {
        let a = announcement("A-042", 3, &Language::en());
        assert_eq!(a.text, "Ticket A-042, please go to counter 3.");
        assert_eq!(a.speech, "Ticket A forty-two, please go to counter three.");
        assert_eq!(a.language, Language::en());
        assert!(a.chime);

        let a = announcement("A-042", 3, &Language::fa());
        assert_eq!(a.text, "شمارهٔ A-042، لطفاً به باجهٔ ۳ مراجعه کنید.");
        assert_eq!(a.speech, "شمارهٔ ای چهل و دو، لطفاً به باجهٔ سه مراجعه کنید.");
        assert_eq!(a.language, Language::fa());

        let a = announcement("VIP-007", 12, &Language::en());
        assert_eq!(a.speech, "Ticket V I P seven, please go to counter twelve.");
        let a = announcement("B-1234", 105, &Language::new("de"));
        assert_eq!(a.language, Language::en());
        assert_eq!(
            a.speech,
            "Ticket B one thousand two hundred and thirty-four, please go to counter one \
             hundred and five."
        );
        let a = announcement("e-000", 1, &Language::fa());
        assert_eq!(a.speech, "شمارهٔ ایی صفر، لطفاً به باجهٔ یک مراجعه کنید.");
        // A Persian prefix is said as written; Persian digits are read too.
        let a = announcement("ب-۰۴۲", 2, &Language::fa());
        assert_eq!(a.speech, "شمارهٔ ب چهل و دو، لطفاً به باجهٔ دو مراجعه کنید.");
        // Too long for a number: digit by digit.
        let a = announcement("A-12345678901", 1, &Language::en());
        assert!(
            a.speech
                .starts_with("Ticket A one two three four five six seven eight nine zero one,")
        );
        // Nothing to say of the ticket.
        let a = announcement(" - ", 4, &Language::en());
        assert_eq!(a.speech, "Please go to counter four.");
    }

    #[test]
    fn every_latin_letter_has_a_persian_name() {
        let names: std::collections::HashSet<_> =
            ('A'..='Z').map(|c| letter_name(c).unwrap()).collect();
        assert_eq!(names.len(), 26, "names are told apart");
        assert_eq!(letter_name('a'), Some("ای"));
        assert_eq!(letter_name('1'), None);
        assert_eq!(letter_name('ب'), None);
    }

    #[test]
    fn a_screen_call_carries_nothing_personal() {
        let call = ScreenCall {
            display: "A-042".into(),
            counter: 3,
            service: Some("Deposits".into()),
            called_at: utc("2026-05-01T08:00:00Z"),
        };
        let json = serde_json::to_value(&call).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["called_at", "counter", "display", "service"]);
        let json = serde_json::to_value(ScreenCall {
            service: None,
            ..call.clone()
        })
        .unwrap();
        assert_eq!(json.as_object().unwrap().len(), 3);
        assert_eq!(
            call.announcement(&Language::en()).speech,
            "Ticket A forty-two, please go to counter three."
        );
    }

    #[test]
    fn speech_length_counts_characters() {
        assert_eq!(speech_secs(""), CHIME_SECS);
        assert_eq!(speech_secs(&"a".repeat(26)), CHIME_SECS + 2.0);
        assert_eq!(speech_secs("سه"), speech_secs("ab"));
    }

    #[test]
    fn the_queue_plays_one_at_a_time() {
        let mut q = AnnouncementQueue::new();
        let a = || announcement("A-001", 1, &Language::en());
        let t0 = utc("2026-05-01T08:00:00Z");
        let first = q.push(a(), t0, 4.0);
        assert_eq!(
            first,
            Scheduled {
                starts_at: t0,
                ends_at: t0 + Duration::seconds(4)
            }
        );
        let second = q.push(a(), t0 + Duration::seconds(1), 2.0001);
        assert_eq!(second.starts_at, first.ends_at);
        assert_eq!(second.ends_at, first.ends_at + Duration::milliseconds(2001));
        assert_eq!(q.playing(t0 + Duration::seconds(5)).unwrap().at, second);
        assert_eq!(q.playing(t0 + Duration::seconds(7)), None);
        // After a quiet spell, the next starts when called.
        let third = q.push(a(), t0 + Duration::seconds(60), f64::NAN);
        assert_eq!(third.starts_at, third.ends_at);
        assert_eq!(third.starts_at, t0 + Duration::seconds(60));
        let fourth = q.push_estimated(a(), t0 + Duration::seconds(60));
        assert_eq!(fourth.starts_at, third.ends_at);
        q.prune(t0 + Duration::seconds(60));
        assert_eq!(q.queued().count(), 1);
        let late = q.push(a(), t0, f64::INFINITY);
        assert_eq!(late.ends_at - late.starts_at, Duration::seconds(120));
    }

    /// Turns words back into the number, for the round trip.
    fn parse_en(s: &str) -> u32 {
        let (mut total, mut current) = (0_u64, 0_u64);
        for w in s.split([' ', '-']).filter(|w| *w != "and") {
            if let Some(n) = EN_ONES.iter().position(|x| *x == w) {
                current += n as u64;
            } else if let Some(n) = EN_TENS.iter().position(|x| *x == w && !x.is_empty()) {
                current += 10 * n as u64;
            } else if w == "hundred" {
                current *= 100;
            } else {
                let scale = match w {
                    "thousand" => 1_000,
                    "million" => 1_000_000,
                    "billion" => 1_000_000_000,
                    _ => panic!("unknown word {w:?} in {s:?}"),
                };
                total += current * scale;
                current = 0;
            }
        }
        u32::try_from(total + current).unwrap()
    }

    fn parse_fa(s: &str) -> u32 {
        let (mut total, mut current) = (0_u64, 0_u64);
        for w in s.split(' ').filter(|w| *w != "و") {
            if let Some(n) = FA_ONES.iter().position(|x| *x == w) {
                current += n as u64;
            } else if let Some(n) = FA_TENS.iter().position(|x| *x == w && !x.is_empty()) {
                current += 10 * n as u64;
            } else if let Some(n) = FA_HUNDREDS.iter().position(|x| *x == w && !x.is_empty()) {
                current += 100 * n as u64;
            } else {
                let scale = match w {
                    "هزار" => 1_000,
                    "میلیون" => 1_000_000,
                    "میلیارد" => 1_000_000_000,
                    _ => panic!("unknown word {w:?} in {s:?}"),
                };
                total += current.max(1) * scale;
                current = 0;
            }
        }
        u32::try_from(total + current).unwrap()
    }

    proptest! {
        #[test]
        fn words_are_never_empty_and_read_back(n in prop_oneof![0_u32..1_000_000, any::<u32>()]) {
            let (e, f) = (en(n), fa(n));
            prop_assert!(!e.is_empty() && !f.is_empty());
            prop_assert!(!e.contains("  ") && !f.contains("  "));
            prop_assert_eq!(parse_en(&e), n, "{}", e);
            prop_assert_eq!(parse_fa(&f), n, "{}", f);
        }

        #[test]
        fn announcements_never_overlap_and_keep_call_order(
            calls in proptest::collection::vec((-3_600_i64..3_600, -5.0_f64..30.0), 1..40),
        ) {
            let mut q = AnnouncementQueue::new();
            let base = utc("2026-05-01T08:00:00Z");
            let mut previous: Option<Scheduled> = None;
            for (i, (offset, secs)) in calls.into_iter().enumerate() {
                let now = base + Duration::seconds(offset);
                let s = q.push(announcement(&format!("A-{i:03}"), 1, &Language::en()), now, secs);
                prop_assert!(s.starts_at >= now);
                prop_assert!(s.ends_at >= s.starts_at);
                if let Some(p) = previous {
                    prop_assert!(s.starts_at >= p.ends_at);
                }
                prop_assert_eq!(q.busy_until(), Some(s.ends_at));
                previous = Some(s);
            }
            let order: Vec<_> = q.queued().map(|x| x.at.starts_at).collect();
            prop_assert!(order.windows(2).all(|w| w[0] <= w[1]));
        }
    }
}
