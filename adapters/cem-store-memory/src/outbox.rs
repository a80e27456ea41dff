//! [`OutboxStore`] for [`MemoryStore`].

use std::collections::HashMap;

use async_trait::async_trait;
use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    Attempt, MessageId, OrganizationId, OutboundMessage, OutboxEntry, OutboxState, OutboxStore,
    Outcome, StoreError,
};

use crate::MemoryStore;

/// The outbox's records.
#[derive(Debug, Default)]
pub(crate) struct OutboxTables {
    messages: HashMap<MessageId, Record>,
    cursors: HashMap<String, u64>,
}

impl OutboxTables {
    /// Adds `messages` as pending, due at `due`; an id already there keeps its record as it
    /// is. What `enqueue` writes, for other writes that enqueue in their own transaction.
    pub(crate) fn add(&mut self, messages: &[OutboundMessage], due: DateTime<Utc>) {
        for m in messages {
            let mut message = m.clone();
            message.created_at = micros(message.created_at);
            self.messages.entry(m.id).or_insert_with(|| Record {
                entry: OutboxEntry {
                    message,
                    state: OutboxState::Pending,
                    attempts: 0,
                    next_attempt_at: micros(due),
                    last_error: None,
                    settled_at: None,
                },
                lease_until: None,
                log: Vec::new(),
            });
        }
    }
}

#[derive(Debug, Clone)]
struct Record {
    entry: OutboxEntry,
    lease_until: Option<DateTime<Utc>>,
    /// The settled attempts, in the order they were settled (across replays).
    log: Vec<Attempt>,
}

/// An instant kept to the microsecond, as the databases keep it.
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn not_found(id: MessageId) -> StoreError {
    StoreError::NotFound {
        what: format!("outbox message {id}"),
    }
}

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn enqueue(
        &self,
        messages: &[OutboundMessage],
        due: DateTime<Utc>,
        cursor: Option<(&str, u64)>,
    ) -> Result<(), StoreError> {
        let mut inner = self.inner();
        let tables = &mut inner.outbox;
        tables.add(messages, due);
        if let Some((name, position)) = cursor {
            let stored = tables.cursors.entry(name.to_owned()).or_default();
            *stored = (*stored).max(position);
        }
        Ok(())
    }

    async fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        Ok(self.inner().outbox.cursors.get(name).copied().unwrap_or(0))
    }

    async fn claim(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut inner = self.inner();
        let mut due: Vec<&mut Record> = inner
            .outbox
            .messages
            .values_mut()
            .filter(|r| {
                r.entry.state == OutboxState::Pending
                    && r.entry.next_attempt_at <= now
                    && r.lease_until.is_none_or(|l| l <= now)
            })
            .collect();
        due.sort_by_key(|r| (r.entry.next_attempt_at, r.entry.message.id));
        Ok(due
            .into_iter()
            .take(limit)
            .map(|r| {
                r.entry.attempts += 1;
                r.lease_until = Some(micros(lease_until));
                r.entry.clone()
            })
            .collect())
    }

    async fn settle(
        &self,
        id: MessageId,
        attempt: u32,
        outcome: &Outcome,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut inner = self.inner();
        let r = inner
            .outbox
            .messages
            .get_mut(&id)
            .ok_or_else(|| not_found(id))?;
        if r.entry.state != OutboxState::Pending || r.entry.attempts != attempt {
            return Ok(false);
        }
        r.lease_until = None;
        match outcome {
            Outcome::Delivered => {
                r.entry.state = OutboxState::Delivered;
                r.entry.last_error = None;
                r.entry.settled_at = Some(micros(at));
            }
            Outcome::Retry { at: next, error } => {
                r.entry.next_attempt_at = micros(*next);
                r.entry.last_error = Some(error.clone());
            }
            Outcome::Dead { error } => {
                r.entry.state = OutboxState::Dead;
                r.entry.last_error = Some(error.clone());
                r.entry.settled_at = Some(micros(at));
            }
        }
        r.log.push(Attempt {
            number: attempt,
            at: micros(at),
            state: r.entry.state,
            error: r.entry.last_error.clone(),
        });
        Ok(true)
    }

    async fn message(&self, id: MessageId) -> Result<OutboxEntry, StoreError> {
        self.inner()
            .outbox
            .messages
            .get(&id)
            .map(|r| r.entry.clone())
            .ok_or_else(|| not_found(id))
    }

    async fn attempts(&self, id: MessageId) -> Result<Vec<Attempt>, StoreError> {
        self.inner()
            .outbox
            .messages
            .get(&id)
            .map(|r| r.log.clone())
            .ok_or_else(|| not_found(id))
    }

    async fn sent_to(
        &self,
        organization: OrganizationId,
        to: &str,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let inner = self.inner();
        let mut sent: Vec<&OutboxEntry> = inner
            .outbox
            .messages
            .values()
            .map(|r| &r.entry)
            .filter(|e| e.message.organization == organization && e.message.to == to)
            .collect();
        sent.sort_by_key(|e| std::cmp::Reverse((e.message.created_at, e.message.id)));
        Ok(sent.into_iter().take(limit).cloned().collect())
    }

    async fn dead(
        &self,
        organization: OrganizationId,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let inner = self.inner();
        let mut dead: Vec<&OutboxEntry> = inner
            .outbox
            .messages
            .values()
            .map(|r| &r.entry)
            .filter(|e| e.state == OutboxState::Dead && e.message.organization == organization)
            .collect();
        dead.sort_by_key(|e| std::cmp::Reverse((e.settled_at, e.message.id)));
        Ok(dead.into_iter().take(limit).cloned().collect())
    }

    async fn replay(&self, id: MessageId, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut inner = self.inner();
        let r = inner
            .outbox
            .messages
            .get_mut(&id)
            .ok_or_else(|| not_found(id))?;
        if r.entry.state != OutboxState::Dead {
            return Err(StoreError::Conflict {
                what: format!("outbox message {id} is not dead"),
            });
        }
        if r.entry.message.to.is_empty() {
            return Err(StoreError::Conflict {
                what: format!("outbox message {id} was erased"),
            });
        }
        r.entry.state = OutboxState::Pending;
        r.entry.attempts = 0;
        r.entry.next_attempt_at = micros(now);
        r.entry.settled_at = None;
        r.lease_until = None;
        Ok(())
    }

    async fn erase_recipient(
        &self,
        organization: OrganizationId,
        to: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if to.is_empty() {
            return Ok(0);
        }
        let mut inner = self.inner();
        let mut erased = 0;
        for r in inner.outbox.messages.values_mut() {
            if r.entry.message.to != to || r.entry.message.organization != organization {
                continue;
            }
            erased += 1;
            let m = &mut r.entry.message;
            m.to.clear();
            m.body.clear();
            m.subject = None;
            for a in &mut r.log {
                a.error = None;
            }
            // The last error may quote the address too.
            if r.entry.last_error.is_some() {
                r.entry.last_error = Some("erased".to_owned());
            }
            if r.entry.state == OutboxState::Pending {
                r.entry.state = OutboxState::Dead;
                r.entry.last_error = Some("erased".to_owned());
                r.entry.settled_at = Some(micros(now));
                r.lease_until = None;
            }
        }
        Ok(erased)
    }
}
