//! The domain event envelope.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::BranchId;

/// An event as stored and published: the stream it belongs to (a branch), its version in that
/// stream (1 for the first event, contiguous), when it was recorded, and the domain payload.
///
/// Payload types live in the domain crates (for example `cem_queue::QueueEvent`); the envelope is
/// what stores, buses and reports share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope<E> {
    /// The stream (branch) the event belongs to.
    pub branch: BranchId,
    /// Version of the stream after this event: 1 for the first, then contiguous.
    pub version: u64,
    /// When the event happened (the domain instant, not the storage time).
    pub at: DateTime<Utc>,
    /// The domain event.
    pub event: E,
}

impl<E> EventEnvelope<E> {
    /// Wraps consecutive events of one stream, numbering them after `current_version`.
    pub fn wrap_all(
        branch: BranchId,
        current_version: u64,
        events: impl IntoIterator<Item = (DateTime<Utc>, E)>,
    ) -> Vec<Self> {
        events
            .into_iter()
            .zip(current_version + 1..)
            .map(|((at, event), version)| Self {
                branch,
                version,
                at,
                event,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_events_get_contiguous_versions() {
        let at: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let b = BranchId::from_u128(1);
        let wrapped = EventEnvelope::wrap_all(b, 7, [(at, "a"), (at, "b")]);
        assert_eq!(
            wrapped.iter().map(|e| e.version).collect::<Vec<_>>(),
            [8, 9]
        );
        assert_eq!(wrapped[1].event, "b");
    }
}
