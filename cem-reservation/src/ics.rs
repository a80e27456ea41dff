//! iCalendar export (RFC 5545): a booking as a `.ics` file, and an agenda feed of many.
//!
//! Times are written in UTC (`DTSTART:20261130T090000Z`), which every calendar reads and shows
//! in its owner's zone without a `VTIMEZONE` block; the branch's local time is repeated in the
//! description. `UID` is the booking id at the caller's domain, `SEQUENCE` the booking's
//! revision and `DTSTAMP` its last change, so a calendar that imports a rescheduled or cancelled
//! booking again updates the event it already has. Lines end in CRLF, text values are escaped
//! and lines longer than 75 octets are folded without splitting a UTF-8 character.

use std::fmt::Write as _;

use cem_core::chrono::{DateTime, Utc};
use cem_core::chrono_tz::Tz;
use cem_core::{Booking, BookingState};

/// One booking in an agenda, with the names its calendar entry shows.
#[derive(Debug, Clone, Copy)]
pub struct CalendarEntry<'a> {
    /// The booking.
    pub booking: &'a Booking,
    /// The branch's name, in the holder's language (`LOCATION`).
    pub branch_name: &'a str,
    /// The service's name, in the holder's language (`SUMMARY`).
    pub service_name: &'a str,
}

/// One booking as an iCalendar file: a `VCALENDAR` with one `VEVENT`.
///
/// `tz` is the branch's time zone (the local time in the description); `domain` names the
/// producer in the event's `UID` (`<booking id>@<domain>`).
pub fn to_ics(
    booking: &Booking,
    branch_name: &str,
    service_name: &str,
    tz: Tz,
    domain: &str,
) -> String {
    agenda_ics(
        &[CalendarEntry {
            booking,
            branch_name,
            service_name,
        }],
        tz,
        domain,
        None,
    )
}

/// Several bookings in one `VCALENDAR` (an agenda feed, a branch's day), each a `VEVENT`;
/// `name` becomes the calendar's display name (`X-WR-CALNAME`) when given.
pub fn agenda_ics(
    entries: &[CalendarEntry<'_>],
    tz: Tz,
    domain: &str,
    name: Option<&str>,
) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//CEM//cem-reservation//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    if let Some(name) = name {
        line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    }
    for e in entries {
        event(&mut out, e, tz, domain);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

fn event(out: &mut String, e: &CalendarEntry<'_>, tz: Tz, domain: &str) {
    let b = e.booking;
    let local = b.start.with_timezone(&tz).format("%Y-%m-%d %H:%M");
    let status = match b.state {
        BookingState::Confirmed | BookingState::CheckedIn | BookingState::NoShow => "CONFIRMED",
        BookingState::Waitlisted | BookingState::Offered => "TENTATIVE",
        BookingState::Cancelled | BookingState::Lapsed => "CANCELLED",
    };
    line(out, "BEGIN:VEVENT");
    line(out, &format!("UID:{}@{}", b.id, escape(domain)));
    line(out, &format!("DTSTAMP:{}", stamp(b.changed_at)));
    line(out, &format!("SEQUENCE:{}", b.revision));
    line(out, &format!("DTSTART:{}", stamp(b.start)));
    line(out, &format!("DTEND:{}", stamp(b.end)));
    line(out, &format!("SUMMARY:{}", escape(e.service_name)));
    line(out, &format!("LOCATION:{}", escape(e.branch_name)));
    let description = format!(
        "Booking code: {}\n{} ({}, {})",
        b.code, local, tz, e.branch_name
    );
    line(out, &format!("DESCRIPTION:{}", escape(&description)));
    line(out, &format!("STATUS:{status}"));
    line(out, "END:VEVENT");
}

/// An instant in the UTC form `YYYYMMDDTHHMMSSZ`.
fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line, folded at 75 octets (RFC 5545 §3.1): each continuation line starts
/// with a space, which counts toward its 75, and no UTF-8 character is split.
fn line(out: &mut String, content: &str) {
    let mut limit = 75;
    let mut used = 0;
    for c in content.chars() {
        if used + c.len_utf8() > limit {
            out.push_str("\r\n ");
            limit = 74;
            used = 0;
        }
        out.push(c);
        used += c.len_utf8();
    }
    let _ = write!(out, "\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::book;
    use crate::testing::*;

    fn booking() -> Booking {
        let p = plan_every_day(t(9, 0), t(12, 0), 1800, 1800);
        book(
            &p,
            berlin(),
            request(0x1234, utc("2026-11-30T09:00:00Z")),
            0,
            &[],
            utc("2026-11-29T18:00:00Z"),
        )
        .unwrap()
    }

    /// Undoes the folding: a CRLF followed by a space disappears.
    fn unfold(ics: &str) -> String {
        ics.replace("\r\n ", "")
    }

    #[test]
    fn a_booking_becomes_one_event_with_utc_times() {
        let b = booking();
        let ics = to_ics(&b, "Main branch", "Passports", berlin(), "cem.example");
        let expected = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//CEM//cem-reservation//EN",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "BEGIN:VEVENT",
            "UID:00000000-0000-0000-0000-000000001234@cem.example",
            "DTSTAMP:20261129T180000Z",
            "SEQUENCE:0",
            "DTSTART:20261130T090000Z",
            "DTEND:20261130T093000Z",
            "SUMMARY:Passports",
            "LOCATION:Main branch",
            &format!(
                "DESCRIPTION:Booking code: {}\\n2026-11-30 10:00 (Europe/Berlin\\, Main ",
                b.code
            ),
            " branch)",
            "STATUS:CONFIRMED",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
        .join("\r\n");
        assert_eq!(ics, expected);
        assert!(!ics.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("a\\b;c,d\ne\r\nf"),
            "a\\\\b\\;c\\,d\\ne\\nf".to_string()
        );
    }

    #[test]
    fn long_persian_lines_fold_at_75_octets_on_character_boundaries() {
        let b = booking();
        let branch = "شعبه مرکزی، خیابان ولیعصر، تهران؛ طبقه اول، باجه‌های ۱ تا ۸";
        let service = "صدور گذرنامه و تمدید روادید برای متقاضیان";
        let ics = to_ics(&b, branch, service, tehran(), "cem.example");
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        // Every line is valid UTF-8 on its own (the split is at a character boundary), and
        // unfolding gives the escaped values back.
        let unfolded = unfold(&ics);
        assert!(unfolded.contains(&format!("SUMMARY:{service}\r\n")));
        assert!(unfolded.contains(&format!("LOCATION:{}\r\n", escape(branch))));
        assert!(ics.split("\r\n").filter(|l| l.starts_with(' ')).count() >= 3);
        // 2026-11-30 09:00 UTC is 12:30 in Tehran.
        assert!(unfolded.contains("2026-11-30 12:30 (Asia/Tehran"));
    }

    #[test]
    fn folding_counts_octets_not_characters() {
        let mut out = String::new();
        // 74 ASCII octets then a 2-octet character: it must go to the next line.
        let content = format!("{}é", "x".repeat(74));
        line(&mut out, &content);
        assert_eq!(out, format!("{}\r\n é\r\n", "x".repeat(74)));
        let mut out = String::new();
        line(&mut out, &"y".repeat(75));
        assert_eq!(out, format!("{}\r\n", "y".repeat(75)));
    }

    #[test]
    fn an_agenda_holds_every_booking_and_cancellations_stay_visible() {
        let a = booking();
        let mut c = booking();
        c.id = cem_core::BookingId::from_u128(0x99);
        c.state = BookingState::Cancelled;
        c.revision = 2;
        let entries = [
            CalendarEntry {
                booking: &a,
                branch_name: "Main",
                service_name: "Passports",
            },
            CalendarEntry {
                booking: &c,
                branch_name: "Main",
                service_name: "Visas",
            },
        ];
        let ics = agenda_ics(&entries, berlin(), "cem.example", Some("Main, today"));
        assert_eq!(ics.matches("BEGIN:VEVENT\r\n").count(), 2);
        assert_eq!(ics.matches("END:VEVENT\r\n").count(), 2);
        assert!(ics.contains("X-WR-CALNAME:Main\\, today\r\n"));
        assert!(ics.contains("STATUS:CANCELLED\r\nEND:VEVENT"));
        assert!(ics.contains("SEQUENCE:2\r\n"));
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
    }
}
