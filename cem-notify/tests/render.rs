//! Rendering every message kind in every language, with the exact text of a few.

use cem_core::chrono_tz::{Asia, Europe, Tz};
use cem_core::{Channel, Language};
use cem_notify::{Booking, KINDS, MessageKind, Rendered, check_catalogues, languages, render};
use chrono::{DateTime, TimeZone, Utc};

const TRACK: &str = "https://cem.example/t/A-042?b=12";
const MANAGE: &str = "https://cem.example/b/K7-2931";
const SURVEY: &str = "https://cem.example/s/2026-05";

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// One message of every kind, with digits wherever a kind has a number, names as given for
/// `language`.
fn one_of_each(service: &str, branch: &str, at: DateTime<Utc>, time_zone: Tz) -> Vec<MessageKind> {
    let (service, branch) = (service.to_owned(), branch.to_owned());
    let booking = Booking {
        code: "K7-2931".into(),
        service: service.clone(),
        branch: branch.clone(),
        at,
        time_zone,
    };
    vec![
        MessageKind::TicketIssued {
            display: "A-042".into(),
            service: service.clone(),
            branch: branch.clone(),
            tracking_link: TRACK.into(),
        },
        MessageKind::TurnNear {
            display: "A-042".into(),
            position: 3,
            wait_minutes: Some(12),
            branch: branch.clone(),
        },
        MessageKind::TicketCalled {
            display: "A-042".into(),
            counter: 17,
            branch: branch.clone(),
        },
        MessageKind::BookingConfirmed {
            booking: booking.clone(),
            manage_link: MANAGE.into(),
        },
        MessageKind::BookingChanged {
            booking: booking.clone(),
            manage_link: MANAGE.into(),
        },
        MessageKind::BookingCancelled {
            booking: booking.clone(),
        },
        MessageKind::BookingReminder {
            booking: booking.clone(),
            manage_link: MANAGE.into(),
        },
        MessageKind::BookingOffered {
            booking: booking.clone(),
            manage_link: MANAGE.into(),
            until: at - chrono::TimeDelta::hours(3),
        },
        MessageKind::SurveyInvitation {
            branch: branch.clone(),
            survey_link: SURVEY.into(),
        },
        MessageKind::CaseResolved {
            branch,
            reply: "A second counter now opens at noon.".into(),
        },
    ]
}

fn english() -> Vec<MessageKind> {
    one_of_each(
        "Passports",
        "Central",
        utc(2026, 12, 1, 13, 30),
        Europe::Berlin,
    )
}

fn persian() -> Vec<MessageKind> {
    one_of_each(
        "گذرنامه",
        "شعبهٔ مرکزی",
        utc(2026, 12, 1, 13, 30),
        Asia::Tehran,
    )
}

fn sms(kind: &MessageKind, language: &Language) -> String {
    let rendered = render(kind, language, Channel::Sms).unwrap();
    assert_eq!(rendered.subject, None);
    rendered.body
}

fn email(kind: &MessageKind, language: &Language) -> (String, String) {
    let Rendered { subject, body } = render(kind, language, Channel::Email).unwrap();
    (subject.expect("an e-mail has a subject"), body)
}

fn reminder(at: DateTime<Utc>, time_zone: Tz) -> MessageKind {
    MessageKind::BookingReminder {
        booking: Booking {
            code: "K7-2931".into(),
            service: "Passports".into(),
            branch: "Central".into(),
            at,
            time_zone,
        },
        manage_link: MANAGE.into(),
    }
}

/// The `{when}` of a reminder, read from its e-mail subject (`Reminder: Passports, {when}`).
fn when(at: DateTime<Utc>, time_zone: Tz, language: &Language) -> String {
    let (subject, _) = email(&reminder(at, time_zone), language);
    let (_, when) = subject
        .split_once(", ")
        .or_else(|| subject.split_once("، "))
        .unwrap();
    when.to_owned()
}

#[test]
fn every_catalogue_is_complete_and_uses_only_the_placeholders_it_is_given() {
    if let Err(faults) = check_catalogues() {
        let list: Vec<String> = faults.iter().map(ToString::to_string).collect();
        panic!("catalogue faults:\n{}", list.join("\n"));
    }
    let tags: Vec<Language> = languages();
    assert!(tags.contains(&Language::en()) && tags.contains(&Language::fa()));
}

#[test]
fn every_kind_renders_in_every_language_for_sms_and_email() {
    for language in languages() {
        let messages = if language == Language::fa() {
            persian()
        } else {
            english()
        };
        assert_eq!(messages.len(), KINDS.len());
        for message in &messages {
            let name = message.kind();
            let text = sms(message, &language);
            let (subject, body) = email(message, &language);
            for part in [&text, &subject, &body] {
                assert!(!part.trim().is_empty(), "{language} {name}");
                assert!(
                    !part.contains('{') && !part.contains('}'),
                    "{language} {name}: {part}"
                );
            }
            assert!(!subject.contains('\n'), "{language} {name}: {subject}");
            // The link of a kind that has one is in both the SMS and the e-mail, unchanged.
            for link in [TRACK, MANAGE, SURVEY] {
                if serde_json::to_string(message).unwrap().contains(link) {
                    assert!(text.contains(link), "{language} {name}: {text}");
                    assert!(body.contains(link), "{language} {name}: {body}");
                }
            }
        }
    }
}

#[test]
fn english_texts() {
    let en = Language::en();
    let m = english();
    assert_eq!(
        sms(&m[0], &en),
        format!("Your ticket is A-042 for Passports at Central. Follow your turn: {TRACK}")
    );
    assert_eq!(
        sms(&m[1], &en),
        "A-042: your turn at Central is near, 3 people are ahead of you. \
         Expected wait: about 12 min. Please stay close."
    );
    assert_eq!(sms(&m[2], &en), "A-042, please go to counter 17 (Central).");
    let (subject, body) = email(&m[6], &en);
    assert_eq!(
        subject,
        "Reminder: Passports, Tuesday 1 December 2026, 14:30"
    );
    assert_eq!(
        body,
        format!(
            "This is a reminder of your appointment.\n\n\
             Service: Passports\nBranch: Central\nWhen: Tuesday 1 December 2026, 14:30\n\
             Booking code: K7-2931\n\n\
             Please have your booking code at hand when you arrive. \
             To change or cancel the appointment:\n{MANAGE}"
        )
    );
    assert_eq!(
        sms(&m[5], &en),
        "Booking K7-2931 for Passports at Central, Tuesday 1 December 2026, 14:30, is cancelled."
    );
    assert_eq!(
        sms(&m[7], &en),
        format!(
            "A place is free: Passports at Central, Tuesday 1 December 2026, 14:30. \
             It is held for you until Tuesday 1 December 2026, 11:30. Take it: {MANAGE}"
        )
    );
}

#[test]
fn turn_near_speaks_of_one_person_of_nobody_and_of_an_unknown_wait() {
    let en = Language::en();
    let near = |position, wait_minutes| MessageKind::TurnNear {
        display: "B-007".into(),
        position,
        wait_minutes,
        branch: "Central".into(),
    };
    assert_eq!(
        sms(&near(1, None), &en),
        "B-007: your turn at Central is near, 1 person is ahead of you. Please stay close."
    );
    assert_eq!(
        sms(&near(0, Some(2)), &en),
        "B-007: your turn at Central is near, you are next. Expected wait: about 2 min. \
         Please stay close."
    );
    assert_eq!(
        sms(&near(0, None), &Language::fa()),
        "نوبت شما (B-۰۰۷) در Central نزدیک است؛ نفر بعدی شما هستید. لطفاً در سالن انتظار بمانید."
    );
}

#[test]
fn persian_texts() {
    let fa = Language::fa();
    let m = persian();
    assert_eq!(
        sms(&m[0], &fa),
        format!("شمارهٔ نوبت شما A-۰۴۲ برای گذرنامه در شعبهٔ مرکزی است. پیگیری نوبت:\n{TRACK}")
    );
    assert_eq!(
        sms(&m[1], &fa),
        "نوبت شما (A-۰۴۲) در شعبهٔ مرکزی نزدیک است؛ ۳ نفر پیش از شما در صف هستند. \
         زمان تقریبی انتظار: حدود ۱۲ دقیقه. لطفاً در سالن انتظار بمانید."
    );
    assert_eq!(
        sms(&m[2], &fa),
        "شمارهٔ A-۰۴۲، لطفاً به باجهٔ ۱۷ مراجعه کنید (شعبهٔ مرکزی)."
    );
    // 13:30 UTC is 17:00 in Tehran; 1 December 2026 is Tuesday 10 Azar 1405.
    assert_eq!(
        sms(&m[3], &fa),
        format!(
            "نوبت شما ثبت شد: گذرنامه در شعبهٔ مرکزی، سه\u{200c}شنبه ۱۰ آذر ۱۴۰۵، ساعت ۱۷:۰۰. \
             کد رزرو: K۷-۲۹۳۱. تغییر یا لغو:\n{MANAGE}"
        )
    );
    let (subject, body) = email(&m[5], &fa);
    assert_eq!(
        subject,
        "لغو نوبت: گذرنامه، سه\u{200c}شنبه ۱۰ آذر ۱۴۰۵، ساعت ۱۷:۰۰"
    );
    assert!(body.contains("کد رزرو: K۷-۲۹۳۱\n"), "{body}");
}

#[test]
fn persian_sms_writes_no_ascii_digit_outside_links_and_leaves_links_alone() {
    let fa = Language::fa();
    for message in persian() {
        let text = sms(&message, &fa);
        let mut rest = text.clone();
        for link in [TRACK, MANAGE, SURVEY] {
            rest = rest.replace(link, "");
        }
        assert!(
            !rest.bytes().any(|b| b.is_ascii_digit()),
            "{}: {text}",
            message.kind()
        );
        let (subject, body) = email(&message, &fa);
        assert!(!subject.bytes().any(|b| b.is_ascii_digit()), "{subject}");
        let mut rest = body;
        for link in [TRACK, MANAGE, SURVEY] {
            rest = rest.replace(link, "");
        }
        assert!(!rest.bytes().any(|b| b.is_ascii_digit()), "{rest}");
    }
}

#[test]
fn bookings_show_the_wall_clock_time_across_daylight_saving_changes() {
    let (en, fa) = (Language::en(), Language::fa());
    // Berlin moves to summer time at 01:00 UTC on 29 March 2026: 01:30 UTC is 03:30 CEST.
    let spring = utc(2026, 3, 29, 1, 30);
    assert_eq!(
        when(spring, Europe::Berlin, &en),
        "Sunday 29 March 2026, 03:30"
    );
    assert_eq!(
        when(spring, Europe::Berlin, &fa),
        "یکشنبه ۹ فروردین ۱۴۰۵، ساعت ۰۳:۳۰"
    );
    // And back at 01:00 UTC on 25 October 2026: 01:30 UTC is 02:30 CET.
    let autumn = utc(2026, 10, 25, 1, 30);
    assert_eq!(
        when(autumn, Europe::Berlin, &en),
        "Sunday 25 October 2026, 02:30"
    );
    assert_eq!(
        when(autumn, Europe::Berlin, &fa),
        "یکشنبه ۳ آبان ۱۴۰۵، ساعت ۰۲:۳۰"
    );
}

#[test]
fn tehran_keeps_utc_plus_three_thirty_all_year_since_2022() {
    let (en, fa) = (Language::en(), Language::fa());
    let summer = utc(2026, 6, 15, 10, 0);
    assert_eq!(
        when(summer, Asia::Tehran, &en),
        "Monday 15 June 2026, 13:30"
    );
    assert_eq!(
        when(summer, Asia::Tehran, &fa),
        "دوشنبه ۲۵ خرداد ۱۴۰۵، ساعت ۱۳:۳۰"
    );
    assert_eq!(
        when(utc(2026, 1, 15, 10, 0), Asia::Tehran, &en),
        "Thursday 15 January 2026, 13:30"
    );
    // Before 2022 Iran kept summer time (UTC+4:30).
    assert_eq!(
        when(utc(2021, 6, 15, 10, 0), Asia::Tehran, &en),
        "Tuesday 15 June 2021, 14:30"
    );
}

#[test]
fn other_languages_fall_back_to_english_and_regional_tags_to_their_language() {
    let called = &english()[2];
    assert_eq!(
        sms(called, &Language::new("de")),
        sms(called, &Language::en())
    );
    assert_eq!(
        sms(called, &Language::new("fa-IR")),
        sms(called, &Language::fa())
    );
    assert_ne!(sms(called, &Language::fa()), sms(called, &Language::en()));
}

#[test]
fn names_are_written_as_given_even_with_braces_or_digits() {
    let called = MessageKind::TicketCalled {
        display: "C-100".into(),
        counter: 2,
        branch: "{display} Mall 24".into(),
    };
    assert_eq!(
        sms(&called, &Language::en()),
        "C-100, please go to counter 2 ({display} Mall 24)."
    );
}
