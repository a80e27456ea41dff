//! [`Courier`]: delivers what is due in an outbox through the notifiers, one pass at a time.

use std::sync::Arc;
use std::time::Duration;

use cem_core::chrono::TimeDelta;
use cem_core::{Clock, Notifier, OutboxEntry, OutboxStore, Outcome, SendError, StoreError};

use crate::RetryPolicy;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Messages claimed.
    pub claimed: usize,
    /// Delivered.
    pub delivered: usize,
    /// Failed, to be tried again.
    pub retrying: usize,
    /// Given up on.
    pub dead: usize,
    /// Claimed, but their outcome was not recorded (the store failed, or the lease ran out and
    /// another courier took over); they are tried again once their lease runs out.
    pub unsettled: usize,
}

/// Claims the messages due in an outbox, makes one delivery attempt for each through the
/// notifier of its channel, and records how each ended: delivered, to be tried again by the
/// [`RetryPolicy`], or dead (refused for good, out of attempts, or no notifier for its
/// channel).
///
/// The host calls [`deliver_due`](Self::deliver_due) now and then (the reference server every
/// second and whenever a message was enqueued). Several couriers, in one server or in several,
/// may share an outbox: a message is claimed by one at a time, under a lease. A courier that
/// dies mid-attempt leaves its messages leased; they are tried again when the lease runs out,
/// with the same message id, so an idempotent receiver takes each message once.
#[derive(Debug)]
pub struct Courier {
    outbox: Arc<dyn OutboxStore>,
    notifiers: Vec<Arc<dyn Notifier>>,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    lease: Duration,
    batch: usize,
}

impl Courier {
    /// A courier over `outbox` sending through `notifiers` (the first that handles a channel
    /// sends its messages), with the default [`RetryPolicy`], a lease of 60 s and batches of 32.
    pub fn new(
        outbox: Arc<dyn OutboxStore>,
        notifiers: Vec<Arc<dyn Notifier>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            outbox,
            notifiers,
            clock,
            policy: RetryPolicy::default(),
            lease: Duration::from_secs(60),
            batch: 32,
        }
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets how long a claimed message is reserved for this courier. It must exceed the
    /// slowest notifier's timeout, or a slow attempt may be overtaken by another courier.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Sets how many messages one pass claims at most (at least 1).
    #[must_use]
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// One pass: claims up to a batch of due messages and attempts them all at once.
    ///
    /// # Errors
    /// The store's error when claiming failed (nothing was attempted). Failures to record an
    /// outcome are counted in [`Pass::unsettled`] instead.
    pub async fn deliver_due(&self) -> Result<Pass, StoreError> {
        let now = self.clock.now();
        let lease = TimeDelta::from_std(self.lease).unwrap_or(TimeDelta::MAX);
        let claimed = self.outbox.claim(now, now + lease, self.batch).await?;
        // Each message is settled as soon as its attempt ends, so one slow receiver does not
        // hold back the record of the others (a crash meanwhile would send them again).
        let settled: Vec<(Result<bool, StoreError>, Outcome)> =
            futures::future::join_all(claimed.iter().map(|entry| async move {
                let outcome = self.attempt(entry).await;
                let settled = self
                    .outbox
                    .settle(entry.message.id, entry.attempts, &outcome, self.clock.now())
                    .await;
                (settled, outcome)
            }))
            .await;
        let mut pass = Pass {
            claimed: claimed.len(),
            ..Pass::default()
        };
        for (settled, outcome) in settled {
            match (settled, outcome) {
                (Ok(true), Outcome::Delivered) => pass.delivered += 1,
                (Ok(true), Outcome::Retry { .. }) => pass.retrying += 1,
                (Ok(true), Outcome::Dead { .. }) => pass.dead += 1,
                (Ok(false) | Err(_), _) => pass.unsettled += 1,
            }
        }
        Ok(pass)
    }

    /// Delivers messages until none is due, or until a pass settles none (a store failing,
    /// or every due message leased elsewhere); returns the passes added up.
    ///
    /// # Errors
    /// As [`deliver_due`](Self::deliver_due).
    pub async fn deliver_all_due(&self) -> Result<Pass, StoreError> {
        let mut total = Pass::default();
        loop {
            let pass = self.deliver_due().await?;
            total.claimed += pass.claimed;
            total.delivered += pass.delivered;
            total.retrying += pass.retrying;
            total.dead += pass.dead;
            total.unsettled += pass.unsettled;
            if pass.claimed == 0 || pass.claimed == pass.unsettled {
                return Ok(total);
            }
        }
    }

    /// One delivery attempt, and what it means for the message.
    async fn attempt(&self, entry: &OutboxEntry) -> Outcome {
        let message = &entry.message;
        let Some(notifier) = self.notifiers.iter().find(|n| n.handles(message.channel)) else {
            return Outcome::Dead {
                error: format!("no notifier sends {:?} messages", message.channel),
            };
        };
        match notifier.send(message).await {
            Ok(()) => Outcome::Delivered,
            Err(e @ SendError::Permanent { .. }) => Outcome::Dead {
                error: e.to_string(),
            },
            Err(e) => match self
                .policy
                .next_attempt(entry.attempts, message.id, self.clock.now())
            {
                Some(at) => Outcome::Retry {
                    at,
                    error: e.to_string(),
                },
                None => Outcome::Dead {
                    error: format!("{e} (after {} attempts)", entry.attempts),
                },
            },
        }
    }
}
