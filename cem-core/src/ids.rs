//! Newtype identifiers.
//!
//! Every entity is named by a UUID wrapped in its own type, so a service id can never be passed
//! where a counter id is expected. The domain crates never generate ids themselves (that needs
//! randomness, which is IO): callers supply them, and deterministic code such as the simulator
//! derives them with [`from_u128`](TicketId::from_u128).

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Wraps an existing UUID.
            pub const fn new(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// A deterministic id from a number (simulations, fixtures, tests).
            pub const fn from_u128(n: u128) -> Self {
                Self(Uuid::from_u128(n))
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// An organization (tenant): a bank, a hospital, an operator.
    OrganizationId
);
id_type!(
    /// A branch of an organization.
    BranchId
);
id_type!(
    /// A service offered at a branch.
    ServiceId
);
id_type!(
    /// A counter (service point) at a branch.
    CounterId
);
id_type!(
    /// An agent who works at counters.
    AgentId
);
id_type!(
    /// A customer known to the organization.
    CustomerId
);
id_type!(
    /// A queue ticket.
    TicketId
);
id_type!(
    /// A user who signs in: an administrator, a branch manager or an agent.
    UserId
);
id_type!(
    /// A priority class (for example `vip`, `priority`, `normal`).
    ClassId
);
id_type!(
    /// A device of a branch that signs in with a device token: a kiosk or a display screen.
    DeviceId
);
id_type!(
    /// An outbound message (SMS, e-mail, webhook call); also its idempotency key, the same on
    /// every delivery attempt.
    MessageId
);
id_type!(
    /// A booking of an appointment slot (or a place on its waitlist).
    BookingId
);
id_type!(
    /// An integration's subscription to an organization's events (an outbound webhook).
    SubscriptionId
);

id_type!(
    /// A survey definition, the same across its versions.
    SurveyId
);
id_type!(
    /// An invitation to answer a survey.
    InvitationId
);
id_type!(
    /// A response to a survey.
    ResponseId
);
id_type!(
    /// A closed-loop case opened by a poor response.
    CaseId
);

id_type!(
    /// A screen of a branch.
    ScreenId
);
id_type!(
    /// A screen layout.
    LayoutId
);
id_type!(
    /// A media playlist.
    PlaylistId
);
id_type!(
    /// A piece of news or an announcement.
    NewsId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialize_as_plain_uuid_strings() {
        let id = TicketId::from_u128(42);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"00000000-0000-0000-0000-00000000002a\"");
        let back: TicketId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert_eq!(id.to_string().parse::<TicketId>().unwrap(), id);
    }
}
