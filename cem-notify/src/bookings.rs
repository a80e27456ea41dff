//! [`booking_messages`]: what a booking's holder is told when it is made, changed, cancelled,
//! and before it.

use cem_core::chrono_tz::Tz;
use cem_core::{Language, LocalizedText, OutboundMessage};

use crate::address::{Recipient, addressed};
use crate::{Booking, MessageKind, RenderError};

/// Which booking message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookingNotice {
    /// It was made (or a waitlisted holder accepted a seat).
    Confirmed,
    /// It was moved.
    Changed,
    /// It was cancelled.
    Cancelled,
    /// It is coming up.
    Reminder,
    /// A seat freed at its full slot is offered to it, until its `offer_expires_at`.
    Offered,
}

/// What a booking's messages name besides the booking: the branch and the service (in every
/// language they have), the branch's time zone, and the page where the holder manages the
/// booking, `<public_url>/booking/<branch>/<code>`.
#[derive(Debug, Clone, Copy)]
pub struct BookingPlace<'a> {
    /// The branch's name.
    pub branch: &'a LocalizedText,
    /// The service's name.
    pub service: &'a LocalizedText,
    /// The branch's time zone.
    pub time_zone: Tz,
    /// The server's public address.
    pub public_url: &'a str,
}

/// The messages of `notice` about `booking` to its holder, in the holder's language, one per
/// channel the holder gave (none for a holder who gave neither phone nor e-mail, or whose
/// data was erased).
///
/// Their ids derive from the booking, the notice and the booking's revision (for a reminder,
/// its start), so writing them again (a retried request) enqueues nothing new, while each
/// change and each reminder of a moved booking is a message of its own.
///
/// # Errors
/// A catalogue fault or a date the language's calendar cannot write.
pub fn booking_messages(
    notice: BookingNotice,
    booking: &cem_core::Booking,
    place: &BookingPlace<'_>,
) -> Result<Vec<OutboundMessage>, RenderError> {
    let language = &booking.holder.language;
    let name = |t: &LocalizedText| {
        t.get(language, &Language::en())
            .unwrap_or_default()
            .to_owned()
    };
    let about = Booking {
        code: booking.code.as_str().to_owned(),
        service: name(place.service),
        branch: name(place.branch),
        at: booking.start,
        time_zone: place.time_zone,
    };
    let manage_link = format!(
        "{}/booking/{}/{}",
        place.public_url.trim_end_matches('/'),
        booking.branch,
        booking.code.as_str()
    );
    let (kind, version) = match notice {
        BookingNotice::Confirmed => (
            MessageKind::BookingConfirmed {
                booking: about,
                manage_link,
            },
            booking.revision.to_string(),
        ),
        BookingNotice::Changed => (
            MessageKind::BookingChanged {
                booking: about,
                manage_link,
            },
            booking.revision.to_string(),
        ),
        BookingNotice::Cancelled => (
            MessageKind::BookingCancelled { booking: about },
            booking.revision.to_string(),
        ),
        BookingNotice::Reminder => (
            MessageKind::BookingReminder {
                booking: about,
                manage_link,
            },
            booking.start.timestamp().to_string(),
        ),
        BookingNotice::Offered => (
            MessageKind::BookingOffered {
                booking: about,
                manage_link,
                until: booking.offer_expires_at.unwrap_or(booking.start),
            },
            booking.revision.to_string(),
        ),
    };
    let recipient = Recipient {
        organization: booking.organization,
        phone: booking.holder.phone.as_deref(),
        email: booking.holder.email.as_deref(),
        language,
    };
    let id = booking.id.to_string();
    addressed(
        &kind,
        &recipient,
        &[&id, kind.kind(), &version],
        booking.changed_at,
    )
}
