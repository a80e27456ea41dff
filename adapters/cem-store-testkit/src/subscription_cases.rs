//! The conformance cases of [`SubscriptionStore`], one per contract clause.

use std::sync::Arc;

use cem_core::{
    OrganizationId, StoreError, SubscriptionId, SubscriptionStore, WebhookSubscription,
};

use crate::SubscriptionHarness;
use crate::fixtures::{secs, t0};

const ORG: OrganizationId = OrganizationId::from_u128(0x0_0D1);
const OTHER_ORG: OrganizationId = OrganizationId::from_u128(0x0_0D2);
const CRM: &str = "https://crm.example.org/cem";

fn id(n: u128) -> SubscriptionId {
    SubscriptionId::from_u128(0x5000 + n)
}

fn subscription(n: u128, organization: OrganizationId, url: &str) -> WebhookSubscription {
    WebhookSubscription {
        id: id(n),
        organization,
        url: url.to_owned(),
        events: vec!["ticket_called".to_owned(), "ticket_finished".to_owned()],
        secret: format!("whsec_{n}_s3cr3t"),
        active: true,
        // Distinct instants, so the order of listings is the contract's, not a tie's.
        created_at: t0() + secs(n as i64),
    }
}

async fn one(h: &dyn SubscriptionHarness) -> Arc<dyn SubscriptionStore> {
    h.open_subscriptions(1).await.remove(0)
}

fn is_conflict(result: Result<(), StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict { .. }))
}

fn is_not_found<T>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound { .. }))
}

/// A subscription reads back whole; putting one with the same id replaces it.
pub async fn subscriptions_round_trip_and_putting_replaces(h: &dyn SubscriptionHarness) {
    let s = one(h).await;
    let sub = subscription(1, ORG, CRM);
    s.put_subscription(&sub).await.unwrap();
    assert_eq!(s.subscription(ORG, sub.id).await.unwrap(), sub);
    let every_type = WebhookSubscription {
        events: Vec::new(),
        ..subscription(2, ORG, "https://erp.example.org/hooks?source=cem&v=2")
    };
    s.put_subscription(&every_type).await.unwrap();
    assert_eq!(
        s.subscription(ORG, every_type.id).await.unwrap(),
        every_type,
        "an empty list of events stays empty"
    );

    // Deactivated, other events, another URL and secret: the record is replaced.
    let changed = WebhookSubscription {
        url: "https://crm.example.org/cem/v2".to_owned(),
        events: vec!["booking_confirmed".to_owned()],
        secret: "whsec_rotated".to_owned(),
        active: false,
        ..sub.clone()
    };
    s.put_subscription(&changed).await.unwrap();
    assert_eq!(s.subscription(ORG, sub.id).await.unwrap(), changed);
    assert_eq!(
        s.subscriptions(Some(ORG)).await.unwrap(),
        [changed.clone(), every_type],
        "replaced in place, not added"
    );
    // Putting the same record again changes nothing, its own URL included.
    s.put_subscription(&changed).await.unwrap();
    assert_eq!(s.subscription(ORG, sub.id).await.unwrap(), changed);
    assert!(is_not_found(s.subscription(ORG, id(99)).await));
}

/// A URL is unique in its organization: a second subscription to it is a conflict and
/// nothing is written; another organization may use it.
pub async fn a_url_is_unique_in_its_organization(h: &dyn SubscriptionHarness) {
    let s = one(h).await;
    let first = subscription(1, ORG, CRM);
    s.put_subscription(&first).await.unwrap();
    assert!(is_conflict(
        s.put_subscription(&subscription(2, ORG, CRM)).await
    ));
    assert!(
        is_not_found(s.subscription(ORG, id(2)).await),
        "nothing written"
    );
    let theirs = subscription(3, OTHER_ORG, CRM);
    s.put_subscription(&theirs).await.unwrap();
    assert_eq!(s.subscription(OTHER_ORG, theirs.id).await.unwrap(), theirs);

    // Moving another subscription onto the URL conflicts too, and leaves it as it was.
    let erp = subscription(4, ORG, "https://erp.example.org/cem");
    s.put_subscription(&erp).await.unwrap();
    let onto = WebhookSubscription {
        url: CRM.to_owned(),
        ..erp.clone()
    };
    assert!(is_conflict(s.put_subscription(&onto).await));
    assert_eq!(s.subscription(ORG, erp.id).await.unwrap(), erp);
    assert_eq!(
        s.subscriptions(Some(ORG)).await.unwrap(),
        [first.clone(), erp]
    );

    // Once the URL is free again, it can be taken.
    s.delete_subscription(ORG, first.id).await.unwrap();
    s.put_subscription(&subscription(2, ORG, CRM))
        .await
        .unwrap();
    assert_eq!(s.subscription(ORG, id(2)).await.unwrap().url, CRM);
}

/// A subscription is reached only through its organization, and never moves to another.
pub async fn subscriptions_belong_to_their_organization(h: &dyn SubscriptionHarness) {
    let s = one(h).await;
    let ours = subscription(1, ORG, CRM);
    s.put_subscription(&ours).await.unwrap();
    assert!(is_not_found(s.subscription(OTHER_ORG, ours.id).await));
    assert!(is_not_found(
        s.delete_subscription(OTHER_ORG, ours.id).await
    ));
    assert_eq!(
        s.subscription(ORG, ours.id).await.unwrap(),
        ours,
        "another organization's delete left it"
    );
    // Another organization putting a record under this id takes nothing over.
    let taken = WebhookSubscription {
        organization: OTHER_ORG,
        url: "https://attacker.example.org/".to_owned(),
        ..ours.clone()
    };
    assert!(is_conflict(s.put_subscription(&taken).await));
    assert_eq!(s.subscription(ORG, ours.id).await.unwrap(), ours);
    assert!(s.subscriptions(Some(OTHER_ORG)).await.unwrap().is_empty());
}

/// An organization's subscriptions are listed oldest first; with no organization, every
/// organization's.
pub async fn subscriptions_are_listed_oldest_first(h: &dyn SubscriptionHarness) {
    let s = one(h).await;
    assert!(s.subscriptions(None).await.unwrap().is_empty());
    let mut made = Vec::new();
    for (n, organization, at) in [(1, ORG, 20), (2, OTHER_ORG, 5), (3, ORG, 0), (4, ORG, 10)] {
        let mut sub = subscription(n, organization, &format!("https://hooks.example.org/{n}"));
        sub.created_at = t0() + secs(at);
        s.put_subscription(&sub).await.unwrap();
        made.push(sub);
    }
    let ours = s.subscriptions(Some(ORG)).await.unwrap();
    assert_eq!(ours, [made[2].clone(), made[3].clone(), made[0].clone()]);
    assert_eq!(
        s.subscriptions(Some(OTHER_ORG)).await.unwrap(),
        [made[1].clone()]
    );
    assert!(
        s.subscriptions(Some(OrganizationId::from_u128(0xD9)))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.subscriptions(None).await.unwrap(),
        [
            made[2].clone(),
            made[1].clone(),
            made[3].clone(),
            made[0].clone()
        ]
    );
}

/// Deleting removes a subscription; deleting it again, or one that never was, is `NotFound`.
pub async fn deleting_removes_a_subscription_once(h: &dyn SubscriptionHarness) {
    let s = one(h).await;
    let gone = subscription(1, ORG, CRM);
    let kept = subscription(2, ORG, "https://erp.example.org/cem");
    s.put_subscription(&gone).await.unwrap();
    s.put_subscription(&kept).await.unwrap();
    s.delete_subscription(ORG, gone.id).await.unwrap();
    assert!(is_not_found(s.subscription(ORG, gone.id).await));
    assert!(is_not_found(s.delete_subscription(ORG, gone.id).await));
    assert!(is_not_found(s.delete_subscription(ORG, id(99)).await));
    assert_eq!(s.subscriptions(None).await.unwrap(), [kept]);
}

/// Tasks on separate handles putting subscriptions of one organization to one URL at once:
/// exactly one wins, every other gets `Conflict`, and the store holds the winner alone.
pub async fn concurrent_puts_of_one_url_have_one_winner(h: &dyn SubscriptionHarness) {
    const WRITERS: u128 = 8;
    let handles = h.open_subscriptions(4).await;
    let mut tasks = Vec::new();
    for n in 1..=WRITERS {
        let s = Arc::clone(&handles[n as usize % handles.len()]);
        tasks.push(tokio::spawn(async move {
            let sub = subscription(n, ORG, CRM);
            (sub.clone(), s.put_subscription(&sub).await)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (sub, Ok(())) => winners.push(sub),
            (_, Err(StoreError::Conflict { .. })) => {}
            (sub, Err(e)) => panic!("putting {} failed: {e}", sub.id),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one put wins");
    assert_eq!(handles[0].subscriptions(Some(ORG)).await.unwrap(), winners);
}
