//! The message catalogues: one TOML file per language under `locales/`, embedded in the crate.
//!
//! To add a language, write `locales/<tag>.toml` after `locales/en.toml` and register it with
//! one line in [`LOCALES`]; `cargo test` then checks it against every message kind.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use cem_core::Language;
use cem_core::chrono_tz::Tz;
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Deserialize;

use crate::RenderError;
use crate::jalali::JalaliDate;
use crate::kind::{KINDS, placeholders_of};
use crate::template::{self, Piece};

/// The registered catalogues: language tag and file.
const LOCALES: &[(&str, &str)] = &[
    ("en", include_str!("../locales/en.toml")),
    ("fa", include_str!("../locales/fa.toml")),
];

/// The language every message falls back to.
pub(crate) const FALLBACK: &str = "en";

/// The phrases every catalogue defines, with the placeholders each is given.
const PHRASES: &[(&str, &[&str])] = &[
    ("ahead_none", &[]),
    ("ahead_one", &["count"]),
    ("ahead_other", &["count"]),
    ("wait_known", &["minutes"]),
    ("wait_unknown", &[]),
];

/// The parts of a message: the SMS text, the e-mail subject and the e-mail body.
pub(crate) const PARTS: &[&str] = &["sms", "email_subject", "email_body"];

const DATE_FIELDS: &[&str] = &["weekday", "day", "month", "year"];
const DATE_TIME_FIELDS: &[&str] = &["date", "time"];
const ASCII_DIGITS: &str = "0123456789";

/// One catalogue file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Catalogue {
    format: Format,
    phrases: BTreeMap<String, String>,
    messages: BTreeMap<String, Templates>,
}

/// How a language writes numbers and dates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Format {
    /// The ten digits, zero first.
    digits: String,
    calendar: Calendar,
    /// Twelve month names of the calendar.
    months: Vec<String>,
    /// Seven weekday names, Monday first.
    weekdays: Vec<String>,
    /// A date, from `{weekday}`, `{day}`, `{month}`, `{year}`.
    date: String,
    /// A date and time, from `{date}` and `{time}` (24 h, `HH:MM`).
    date_time: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Calendar {
    Gregorian,
    Persian,
}

/// The templates of one message kind.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Templates {
    sms: Option<String>,
    email_subject: Option<String>,
    email_body: Option<String>,
}

impl Templates {
    fn part(&self, part: &str) -> Option<&str> {
        match part {
            "sms" => self.sms.as_deref(),
            "email_subject" => self.email_subject.as_deref(),
            "email_body" => self.email_body.as_deref(),
            _ => None,
        }
    }
}

static CATALOGUES: LazyLock<Vec<(&'static str, Result<Catalogue, RenderError>)>> =
    LazyLock::new(|| {
        LOCALES
            .iter()
            .map(|&(tag, text)| (tag, Catalogue::parse(tag, text)))
            .collect()
    });

/// The languages that have a catalogue.
pub fn languages() -> Vec<Language> {
    LOCALES.iter().map(|(tag, _)| Language::new(tag)).collect()
}

/// Checks every registered catalogue: it parses, its `[format]` is usable, it has every
/// message kind with all three parts and every phrase, names nothing unknown, each template
/// uses only the placeholders it is given, and (for a language with its own digits) its own
/// text writes no ASCII digit.
///
/// # Errors
/// Every fault found, in every catalogue.
pub fn check_catalogues() -> Result<(), Vec<RenderError>> {
    let mut faults = Vec::new();
    for (tag, catalogue) in CATALOGUES.iter() {
        match catalogue {
            Ok(catalogue) => catalogue.check(tag, &mut faults),
            Err(e) => faults.push(e.clone()),
        }
    }
    if faults.is_empty() {
        Ok(())
    } else {
        Err(faults)
    }
}

/// The catalogue to write `kind` in for `language`: the language's own, else that of its
/// primary subtag (`fa-IR` → `fa`), else English. A catalogue that failed to parse or lacks
/// the kind is skipped.
pub(crate) fn catalogue_for(
    language: &Language,
    kind: &str,
) -> Result<(&'static str, &'static Catalogue), RenderError> {
    let primary = language.as_str().split('-').next().unwrap_or_default();
    let candidates = [language.as_str(), primary, FALLBACK];
    for wanted in candidates {
        let found = CATALOGUES.iter().find(|(tag, _)| *tag == wanted);
        if let Some((tag, Ok(catalogue))) = found
            && let Some(templates) = catalogue.messages.get(kind)
            && PARTS.iter().all(|p| templates.part(p).is_some())
        {
            return Ok((tag, catalogue));
        }
    }
    match CATALOGUES.iter().find(|(tag, _)| *tag == FALLBACK) {
        Some((_, Err(e))) => Err(e.clone()),
        _ => Err(RenderError::MissingTemplate {
            language: FALLBACK.to_owned(),
            template: format!("messages.{kind}"),
        }),
    }
}

impl Catalogue {
    fn parse(tag: &str, text: &str) -> Result<Self, RenderError> {
        let catalogue: Self = toml::from_str(text).map_err(|e| RenderError::Catalogue {
            language: tag.to_owned(),
            reason: e.message().to_owned(),
        })?;
        let format = &catalogue.format;
        let bad = |reason: &str| RenderError::Catalogue {
            language: tag.to_owned(),
            reason: reason.to_owned(),
        };
        if format.digits.chars().count() != 10 {
            return Err(bad("`format.digits` must hold ten digits, zero first"));
        }
        if format.months.len() != 12 {
            return Err(bad("`format.months` must name twelve months"));
        }
        if format.weekdays.len() != 7 {
            return Err(bad("`format.weekdays` must name seven days, Monday first"));
        }
        Ok(catalogue)
    }

    /// Adds every fault of this catalogue to `faults`.
    fn check(&self, tag: &str, faults: &mut Vec<RenderError>) {
        let own_digits = self.format.digits != ASCII_DIGITS;
        let mut check_one = |path: String, text: Option<&str>, allowed: &[&str]| {
            let Some(text) = text else {
                faults.push(RenderError::MissingTemplate {
                    language: tag.to_owned(),
                    template: path,
                });
                return;
            };
            let pieces = match template::parse(text) {
                Ok(pieces) => pieces,
                Err(reason) => {
                    faults.push(RenderError::MalformedTemplate {
                        language: tag.to_owned(),
                        template: path,
                        reason,
                    });
                    return;
                }
            };
            for piece in &pieces {
                if let Piece::Placeholder(name) = piece
                    && !allowed.contains(name)
                {
                    faults.push(RenderError::UnknownPlaceholder {
                        language: tag.to_owned(),
                        template: path.clone(),
                        name: (*name).to_owned(),
                    });
                }
            }
            if own_digits
                && template::literal_text(&pieces).any(|t| t.bytes().any(|b| b.is_ascii_digit()))
            {
                faults.push(RenderError::ForeignDigits {
                    language: tag.to_owned(),
                    template: path,
                });
            }
        };

        check_one("format.date".into(), Some(&self.format.date), DATE_FIELDS);
        check_one(
            "format.date_time".into(),
            Some(&self.format.date_time),
            DATE_TIME_FIELDS,
        );
        for (name, allowed) in PHRASES {
            check_one(
                format!("phrases.{name}"),
                self.phrases.get(*name).map(String::as_str),
                allowed,
            );
        }
        let empty = Templates::default();
        for (kind, allowed) in KINDS {
            let templates = self.messages.get(*kind).unwrap_or(&empty);
            for part in PARTS {
                check_one(
                    format!("messages.{kind}.{part}"),
                    templates.part(part),
                    allowed,
                );
            }
        }
        for name in self.phrases.keys() {
            if !PHRASES.iter().any(|(n, _)| n == name) {
                faults.push(RenderError::UnknownTemplate {
                    language: tag.to_owned(),
                    template: format!("phrases.{name}"),
                });
            }
        }
        for kind in self.messages.keys() {
            if placeholders_of(kind).is_none() {
                faults.push(RenderError::UnknownTemplate {
                    language: tag.to_owned(),
                    template: format!("messages.{kind}"),
                });
            }
        }
    }

    /// The template `part` of `kind`, parsed.
    pub(crate) fn template(
        &self,
        tag: &str,
        kind: &str,
        part: &str,
    ) -> Result<Vec<Piece<'_>>, RenderError> {
        let path = format!("messages.{kind}.{part}");
        let text = self
            .messages
            .get(kind)
            .and_then(|t| t.part(part))
            .ok_or_else(|| RenderError::MissingTemplate {
                language: tag.to_owned(),
                template: path.clone(),
            })?;
        parse_at(tag, path, text)
    }

    /// `text` with every ASCII digit written in the language's digits.
    pub(crate) fn digits(&self, text: &str) -> String {
        if self.format.digits == ASCII_DIGITS {
            return text.to_owned();
        }
        let digits: Vec<char> = self.format.digits.chars().collect();
        text.chars()
            .map(|c| match c.to_digit(10) {
                Some(d) if c.is_ascii_digit() => digits[d as usize],
                _ => c,
            })
            .collect()
    }

    /// The phrase `name`, filled with `values`.
    pub(crate) fn phrase(
        &self,
        tag: &str,
        name: &str,
        values: &[(&str, String)],
    ) -> Result<String, RenderError> {
        let path = format!("phrases.{name}");
        let text = self
            .phrases
            .get(name)
            .ok_or_else(|| RenderError::MissingTemplate {
                language: tag.to_owned(),
                template: path.clone(),
            })?;
        fill_at(tag, path, text, values)
    }

    /// `at` in `time_zone`, written as the language writes it: `(date and time, date, time)`.
    pub(crate) fn when(
        &self,
        tag: &str,
        at: DateTime<Utc>,
        time_zone: Tz,
    ) -> Result<(String, String, String), RenderError> {
        let local = at.with_timezone(&time_zone);
        let weekday = self.format.weekdays[local.weekday().num_days_from_monday() as usize].clone();
        let (year, month, day) = match self.format.calendar {
            Calendar::Gregorian => (local.year(), local.month(), local.day()),
            Calendar::Persian => {
                let j = JalaliDate::from_gregorian(local.date_naive())
                    .ok_or(RenderError::DateOutOfRange { at })?;
                (j.year, u32::from(j.month), u32::from(j.day))
            }
        };
        let month_name = self.format.months[(month - 1) as usize].clone();
        let date = fill_at(
            tag,
            "format.date".into(),
            &self.format.date,
            &[
                ("weekday", weekday),
                ("day", self.digits(&day.to_string())),
                ("month", month_name),
                ("year", self.digits(&year.to_string())),
            ],
        )?;
        let time = self.digits(&format!("{:02}:{:02}", local.hour(), local.minute()));
        let when = fill_at(
            tag,
            "format.date_time".into(),
            &self.format.date_time,
            &[("date", date.clone()), ("time", time.clone())],
        )?;
        Ok((when, date, time))
    }
}

fn parse_at<'t>(tag: &str, path: String, text: &'t str) -> Result<Vec<Piece<'t>>, RenderError> {
    template::parse(text).map_err(|reason| RenderError::MalformedTemplate {
        language: tag.to_owned(),
        template: path,
        reason,
    })
}

/// Fills the template `text` found at `path`.
pub(crate) fn fill_at(
    tag: &str,
    path: String,
    text: &str,
    values: &[(&str, String)],
) -> Result<String, RenderError> {
    let pieces = parse_at(tag, path.clone(), text)?;
    fill_pieces(tag, path, &pieces, values)
}

/// Fills parsed pieces of the template at `path`.
pub(crate) fn fill_pieces(
    tag: &str,
    path: String,
    pieces: &[Piece<'_>],
    values: &[(&str, String)],
) -> Result<String, RenderError> {
    template::fill(pieces, values).map_err(|name| RenderError::UnknownPlaceholder {
        language: tag.to_owned(),
        template: path,
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_FORMAT: &str = r#"
[format]
digits = "0123456789"
calendar = "gregorian"
months = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
weekdays = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
date = "{day}.{month}.{year}"
date_time = "{date} {time}"
"#;

    fn faults_of(text: &str) -> Vec<RenderError> {
        let mut faults = Vec::new();
        match Catalogue::parse("xx", text) {
            Ok(c) => c.check("xx", &mut faults),
            Err(e) => faults.push(e),
        }
        faults
    }

    #[test]
    fn a_catalogue_with_a_wrong_placeholder_and_a_missing_kind_is_refused() {
        let text = format!(
            "{GOOD_FORMAT}\n[phrases]\n[messages.ticket_called]\nsms = \"{{display}} to {{desk}}\"\n\
             email_subject = \"x\"\nemail_body = \"x\"\n[messages.ticket_lost]\nsms = \"x\"\n"
        );
        let faults = faults_of(&text);
        assert!(faults.contains(&RenderError::UnknownPlaceholder {
            language: "xx".into(),
            template: "messages.ticket_called.sms".into(),
            name: "desk".into(),
        }));
        assert!(faults.contains(&RenderError::MissingTemplate {
            language: "xx".into(),
            template: "messages.ticket_issued.sms".into(),
        }));
        assert!(faults.contains(&RenderError::MissingTemplate {
            language: "xx".into(),
            template: "phrases.wait_known".into(),
        }));
        assert!(faults.contains(&RenderError::UnknownTemplate {
            language: "xx".into(),
            template: "messages.ticket_lost".into(),
        }));
    }

    #[test]
    fn a_format_with_eleven_months_is_refused() {
        let text = GOOD_FORMAT.replace("\"11\", ", "") + "[phrases]\n[messages]\n";
        assert!(matches!(
            faults_of(&text).as_slice(),
            [RenderError::Catalogue { .. }]
        ));
    }

    #[test]
    fn ascii_digits_in_the_text_of_a_language_with_its_own_digits_are_refused() {
        let text = GOOD_FORMAT.replace("0123456789", "٠١٢٣٤٥٦٧٨٩")
            + "[phrases]\nahead_one = \"1 {count}\"\n[messages]\n";
        assert!(faults_of(&text).contains(&RenderError::ForeignDigits {
            language: "xx".into(),
            template: "phrases.ahead_one".into(),
        }));
    }

    #[test]
    fn unknown_languages_fall_back_to_english_and_regions_to_their_language() {
        let (tag, _) = catalogue_for(&Language::new("de"), "ticket_called").unwrap();
        assert_eq!(tag, "en");
        let (tag, _) = catalogue_for(&Language::new("fa-IR"), "ticket_called").unwrap();
        assert_eq!(tag, "fa");
    }
}
