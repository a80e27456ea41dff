//! # cem-bus-local
//!
//! [`LocalBus`]: the [`EventBus`] of a single process, a broadcast channel. A subscriber that
//! falls more than the channel's capacity behind gets [`Delivery::Gap`] and catches up from the
//! store, as the port's contract says.
//!
//! ```
//! use cem_bus_local::LocalBus;
//! use cem_core::EventBus;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let bus = LocalBus::new(1024);
//! let mut subscription = bus.subscribe().await.unwrap();
//! bus.publish(&[]).await.unwrap();
//! drop(bus);
//! assert!(subscription.next().await.is_none());
//! # });
//! ```

use async_trait::async_trait;
use cem_core::{Delivery, EventBus, RecordedEvent, StoreError, Subscription};
use tokio::sync::broadcast;

/// An in-process event bus.
#[derive(Debug, Clone)]
pub struct LocalBus {
    sender: broadcast::Sender<RecordedEvent>,
}

impl LocalBus {
    /// A bus that keeps up to `capacity` events for slow subscribers.
    pub fn new(capacity: usize) -> Self {
        Self {
            sender: broadcast::channel(capacity.max(1)).0,
        }
    }
}

#[async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, events: &[RecordedEvent]) -> Result<(), StoreError> {
        for e in events {
            // No subscriber is not an error: nobody is listening yet.
            let _ = self.sender.send(e.clone());
        }
        Ok(())
    }

    async fn subscribe(&self) -> Result<Box<dyn Subscription>, StoreError> {
        Ok(Box::new(LocalSubscription(self.sender.subscribe())))
    }
}

#[derive(Debug)]
struct LocalSubscription(broadcast::Receiver<RecordedEvent>);

#[async_trait]
impl Subscription for LocalSubscription {
    async fn next(&mut self) -> Option<Delivery> {
        match self.0.recv().await {
            Ok(e) => Some(Delivery::Event(e)),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(Delivery::Gap),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cem_core::BranchId;

    fn event(position: u64) -> RecordedEvent {
        RecordedEvent {
            branch: BranchId::from_u128(1),
            version: position,
            position,
            at: "2026-11-30T08:00:00Z".parse().unwrap(),
            kind: "ticket_issued".into(),
            payload: serde_json::json!({ "n": position }),
        }
    }

    #[tokio::test]
    async fn subscribers_receive_in_order_and_laggards_see_a_gap() {
        let bus = LocalBus::new(4);
        let mut fast = bus.subscribe().await.unwrap();
        let mut slow = bus.subscribe().await.unwrap();
        let events: Vec<_> = (1..=3).map(event).collect();
        bus.publish(&events).await.unwrap();
        for e in &events {
            assert_eq!(fast.next().await, Some(Delivery::Event(e.clone())));
        }
        let more: Vec<_> = (4..=10).map(event).collect();
        bus.publish(&more).await.unwrap();
        assert_eq!(slow.next().await, Some(Delivery::Gap));
        // After the gap the newest retained events follow.
        assert_eq!(slow.next().await, Some(Delivery::Event(event(7))));
    }
}
