//! The conformance cases of [`OutboxStore`], one per contract clause.

use std::collections::HashSet;
use std::sync::Arc;

use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    Attempt, Channel, Language, MessageId, OrganizationId, OutboundMessage, OutboxState,
    OutboxStore, Outcome, StoreError,
};

use crate::OutboxHarness;
use crate::fixtures::{secs, t0};

const ORG: OrganizationId = OrganizationId::from_u128(0x0_0B1);
const OTHER_ORG: OrganizationId = OrganizationId::from_u128(0x0_0B2);

fn message(n: u128, to: &str) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::from_u128(n),
        organization: ORG,
        channel: Channel::Sms,
        to: to.to_owned(),
        kind: "ticket_called".to_owned(),
        language: Language::new("fa"),
        subject: None,
        body: format!("شمارهٔ A-۰۰{n}، لطفاً به باجهٔ ۳ مراجعه کنید. \"quoted\"\nline two"),
        created_at: t0(),
    }
}

async fn one(h: &dyn OutboxHarness) -> Arc<dyn OutboxStore> {
    h.open_outbox(1).await.remove(0)
}

/// Enqueued messages read back whole and pending; enqueueing an id again changes nothing.
pub async fn enqueued_messages_read_back_and_enqueueing_is_idempotent(h: &dyn OutboxHarness) {
    let s = one(h).await;
    let mut email = message(2, "ana@example.org");
    email.channel = Channel::Email;
    email.subject = Some("Your turn".to_owned());
    s.enqueue(&[message(1, "+4930123456"), email.clone()], t0(), None)
        .await
        .unwrap();
    let read = s.message(email.id).await.unwrap();
    assert_eq!(read.message, email);
    assert_eq!(read.state, OutboxState::Pending);
    assert_eq!(read.attempts, 0);
    assert_eq!(read.next_attempt_at, t0());
    assert_eq!((read.last_error, read.settled_at), (None, None));

    // The same id again, even with other content and due later: the first one stands.
    let mut again = message(1, "+4930999999");
    again.body = "other".to_owned();
    s.enqueue(&[again], t0() + secs(60), None).await.unwrap();
    let first = s.message(MessageId::from_u128(1)).await.unwrap();
    assert_eq!(first.message, message(1, "+4930123456"));
    assert_eq!(first.next_attempt_at, t0());

    assert!(matches!(
        s.message(MessageId::from_u128(99)).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// A cursor moves with its messages, starts at 0 and never moves backwards.
pub async fn cursors_move_with_their_messages_and_never_back(h: &dyn OutboxHarness) {
    let s = one(h).await;
    assert_eq!(s.cursor("notifications").await.unwrap(), 0);
    s.enqueue(&[message(1, "+1")], t0(), Some(("notifications", 40)))
        .await
        .unwrap();
    assert_eq!(s.cursor("notifications").await.unwrap(), 40);
    assert_eq!(
        s.cursor("webhooks").await.unwrap(),
        0,
        "cursors are by name"
    );
    // Moving with no messages is allowed; moving back is not.
    s.enqueue(&[], t0(), Some(("notifications", 55)))
        .await
        .unwrap();
    s.enqueue(&[message(2, "+2")], t0(), Some(("notifications", 50)))
        .await
        .unwrap();
    assert_eq!(s.cursor("notifications").await.unwrap(), 55);
    assert_eq!(
        s.message(MessageId::from_u128(2)).await.unwrap().state,
        OutboxState::Pending,
        "the messages still go in"
    );
}

/// Claims take due messages earliest first, count the attempt and lease them; a leased
/// message is claimed again only once its lease has run out.
pub async fn claims_take_due_messages_earliest_first_and_lease_them(h: &dyn OutboxHarness) {
    let s = one(h).await;
    s.enqueue(&[message(1, "+1")], t0() + secs(20), None)
        .await
        .unwrap();
    s.enqueue(&[message(2, "+2")], t0() + secs(10), None)
        .await
        .unwrap();
    s.enqueue(&[message(3, "+3")], t0() + secs(90), None)
        .await
        .unwrap();
    let now = t0() + secs(30);
    let lease = now + secs(60);
    assert!(
        s.claim(t0(), lease, 10).await.unwrap().is_empty(),
        "none due"
    );
    let first = s.claim(now, lease, 1).await.unwrap();
    let ids: Vec<_> = first.iter().map(|e| e.message.id).collect();
    assert_eq!(
        ids,
        [MessageId::from_u128(2)],
        "earliest due first, up to the limit"
    );
    assert_eq!(first[0].attempts, 1);
    let rest = s.claim(now, lease, 10).await.unwrap();
    let ids: Vec<_> = rest.iter().map(|e| e.message.id).collect();
    assert_eq!(ids, [MessageId::from_u128(1)], "2 is leased, 3 is not due");
    assert!(s.claim(now + secs(59), lease, 10).await.unwrap().is_empty());
    // The leases run out (the worker died): both come back, attempts counted again; 3 is due.
    let again = s.claim(lease, lease + secs(60), 10).await.unwrap();
    let mut seen: Vec<_> = again.iter().map(|e| (e.message.id, e.attempts)).collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (MessageId::from_u128(1), 2),
            (MessageId::from_u128(2), 2),
            (MessageId::from_u128(3), 1)
        ]
    );
}

/// Settling records the outcome and releases the lease; a late outcome of an older attempt
/// changes nothing.
pub async fn settling_records_outcomes_and_ignores_late_ones(h: &dyn OutboxHarness) {
    let s = one(h).await;
    s.enqueue(
        &[message(1, "+1"), message(2, "+2"), message(3, "+3")],
        t0(),
        None,
    )
    .await
    .unwrap();
    let lease = t0() + secs(60);
    let claimed = s.claim(t0(), lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 3);
    let (m1, m2, m3) = (
        MessageId::from_u128(1),
        MessageId::from_u128(2),
        MessageId::from_u128(3),
    );
    let at = t0() + secs(1);
    assert!(s.settle(m1, 1, &Outcome::Delivered, at).await.unwrap());
    let retry = Outcome::Retry {
        at: t0() + secs(10),
        error: "503 from the gateway".to_owned(),
    };
    assert!(s.settle(m2, 1, &retry, at).await.unwrap());
    let dead = Outcome::Dead {
        error: "404 no such number".to_owned(),
    };
    assert!(s.settle(m3, 1, &dead, at).await.unwrap());

    let delivered = s.message(m1).await.unwrap();
    assert_eq!(delivered.state, OutboxState::Delivered);
    assert_eq!(delivered.settled_at, Some(at));
    let waiting = s.message(m2).await.unwrap();
    assert_eq!(waiting.state, OutboxState::Pending);
    assert_eq!(waiting.next_attempt_at, t0() + secs(10));
    assert_eq!(waiting.last_error.as_deref(), Some("503 from the gateway"));
    let gone = s.message(m3).await.unwrap();
    assert_eq!(gone.state, OutboxState::Dead);
    assert_eq!(gone.last_error.as_deref(), Some("404 no such number"));

    // The retry is claimable when due although its lease would still hold: settling released it.
    assert!(s.claim(t0() + secs(9), lease, 10).await.unwrap().is_empty());
    let next = s.claim(t0() + secs(10), lease, 10).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!((next[0].message.id, next[0].attempts), (m2, 2));
    // The first attempt's late answer is ignored; so is anything on a settled message.
    assert!(!s.settle(m2, 1, &Outcome::Delivered, at).await.unwrap());
    assert_eq!(s.message(m2).await.unwrap().state, OutboxState::Pending);
    assert!(!s.settle(m1, 1, &dead, at).await.unwrap());
    assert_eq!(s.message(m1).await.unwrap().state, OutboxState::Delivered);
    // Delivered at last: the earlier failure is history.
    assert!(s.settle(m2, 2, &Outcome::Delivered, at).await.unwrap());
    let done = s.message(m2).await.unwrap();
    assert_eq!(
        (done.state, done.last_error),
        (OutboxState::Delivered, None)
    );
    assert!(matches!(
        s.settle(MessageId::from_u128(9), 1, &Outcome::Delivered, at)
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

/// Dead messages are listed per organization, latest first, and can be replayed.
pub async fn dead_messages_are_listed_and_replayed(h: &dyn OutboxHarness) {
    let s = one(h).await;
    let mut other = message(3, "+3");
    other.organization = OTHER_ORG;
    s.enqueue(&[message(1, "+1"), message(2, "+2"), other], t0(), None)
        .await
        .unwrap();
    s.claim(t0(), t0() + secs(60), 10).await.unwrap();
    for (n, at) in [(1, 5), (2, 7), (3, 6)] {
        let dead = Outcome::Dead {
            error: format!("refused {n}"),
        };
        let id = MessageId::from_u128(n);
        assert!(s.settle(id, 1, &dead, t0() + secs(at)).await.unwrap());
    }
    let listed: Vec<_> = s
        .dead(ORG, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.message.id)
        .collect();
    assert_eq!(listed, [MessageId::from_u128(2), MessageId::from_u128(1)]);
    assert_eq!(s.dead(ORG, 1).await.unwrap().len(), 1);

    let m1 = MessageId::from_u128(1);
    let later = t0() + secs(100);
    s.replay(m1, later).await.unwrap();
    let back = s.message(m1).await.unwrap();
    assert_eq!(back.state, OutboxState::Pending);
    assert_eq!((back.attempts, back.next_attempt_at), (0, later));
    let claimed = s.claim(later, later + secs(60), 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].message.id, claimed[0].attempts), (m1, 1));
    assert!(matches!(
        s.replay(m1, later).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        s.replay(MessageId::from_u128(9), later).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// Erasing a recipient blanks the address and text of every message of the organization to it,
/// and pending ones die; other recipients, and other organizations, keep theirs.
pub async fn erasing_a_recipient_blanks_its_messages(h: &dyn OutboxHarness) {
    let s = one(h).await;
    let mut mail = message(3, "ana@example.org");
    mail.channel = Channel::Email;
    mail.subject = Some("Booking".to_owned());
    s.enqueue(&[message(1, "+4930111")], t0() - secs(1), None)
        .await
        .unwrap();
    s.enqueue(&[message(2, "+4930111"), mail.clone()], t0(), None)
        .await
        .unwrap();
    s.enqueue(&[message(4, "+4930222")], t0(), None)
        .await
        .unwrap();
    // The same number, known to another organization: its data is not ours to erase.
    let mut theirs = message(5, "+4930111");
    theirs.organization = OTHER_ORG;
    s.enqueue(&[theirs.clone()], t0() + secs(3600), None)
        .await
        .unwrap();
    let claimed = s.claim(t0(), t0() + secs(60), 1).await.unwrap();
    let delivered = claimed[0].message.id;
    assert_eq!(delivered, MessageId::from_u128(1), "the earliest due");
    assert!(
        s.settle(delivered, 1, &Outcome::Delivered, t0())
            .await
            .unwrap()
    );

    let at = t0() + secs(5);
    assert_eq!(s.erase_recipient(ORG, "+4930111", at).await.unwrap(), 2);
    for n in [1, 2] {
        let e = s.message(MessageId::from_u128(n)).await.unwrap();
        assert_eq!(e.message.to, "", "address erased");
        assert_eq!(e.message.body, "", "text erased");
        assert_eq!(e.message.subject, None);
        assert_eq!(e.message.kind, "ticket_called", "the record stays");
        if e.message.id == delivered {
            assert_eq!(e.state, OutboxState::Delivered);
        } else {
            assert_eq!(e.state, OutboxState::Dead);
            assert_eq!(e.last_error.as_deref(), Some("erased"));
        }
    }
    let mut pending: Vec<_> = s
        .claim(at, at + secs(60), 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.message.id)
        .collect();
    pending.sort();
    assert_eq!(
        pending,
        [mail.id, MessageId::from_u128(4)],
        "the erased one died"
    );
    assert_eq!(s.message(mail.id).await.unwrap().message, mail);
    assert_eq!(
        s.message(MessageId::from_u128(4)).await.unwrap().message.to,
        "+4930222"
    );
    assert_eq!(
        s.erase_recipient(ORG, "+4930111", at).await.unwrap(),
        0,
        "nothing left to erase"
    );
    assert_eq!(s.message(theirs.id).await.unwrap().message, theirs);
    assert_eq!(
        s.erase_recipient(OTHER_ORG, "+4930111", at).await.unwrap(),
        1
    );
    assert_eq!(
        s.erase_recipient(ORG, "", at).await.unwrap(),
        0,
        "erased ones stay uncounted"
    );
    assert!(
        matches!(
            s.replay(MessageId::from_u128(2), at).await,
            Err(StoreError::Conflict { .. })
        ),
        "an erased message has no one to go to"
    );
}

/// Workers on separate handles claiming at once never get the same message.
pub async fn concurrent_claims_never_share_a_message(h: &dyn OutboxHarness) {
    const MESSAGES: u128 = 300;
    const WORKERS: usize = 8;
    let handles = h.open_outbox(4).await;
    let all: Vec<OutboundMessage> = (1..=MESSAGES).map(|n| message(n, "+1")).collect();
    handles[0].enqueue(&all, t0(), None).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let s = Arc::clone(&handles[w % handles.len()]);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = s.claim(t0(), t0() + secs(600), 7).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                for e in claimed {
                    assert!(
                        s.settle(e.message.id, e.attempts, &Outcome::Delivered, t0())
                            .await
                            .unwrap()
                    );
                    mine.push(e.message.id);
                }
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in tasks {
        for id in t.await.unwrap() {
            total += 1;
            assert!(seen.insert(id), "{id} claimed twice");
        }
    }
    assert_eq!(total, MESSAGES as usize);
    for n in 1..=MESSAGES {
        let e = handles[1].message(MessageId::from_u128(n)).await.unwrap();
        assert_eq!((e.state, e.attempts), (OutboxState::Delivered, 1));
    }
}

fn retry(at: DateTime<Utc>, error: &str) -> Outcome {
    Outcome::Retry {
        at,
        error: error.to_owned(),
    }
}

fn attempt(number: u32, at: DateTime<Utc>, state: OutboxState, error: Option<&str>) -> Attempt {
    Attempt {
        number,
        at,
        state,
        error: error.map(str::to_owned),
    }
}

/// Claims message `id`, due at `now`, and settles the attempt claimed with `outcome` at
/// `now + 1 s`.
async fn attempt_once(s: &dyn OutboxStore, id: MessageId, now: DateTime<Utc>, outcome: &Outcome) {
    let claimed = s.claim(now, now + secs(60), 10).await.unwrap();
    let entry = claimed
        .iter()
        .find(|e| e.message.id == id)
        .unwrap_or_else(|| panic!("{id} due at {now}"));
    assert!(
        s.settle(id, entry.attempts, outcome, now + secs(1))
            .await
            .unwrap()
    );
}

/// Every settled attempt is logged, oldest first, with its instant, the state it left the
/// message in and its error; an unknown message has no log.
pub async fn settled_attempts_are_logged_oldest_first(h: &dyn OutboxHarness) {
    let s = one(h).await;
    let id = MessageId::from_u128(1);
    s.enqueue(&[message(1, "+1")], t0(), None).await.unwrap();
    s.enqueue(&[message(2, "+2")], t0() + secs(40), None)
        .await
        .unwrap();
    assert_eq!(s.attempts(id).await.unwrap(), [], "nothing settled yet");

    attempt_once(
        &*s,
        id,
        t0(),
        &retry(t0() + secs(10), "503 from the gateway"),
    )
    .await;
    attempt_once(
        &*s,
        id,
        t0() + secs(10),
        &retry(t0() + secs(30), "timed out"),
    )
    .await;
    attempt_once(&*s, id, t0() + secs(30), &Outcome::Delivered).await;

    assert_eq!(
        s.attempts(id).await.unwrap(),
        [
            attempt(
                1,
                t0() + secs(1),
                OutboxState::Pending,
                Some("503 from the gateway")
            ),
            attempt(2, t0() + secs(11), OutboxState::Pending, Some("timed out")),
            attempt(3, t0() + secs(31), OutboxState::Delivered, None),
        ]
    );
    let dead = Outcome::Dead {
        error: "404 no such number".to_owned(),
    };
    attempt_once(&*s, MessageId::from_u128(2), t0() + secs(40), &dead).await;
    assert_eq!(
        s.attempts(MessageId::from_u128(2)).await.unwrap(),
        [attempt(
            1,
            t0() + secs(41),
            OutboxState::Dead,
            Some("404 no such number")
        )],
        "each message has its own log"
    );
    assert!(matches!(
        s.attempts(MessageId::from_u128(99)).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// A settle that returns `false` (a late outcome, or one on a settled message) logs nothing;
/// an attempt whose worker died leaves no line.
pub async fn a_refused_settle_logs_nothing(h: &dyn OutboxHarness) {
    let s = one(h).await;
    let id = MessageId::from_u128(1);
    s.enqueue(&[message(1, "+1")], t0(), None).await.unwrap();
    let lease = t0() + secs(60);
    assert_eq!(s.claim(t0(), lease, 10).await.unwrap()[0].attempts, 1);
    // The lease runs out and another worker takes over: attempt 1's answer comes too late.
    assert_eq!(
        s.claim(lease, lease + secs(60), 10).await.unwrap()[0].attempts,
        2
    );
    let late = lease + secs(1);
    assert!(!s.settle(id, 1, &Outcome::Delivered, late).await.unwrap());
    assert_eq!(s.attempts(id).await.unwrap(), []);
    assert!(
        s.settle(id, 2, &retry(late + secs(5), "502"), late)
            .await
            .unwrap()
    );
    let logged = [attempt(2, late, OutboxState::Pending, Some("502"))];
    assert_eq!(s.attempts(id).await.unwrap(), logged);

    attempt_once(&*s, id, late + secs(5), &Outcome::Delivered).await;
    let dead = Outcome::Dead {
        error: "too late".to_owned(),
    };
    assert!(!s.settle(id, 3, &dead, late + secs(9)).await.unwrap());
    let log = s.attempts(id).await.unwrap();
    assert_eq!(log.len(), 2, "nothing logged on a settled message: {log:?}");
    assert_eq!(
        log[1],
        attempt(3, late + secs(6), OutboxState::Delivered, None)
    );
}

/// A replayed message's attempts count from 1 again and are logged after the ones before
/// the replay, which stay.
pub async fn a_replayed_message_logs_after_its_old_attempts(h: &dyn OutboxHarness) {
    let s = one(h).await;
    let id = MessageId::from_u128(1);
    s.enqueue(&[message(1, "+1")], t0(), None).await.unwrap();
    attempt_once(&*s, id, t0(), &retry(t0() + secs(10), "503")).await;
    let refused = Outcome::Dead {
        error: "410 gone".to_owned(),
    };
    attempt_once(&*s, id, t0() + secs(10), &refused).await;

    let later = t0() + secs(3600);
    s.replay(id, later).await.unwrap();
    attempt_once(&*s, id, later, &retry(later + secs(10), "503 again")).await;
    attempt_once(&*s, id, later + secs(10), &Outcome::Delivered).await;

    assert_eq!(
        s.attempts(id).await.unwrap(),
        [
            attempt(1, t0() + secs(1), OutboxState::Pending, Some("503")),
            attempt(2, t0() + secs(11), OutboxState::Dead, Some("410 gone")),
            attempt(1, later + secs(1), OutboxState::Pending, Some("503 again")),
            attempt(2, later + secs(11), OutboxState::Delivered, None),
        ]
    );
}

/// `sent_to` lists an organization's messages to one recipient, the latest created first, up
/// to the limit, in an order that does not change between calls.
pub async fn sent_to_lists_a_recipients_messages_latest_first(h: &dyn OutboxHarness) {
    let s = one(h).await;
    let created = |n: u128, to: &str, at: i64| {
        let mut m = message(n, to);
        m.created_at = t0() + secs(at);
        m
    };
    let mut theirs = created(6, "+4930111", 50);
    theirs.organization = OTHER_ORG;
    s.enqueue(
        &[
            created(1, "+4930111", 10),
            created(2, "+4930111", 30),
            created(3, "+4930222", 40),
            created(4, "+4930111", 20),
            // Created at the same instant as 2.
            created(5, "+4930111", 30),
            theirs,
        ],
        t0(),
        None,
    )
    .await
    .unwrap();
    attempt_once(&*s, MessageId::from_u128(4), t0(), &Outcome::Delivered).await;

    let ids = |entries: Vec<cem_core::OutboxEntry>| -> Vec<u128> {
        entries.iter().map(|e| e.message.id.0.as_u128()).collect()
    };
    let all = s.sent_to(ORG, "+4930111", 10).await.unwrap();
    let delivered = all
        .iter()
        .find(|e| e.message.id == MessageId::from_u128(4))
        .expect("a settled message is listed too");
    assert_eq!(delivered.state, OutboxState::Delivered);
    assert_eq!(delivered.message, created(4, "+4930111", 20));
    let all = ids(all);
    assert_eq!(all.len(), 4, "{all:?}");
    let mut tied = all[..2].to_vec();
    tied.sort_unstable();
    assert_eq!(tied, [2, 5], "the latest created first");
    assert_eq!(all[2..], [4, 1]);
    assert_eq!(
        ids(s.sent_to(ORG, "+4930111", 3).await.unwrap()),
        all[..3],
        "the limit cuts the same order"
    );
    assert_eq!(ids(s.sent_to(ORG, "+4930111", 10).await.unwrap()), all);
    assert_eq!(ids(s.sent_to(ORG, "+4930222", 10).await.unwrap()), [3]);
    assert_eq!(
        ids(s.sent_to(OTHER_ORG, "+4930111", 10).await.unwrap()),
        [6]
    );
    assert_eq!(s.sent_to(ORG, "+4930333", 10).await.unwrap(), []);
    assert_eq!(s.sent_to(ORG, "+4930111", 0).await.unwrap(), []);
}

/// Erasing a recipient clears the error texts of its messages and of their log, which keeps its
/// lines; other recipients' and other organizations' logs keep theirs.
pub async fn erasing_a_recipient_clears_its_attempts_errors(h: &dyn OutboxHarness) {
    let s = one(h).await;
    let mut theirs = message(3, "+4930111");
    theirs.organization = OTHER_ORG;
    s.enqueue(
        &[message(1, "+4930111"), message(2, "+4930222"), theirs],
        t0(),
        None,
    )
    .await
    .unwrap();
    let (m1, m2, m3) = (
        MessageId::from_u128(1),
        MessageId::from_u128(2),
        MessageId::from_u128(3),
    );
    let unreachable = retry(t0() + secs(10), "+4930111 unreachable");
    assert_eq!(s.claim(t0(), t0() + secs(60), 10).await.unwrap().len(), 3);
    for id in [m1, m2, m3] {
        assert!(s.settle(id, 1, &unreachable, t0() + secs(1)).await.unwrap());
    }
    let barred = Outcome::Dead {
        error: "number +4930111 barred".to_owned(),
    };
    attempt_once(&*s, m1, t0() + secs(10), &barred).await;

    assert_eq!(
        s.erase_recipient(ORG, "+4930111", t0() + secs(20))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.attempts(m1).await.unwrap(),
        [
            attempt(1, t0() + secs(1), OutboxState::Pending, None),
            attempt(2, t0() + secs(11), OutboxState::Dead, None),
        ],
        "the lines stay, without their text"
    );
    let dead = s.message(m1).await.unwrap();
    assert_eq!(
        (dead.state, dead.last_error.as_deref()),
        (OutboxState::Dead, Some("erased")),
        "the dead message's last error quoted the number"
    );
    for id in [m2, m3] {
        assert_eq!(
            s.attempts(id).await.unwrap(),
            [attempt(
                1,
                t0() + secs(1),
                OutboxState::Pending,
                Some("+4930111 unreachable")
            )],
            "{id} is not the erased recipient's"
        );
    }
}
