//! Booking messages: addressed to the holder in their language, with ids that repeat only for
//! the same cause.

use cem_core::chrono::{DateTime, Utc};
use cem_core::chrono_tz::Asia::Tehran;
use cem_core::{
    Booking, BookingCode, BookingHolder, BookingId, BookingState, BranchId, Channel, Language,
    LocalizedText, OrganizationId, ServiceId,
};
use cem_notify::{BookingNotice, BookingPlace, booking_messages};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn booking(language: Language) -> Booking {
    Booking {
        id: BookingId::from_u128(1),
        organization: OrganizationId::from_u128(2),
        branch: BranchId::from_u128(3),
        service: ServiceId::from_u128(4),
        code: BookingCode("K7QX2M9T".into()),
        start: at("2026-12-01T06:30:00Z"),
        end: at("2026-12-01T06:50:00Z"),
        customer: None,
        holder: BookingHolder {
            name: Some("Sara".into()),
            phone: Some("+989121234567".into()),
            email: Some("sara@example.org".into()),
            language,
        },
        state: BookingState::Confirmed,
        offer_expires_at: None,
        ticket: None,
        checked_in_at: None,
        created_at: at("2026-11-28T09:00:00Z"),
        changed_at: at("2026-11-28T09:00:00Z"),
        revision: 0,
    }
}

fn place<'a>(branch: &'a LocalizedText, service: &'a LocalizedText) -> BookingPlace<'a> {
    BookingPlace {
        branch,
        service,
        time_zone: Tehran,
        public_url: "https://queue.example.org/",
    }
}

#[test]
fn the_holder_hears_in_their_language_on_every_channel_they_gave() {
    let branch = LocalizedText::single(Language::en(), "Vanak").with(Language::fa(), "ونک");
    let service =
        LocalizedText::single(Language::en(), "Passports").with(Language::fa(), "گذرنامه");
    let b = booking(Language::fa());
    let sent = booking_messages(BookingNotice::Confirmed, &b, &place(&branch, &service)).unwrap();
    assert_eq!(sent.len(), 2);
    let sms = sent.iter().find(|m| m.channel == Channel::Sms).unwrap();
    let email = sent.iter().find(|m| m.channel == Channel::Email).unwrap();
    assert_eq!(
        (sms.to.as_str(), email.to.as_str()),
        ("+989121234567", "sara@example.org")
    );
    assert_eq!(sms.kind, "booking_confirmed");
    assert!(
        sms.body.contains("گذرنامه") && sms.body.contains("ونک"),
        "{}",
        sms.body
    );
    // 10:00 in Tehran, in Persian digits; the link as given, with Latin characters.
    assert!(sms.body.contains("۱۰:۰۰"), "{}", sms.body);
    assert!(
        email.body.contains(&format!(
            "https://queue.example.org/booking/{}/K7QX2M9T",
            b.branch
        )),
        "{}",
        email.body
    );
    assert!(!sms.body.contains("Sara"), "no name in the text");
}

#[test]
fn ids_repeat_for_the_same_cause_only() {
    let (branch, service) = (
        LocalizedText::single(Language::en(), "Vanak"),
        LocalizedText::single(Language::en(), "Passports"),
    );
    let place = place(&branch, &service);
    let ids = |notice, b: &Booking| -> Vec<_> {
        booking_messages(notice, b, &place)
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect()
    };
    let mut b = booking(Language::en());
    let confirmed = ids(BookingNotice::Confirmed, &b);
    assert_eq!(
        confirmed,
        ids(BookingNotice::Confirmed, &b),
        "written again: the same"
    );
    let reminder = ids(BookingNotice::Reminder, &b);
    b.revision = 1;
    b.start = at("2026-12-01T07:30:00Z");
    let changed = ids(BookingNotice::Changed, &b);
    let moved_reminder = ids(BookingNotice::Reminder, &b);
    for (a, z) in [
        (&confirmed, &changed),
        (&reminder, &moved_reminder),
        (&confirmed, &reminder),
    ] {
        assert!(a.iter().all(|id| !z.contains(id)), "{a:?} {z:?}");
    }
    // Erased holder data: nobody to tell.
    b.holder.phone = None;
    b.holder.email = None;
    assert!(ids(BookingNotice::Cancelled, &b).is_empty());
}
