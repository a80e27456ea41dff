//! [`render`]: a message kind written in a language for a channel.

use cem_core::{Channel, Language};
use serde::{Deserialize, Serialize};

use crate::catalogue::{Catalogue, catalogue_for, fill_pieces};
use crate::{Booking, MessageKind, RenderError};

/// A rendered message: what goes into an [`OutboundMessage`](cem_core::OutboundMessage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    /// The subject line: present for e-mail only.
    pub subject: Option<String>,
    /// The text; for a webhook, the JSON document.
    pub body: String,
}

/// Writes `kind` in `language` for `channel`.
///
/// - SMS: the catalogue's `sms` text, no subject.
/// - E-mail: `email_subject` and `email_body`.
/// - Webhook: no subject; the body is `kind` as a JSON document (`{"kind": "ticket_called",
///   …}`), the same in every language.
///
/// The catalogue is the language's own, else that of its primary subtag (`fa-IR` → `fa`), else
/// English. Numbers (display numbers, counters, positions, minutes, booking codes, dates and
/// times) are written in the language's digits; dates in its calendar and in the booking's
/// time zone. Links and the names of services and branches are written as given.
///
/// # Errors
/// A fault in the catalogue (see [`check_catalogues`](crate::check_catalogues), which
/// `cargo test` runs), or a date the language's calendar cannot write.
pub fn render(
    kind: &MessageKind,
    language: &Language,
    channel: Channel,
) -> Result<Rendered, RenderError> {
    if channel == Channel::Webhook {
        let body = serde_json::to_string(kind).map_err(|e| RenderError::Encode {
            reason: e.to_string(),
        })?;
        return Ok(Rendered {
            subject: None,
            body,
        });
    }
    let name = kind.kind();
    let (tag, catalogue) = catalogue_for(language, name)?;
    let values = values(kind, tag, catalogue)?;
    let part = |part: &str| -> Result<String, RenderError> {
        let pieces = catalogue.template(tag, name, part)?;
        fill_pieces(tag, format!("messages.{name}.{part}"), &pieces, &values)
    };
    Ok(match channel {
        Channel::Sms => Rendered {
            subject: None,
            body: part("sms")?,
        },
        Channel::Email | Channel::Webhook => Rendered {
            subject: Some(part("email_subject")?),
            body: part("email_body")?,
        },
    })
}

/// The values every booking kind offers.
fn booking_values(
    b: &Booking,
    tag: &str,
    c: &Catalogue,
) -> Result<Vec<(&'static str, String)>, RenderError> {
    let (when, date, time) = c.when(tag, b.at, b.time_zone)?;
    Ok(vec![
        ("code", c.digits(&b.code)),
        ("service", b.service.clone()),
        ("branch", b.branch.clone()),
        ("when", when),
        ("date", date),
        ("time", time),
    ])
}

/// The placeholders' values of `kind`, written in the catalogue's language.
fn values(
    kind: &MessageKind,
    tag: &str,
    c: &Catalogue,
) -> Result<Vec<(&'static str, String)>, RenderError> {
    let text = |s: &str| s.to_owned();
    Ok(match kind {
        MessageKind::TicketIssued {
            display,
            service,
            branch,
            tracking_link,
        } => vec![
            ("display", c.digits(display)),
            ("service", text(service)),
            ("branch", text(branch)),
            ("tracking_link", text(tracking_link)),
        ],
        MessageKind::TurnNear {
            display,
            position,
            wait_minutes,
            branch,
        } => {
            let count = c.digits(&position.to_string());
            let ahead = match position {
                0 => c.phrase(tag, "ahead_none", &[])?,
                1 => c.phrase(tag, "ahead_one", &[("count", count.clone())])?,
                _ => c.phrase(tag, "ahead_other", &[("count", count.clone())])?,
            };
            let wait = match wait_minutes {
                Some(m) => c.phrase(tag, "wait_known", &[("minutes", c.digits(&m.to_string()))])?,
                None => c.phrase(tag, "wait_unknown", &[])?,
            };
            vec![
                ("display", c.digits(display)),
                ("position", count),
                ("ahead", ahead),
                ("wait", wait),
                ("branch", text(branch)),
            ]
        }
        MessageKind::TicketCalled {
            display,
            counter,
            branch,
        } => vec![
            ("display", c.digits(display)),
            ("counter", c.digits(&counter.to_string())),
            ("branch", text(branch)),
        ],
        MessageKind::BookingConfirmed {
            booking,
            manage_link,
        }
        | MessageKind::BookingChanged {
            booking,
            manage_link,
        }
        | MessageKind::BookingReminder {
            booking,
            manage_link,
        } => {
            let mut values = booking_values(booking, tag, c)?;
            values.push(("manage_link", text(manage_link)));
            values
        }
        MessageKind::BookingCancelled { booking } => booking_values(booking, tag, c)?,
        MessageKind::BookingOffered {
            booking,
            manage_link,
            until,
        } => {
            let mut values = booking_values(booking, tag, c)?;
            values.push(("manage_link", text(manage_link)));
            values.push(("until", c.when(tag, *until, booking.time_zone)?.0));
            values
        }
        MessageKind::SurveyInvitation {
            branch,
            survey_link,
        } => vec![("branch", text(branch)), ("survey_link", text(survey_link))],
        MessageKind::CaseResolved { branch, reply } => {
            vec![("branch", text(branch)), ("reply", text(reply))]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::KINDS;
    use chrono::{TimeZone, Utc};

    /// One message of every kind.
    fn one_of_each() -> Vec<MessageKind> {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 13, 30, 0).unwrap();
        let booking = Booking {
            code: "K7-2931".into(),
            service: "Passports".into(),
            branch: "Main".into(),
            at,
            time_zone: cem_core::chrono_tz::Europe::Berlin,
        };
        vec![
            MessageKind::TicketIssued {
                display: "A-042".into(),
                service: "Deposits".into(),
                branch: "Main".into(),
                tracking_link: "https://q.example/t/1".into(),
            },
            MessageKind::TurnNear {
                display: "A-042".into(),
                position: 3,
                wait_minutes: Some(7),
                branch: "Main".into(),
            },
            MessageKind::TicketCalled {
                display: "A-042".into(),
                counter: 4,
                branch: "Main".into(),
            },
            MessageKind::BookingConfirmed {
                booking: booking.clone(),
                manage_link: "https://q.example/b/1".into(),
            },
            MessageKind::BookingChanged {
                booking: booking.clone(),
                manage_link: "https://q.example/b/1".into(),
            },
            MessageKind::BookingCancelled {
                booking: booking.clone(),
            },
            MessageKind::BookingReminder {
                booking: booking.clone(),
                manage_link: "https://q.example/b/1".into(),
            },
            MessageKind::BookingOffered {
                booking: booking.clone(),
                manage_link: "https://q.example/b/1".into(),
                until: at - chrono::TimeDelta::hours(20),
            },
            MessageKind::SurveyInvitation {
                branch: "Main".into(),
                survey_link: "https://q.example/s/1".into(),
            },
            MessageKind::CaseResolved {
                branch: "Main".into(),
                reply: "We have added a second counter for deposits.".into(),
            },
        ]
    }

    #[test]
    fn values_are_exactly_the_declared_placeholders() {
        let (tag, catalogue) = catalogue_for(&Language::en(), "ticket_called").unwrap();
        let messages = one_of_each();
        assert_eq!(messages.len(), KINDS.len());
        for (message, (name, declared)) in messages.iter().zip(KINDS) {
            assert_eq!(message.kind(), *name);
            let given: Vec<_> = values(message, tag, catalogue)
                .unwrap()
                .into_iter()
                .map(|(n, _)| n)
                .collect();
            assert_eq!(given, *declared, "{name}");
        }
    }

    #[test]
    fn a_webhook_gets_the_kind_as_json() {
        let message = &one_of_each()[2];
        let rendered = render(message, &Language::fa(), Channel::Webhook).unwrap();
        assert_eq!(rendered.subject, None);
        let json: serde_json::Value = serde_json::from_str(&rendered.body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "ticket_called", "display": "A-042", "counter": 4, "branch": "Main"})
        );
    }
}
