//! The conformance cases of [`ContactStore`], one per contract clause.

use std::collections::HashSet;
use std::sync::Arc;

use cem_core::chrono::Duration;
use cem_core::{Contact, ContactStore, Language, OrganizationId, TicketId};

use crate::ContactHarness;
use crate::fixtures::{secs, t0};

const ORG: OrganizationId = OrganizationId::from_u128(0x0_0C1);
const OTHER_ORG: OrganizationId = OrganizationId::from_u128(0x0_0C2);

fn ticket(n: u128) -> TicketId {
    TicketId::from_u128(0x7000 + n)
}

fn contact(n: u128, phone: Option<&str>, email: Option<&str>) -> Contact {
    Contact {
        ticket: ticket(n),
        organization: ORG,
        phone: phone.map(str::to_owned),
        email: email.map(str::to_owned),
        language: Language::new("fa"),
        created_at: t0(),
    }
}

async fn one(h: &dyn ContactHarness) -> Arc<dyn ContactStore> {
    h.open_contacts(1).await.remove(0)
}

/// `contacts` of `tickets`, sorted by ticket so lists compare.
async fn sorted(s: &dyn ContactStore, tickets: &[TicketId]) -> Vec<Contact> {
    let mut read = s.contacts(tickets).await.unwrap();
    read.sort_by_key(|c| c.ticket);
    read
}

/// Saved contacts read back whole (instants to the microsecond); saving a ticket's contact
/// again replaces it.
pub async fn contacts_round_trip_and_saving_replaces(h: &dyn ContactHarness) {
    let s = one(h).await;
    let phone = contact(1, Some("+4930123456"), None);
    let mut email = contact(2, None, Some("ana@example.org"));
    email.language = Language::new("de-AT");
    email.created_at = t0() + secs(1);
    let both = contact(3, Some("+989121234567"), Some("reza@example.org"));
    for c in [&phone, &email, &both] {
        s.save_contact(c).await.unwrap();
    }
    assert_eq!(
        sorted(&*s, &[ticket(1), ticket(2), ticket(3)]).await,
        [phone.clone(), email.clone(), both.clone()]
    );

    // The same ticket again: the new contact replaces the old one entirely.
    let replaced = Contact {
        phone: None,
        email: Some("ana.new@example.org".to_owned()),
        language: Language::en(),
        created_at: t0() + secs(30),
        ..phone.clone()
    };
    s.save_contact(&replaced).await.unwrap();
    assert_eq!(
        sorted(&*s, &[ticket(1), ticket(2), ticket(3)]).await,
        [replaced, email, both],
        "one contact per ticket, the last saved"
    );
}

/// `contacts` returns the contacts of the tickets asked for that have one, each once, for
/// any number of tickets.
pub async fn contacts_reads_only_tickets_that_have_one(h: &dyn ContactHarness) {
    let s = one(h).await;
    assert!(
        s.contacts(&[]).await.unwrap().is_empty(),
        "no tickets asked"
    );
    assert!(
        s.contacts(&[ticket(1)]).await.unwrap().is_empty(),
        "an empty store"
    );
    // Every third of 1 200 tickets has a contact: more ids than one statement should bind.
    const TICKETS: u128 = 1_200;
    let mut saved = Vec::new();
    for n in (1..=TICKETS).filter(|n| n % 3 == 0) {
        let mut c = contact(n, Some(&format!("+49301{n:06}")), None);
        c.created_at = t0() + secs(n as i64);
        s.save_contact(&c).await.unwrap();
        saved.push(c);
    }
    let all: Vec<TicketId> = (1..=TICKETS).map(ticket).collect();
    assert_eq!(sorted(&*s, &all).await, saved);

    let few = [ticket(2), ticket(3), ticket(9), ticket(10), ticket(5_000)];
    assert_eq!(
        sorted(&*s, &few).await,
        [saved[0].clone(), saved[2].clone()],
        "only those asked for that exist"
    );
    assert!(
        s.contacts(&[ticket(1), ticket(2)])
            .await
            .unwrap()
            .is_empty()
    );
}

/// Erasing deletes the organization's contacts whose phone number or e-mail address is the
/// one given, and says how many; other organizations' contacts stay, even with that number.
pub async fn erasing_deletes_an_organizations_contacts_by_phone_or_email(h: &dyn ContactHarness) {
    let s = one(h).await;
    let by_phone = contact(1, Some("+4930111"), None);
    let by_email = contact(2, Some("+4930222"), Some("ana@example.org"));
    let both = contact(3, Some("+4930111"), Some("other@example.org"));
    let unrelated = contact(4, Some("+4930333"), Some(""));
    // The same number, known to another organization: its data is not ours to erase.
    let theirs = Contact {
        organization: OTHER_ORG,
        ..contact(5, Some("+4930111"), Some("ana@example.org"))
    };
    for c in [&by_phone, &by_email, &both, &unrelated, &theirs] {
        s.save_contact(c).await.unwrap();
    }
    let every: Vec<TicketId> = (1..=5).map(ticket).collect();

    assert_eq!(s.erase_contacts(ORG, "+4930111").await.unwrap(), 2);
    assert_eq!(
        sorted(&*s, &every).await,
        [by_email.clone(), unrelated.clone(), theirs.clone()]
    );
    assert_eq!(s.erase_contacts(ORG, "ana@example.org").await.unwrap(), 1);
    assert_eq!(
        sorted(&*s, &every).await,
        [unrelated.clone(), theirs.clone()]
    );
    assert_eq!(
        s.erase_contacts(ORG, "+4930111").await.unwrap(),
        0,
        "nothing left to erase"
    );
    assert_eq!(
        s.erase_contacts(ORG, "").await.unwrap(),
        0,
        "a blank address is nobody's"
    );
    assert_eq!(
        s.erase_contacts(ORG, "+4930").await.unwrap(),
        0,
        "whole numbers only"
    );
    assert_eq!(
        sorted(&*s, &every).await,
        [unrelated, theirs.clone()],
        "what did not match stays"
    );
    assert_eq!(s.erase_contacts(OTHER_ORG, "+4930111").await.unwrap(), 1);
    assert!(
        s.contacts(&[theirs.ticket]).await.unwrap().is_empty(),
        "erased by its own organization"
    );
}

/// Forgetting deletes the contacts left before the instant given, and only those.
pub async fn forgetting_deletes_only_older_contacts(h: &dyn ContactHarness) {
    let s = one(h).await;
    let mut made = Vec::new();
    for (n, at) in [(1, -7200), (2, -3600), (3, 0), (4, 3600)] {
        let mut c = contact(n, Some(&format!("+{n}")), None);
        c.created_at = t0() + secs(at);
        if n == 2 {
            c.organization = OTHER_ORG;
        }
        s.save_contact(&c).await.unwrap();
        made.push(c);
    }
    let every: Vec<TicketId> = (1..=4).map(ticket).collect();
    assert_eq!(
        s.forget_contacts_before(t0() - secs(7200)).await.unwrap(),
        0,
        "none left before the oldest"
    );
    assert_eq!(
        s.forget_contacts_before(t0()).await.unwrap(),
        2,
        "every organization's, left strictly before"
    );
    assert_eq!(sorted(&*s, &every).await, made[2..]);
    assert_eq!(s.forget_contacts_before(t0()).await.unwrap(), 0);
    assert_eq!(
        s.forget_contacts_before(t0() + secs(3600) + Duration::microseconds(1))
            .await
            .unwrap(),
        2
    );
    assert!(s.contacts(&every).await.unwrap().is_empty());
}

/// Tasks on separate handles saving one ticket's contact at once all succeed, and the ticket
/// keeps exactly one of their contacts.
pub async fn concurrent_saves_of_one_ticket_keep_one_contact(h: &dyn ContactHarness) {
    const WRITERS: usize = 8;
    let handles = h.open_contacts(4).await;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let s = Arc::clone(&handles[w % handles.len()]);
        tasks.push(tokio::spawn(async move {
            let c = contact(1, Some(&format!("+49300{w}")), None);
            s.save_contact(&c).await.map(|()| c)
        }));
    }
    let mut written = HashSet::new();
    for t in tasks {
        let c = t.await.unwrap().expect("saving replaces, never conflicts");
        written.insert(c.phone);
    }
    assert_eq!(written.len(), WRITERS);
    let kept = handles[1].contacts(&[ticket(1)]).await.unwrap();
    assert_eq!(kept.len(), 1, "one contact per ticket");
    assert!(written.contains(&kept[0].phone), "one of those written");
}
