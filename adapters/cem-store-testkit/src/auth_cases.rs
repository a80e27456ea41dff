//! The conformance cases of [`AuthStore`](cem_core::AuthStore), one per contract clause. Each
//! store also holds the organization tables the owners live in.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    AccessToken, Branch, BranchId, Device, DeviceId, DeviceKind, Language, LocalizedText,
    Organization, OrganizationId, Role, StoreError, Subject, User, UserId,
};
use cem_queue::testing::branch_config;

use crate::{AuthHarness, OrgAuthStore};

/// Owners put in every fresh store: an organization with two branches and a user, and another
/// organization with a branch and a user.
struct Owners {
    org: OrganizationId,
    branch: Branch,
    second_branch: Branch,
    user: UserId,
    other_org: OrganizationId,
    other_branch: Branch,
    other_user: UserId,
}

async fn put_owners(s: &dyn OrgAuthStore) -> Owners {
    let branch = branch_config(1, 1).branch;
    let org = branch.organization;
    let other_org = OrganizationId::from_u128(0x0_07E4);
    let with = |id: u128, organization: OrganizationId| Branch {
        id: BranchId::from_u128(id),
        organization,
        ..branch.clone()
    };
    let owners = Owners {
        org,
        second_branch: with(0xB2, org),
        user: UserId::from_u128(0xA1),
        other_org,
        other_branch: with(0xB3, other_org),
        other_user: UserId::from_u128(0xA2),
        branch,
    };
    for (id, name) in [(org, "Bank"), (other_org, "Other")] {
        s.put_organization(&Organization {
            id,
            name: LocalizedText::single(Language::en(), name),
            default_language: Language::en(),
        })
        .await
        .unwrap();
    }
    for b in [&owners.branch, &owners.second_branch, &owners.other_branch] {
        s.put_branch(b).await.unwrap();
    }
    for (id, organization, login) in [
        (owners.user, org, "sara"),
        (owners.other_user, other_org, "omid"),
    ] {
        s.put_user(&User {
            id,
            organization,
            login: login.into(),
            name: login.into(),
            role: Role::Agent,
            branches: Vec::new(),
            agent: None,
            language: None,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            active: true,
        })
        .await
        .unwrap();
    }
    owners
}

fn device(id: u128, branch: &Branch, kind: DeviceKind) -> Device {
    Device {
        id: DeviceId::from_u128(id),
        organization: branch.organization,
        branch: branch.id,
        kind,
        name: format!("Device {id}"),
        language: None,
    }
}

/// An instant `secs` after a fixed one, in whole seconds.
fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("a valid instant")
}

/// The digest of token `n`: 64 hex digits.
fn digest(n: u128) -> String {
    format!("{n:064x}")
}

fn token(n: u128, organization: OrganizationId, subject: Subject) -> AccessToken {
    AccessToken {
        digest: digest(n),
        organization,
        subject,
        label: format!("token {n}"),
        created_at: t(0),
        expires_at: None,
        revoked_at: None,
    }
}

fn conflict<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(r, Err(StoreError::Conflict { .. })),
        "{what}: expected Conflict, got {r:?}"
    );
}

fn not_found<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(r, Err(StoreError::NotFound { .. })),
        "{what}: expected NotFound, got {r:?}"
    );
}

/// What is put or inserted reads back equal (instants cut to the microsecond), and lists keep
/// the order of first puts and insertions (a replaced device keeps its place).
pub async fn devices_and_tokens_round_trip(h: &dyn AuthHarness) {
    let s = h.open_auth().await;
    let o = put_owners(&*s).await;

    let mut kiosk = device(1, &o.branch, DeviceKind::Kiosk);
    kiosk.language = Some(Language::fa());
    let display = device(2, &o.branch, DeviceKind::Display);
    s.put_device(&kiosk).await.unwrap();
    s.put_device(&display).await.unwrap();
    assert_eq!(s.device(kiosk.id).await.unwrap(), kiosk);
    kiosk.name = "Entrance kiosk".into();
    s.put_device(&kiosk).await.unwrap();
    assert_eq!(
        s.devices(o.branch.id).await.unwrap(),
        [kiosk.clone(), display.clone()]
    );
    assert!(s.devices(o.second_branch.id).await.unwrap().is_empty());

    let user = Subject::User(o.user);
    let mut first = token(1, o.org, user);
    first.created_at = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
    first.expires_at = Some(DateTime::from_timestamp(1_700_086_400, 999).unwrap());
    first.label = "Firefox on Windows".into();
    let second = token(2, o.org, user);
    let mut revoked = token(3, o.org, Subject::Device(display.id));
    revoked.revoked_at = Some(t(1));
    for tk in [&first, &second, &revoked] {
        s.insert_token(tk).await.unwrap();
    }
    let stored = AccessToken {
        created_at: DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap(),
        expires_at: Some(t(86_400)),
        ..first.clone()
    };
    assert_eq!(s.token(&first.digest).await.unwrap(), stored);
    assert_eq!(s.tokens(&user).await.unwrap(), [stored, second]);
    assert_eq!(
        s.tokens(&Subject::Device(display.id)).await.unwrap(),
        [revoked]
    );
    assert!(
        s.tokens(&Subject::Device(kiosk.id))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Reads, revocations and deletions of what does not exist are `NotFound`; lists under an
/// unknown owner or subject are empty and an unknown subject has nothing to revoke.
pub async fn unknown_devices_and_tokens_are_not_found(h: &dyn AuthHarness) {
    let s = h.open_auth().await;
    let o = put_owners(&*s).await;
    let unknown = DeviceId::from_u128(0xDEAD);
    not_found(s.device(unknown).await, "device");
    not_found(s.delete_device(unknown).await, "delete device");
    not_found(s.token(&digest(1)).await, "token");
    not_found(s.revoke_token(&digest(1), t(0)).await, "revoke token");
    assert!(s.devices(o.branch.id).await.unwrap().is_empty());
    assert!(
        s.devices(BranchId::from_u128(0xDEAD))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.tokens(&Subject::User(o.user)).await.unwrap().is_empty());
    assert!(
        s.tokens(&Subject::Device(unknown))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.revoke_subject(&Subject::Device(unknown), t(0))
            .await
            .unwrap(),
        0
    );
}

/// A device is put only under an existing branch of its organization and never moves to
/// another branch; a token is inserted only for a subject of its organization. A refused
/// write writes nothing.
pub async fn owners_must_exist_and_devices_never_move(h: &dyn AuthHarness) {
    let s = h.open_auth().await;
    let o = put_owners(&*s).await;

    let mut d = device(1, &o.branch, DeviceKind::Kiosk);
    d.branch = BranchId::from_u128(0xDEAD);
    not_found(s.put_device(&d).await, "device of an unknown branch");
    d.branch = o.other_branch.id;
    not_found(
        s.put_device(&d).await,
        "device of a branch of another organization",
    );
    d.organization = OrganizationId::from_u128(0xDEAD);
    d.branch = o.branch.id;
    not_found(s.put_device(&d).await, "device of an unknown organization");
    not_found(s.device(d.id).await, "a refused device");

    let d = device(1, &o.branch, DeviceKind::Kiosk);
    s.put_device(&d).await.unwrap();
    let moved = Device {
        branch: o.second_branch.id,
        name: "Moved".into(),
        ..d.clone()
    };
    conflict(s.put_device(&moved).await, "device to another branch");
    let elsewhere = Device {
        organization: o.other_org,
        branch: o.other_branch.id,
        ..d.clone()
    };
    conflict(
        s.put_device(&elsewhere).await,
        "device to another organization",
    );
    assert_eq!(s.device(d.id).await.unwrap(), d);
    assert!(s.devices(o.second_branch.id).await.unwrap().is_empty());
    assert!(s.devices(o.other_branch.id).await.unwrap().is_empty());

    let foreign = device(2, &o.other_branch, DeviceKind::Display);
    s.put_device(&foreign).await.unwrap();
    let refused = [
        (
            token(1, OrganizationId::from_u128(0xDEAD), Subject::User(o.user)),
            "token of an unknown organization",
        ),
        (
            token(2, o.org, Subject::User(UserId::from_u128(0xDEAD))),
            "token of an unknown user",
        ),
        (
            token(3, o.org, Subject::User(o.other_user)),
            "token of a user of another organization",
        ),
        (
            token(4, o.org, Subject::Device(DeviceId::from_u128(0xDEAD))),
            "token of an unknown device",
        ),
        (
            token(5, o.org, Subject::Device(foreign.id)),
            "token of a device of another organization",
        ),
    ];
    for (tk, what) in &refused {
        not_found(s.insert_token(tk).await, what);
        not_found(s.token(&tk.digest).await, what);
    }
    for subject in [
        Subject::User(o.user),
        Subject::User(o.other_user),
        Subject::Device(foreign.id),
    ] {
        assert!(s.tokens(&subject).await.unwrap().is_empty());
    }
}

/// A digest is unique in the store: inserting it again, for any subject, is `Conflict` and
/// leaves the first token as it was.
pub async fn a_taken_digest_conflicts(h: &dyn AuthHarness) {
    let s = h.open_auth().await;
    let o = put_owners(&*s).await;
    let d = device(1, &o.branch, DeviceKind::Display);
    s.put_device(&d).await.unwrap();
    let first = token(1, o.org, Subject::User(o.user));
    s.insert_token(&first).await.unwrap();

    let mut again = first.clone();
    again.label = "again".into();
    conflict(s.insert_token(&again).await, "same digest, same subject");
    again.subject = Subject::Device(d.id);
    conflict(s.insert_token(&again).await, "same digest, a device");
    let foreign = token(1, o.other_org, Subject::User(o.other_user));
    conflict(
        s.insert_token(&foreign).await,
        "same digest, another organization",
    );
    s.revoke_token(&first.digest, t(5)).await.unwrap();
    conflict(
        s.insert_token(&first).await,
        "the digest of a revoked token",
    );

    let stored = s.token(&first.digest).await.unwrap();
    assert_eq!(stored.label, first.label);
    assert_eq!(stored.revoked_at, Some(t(5)));
    assert_eq!(s.tokens(&Subject::User(o.user)).await.unwrap(), [stored]);
    assert!(s.tokens(&Subject::Device(d.id)).await.unwrap().is_empty());
    assert!(
        s.tokens(&Subject::User(o.other_user))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Revoking a token sets its instant once: revoking again keeps the first, expired tokens are
/// revoked all the same, and what the call returns is what is stored.
pub async fn revoking_a_token_keeps_the_first_instant(h: &dyn AuthHarness) {
    let s = h.open_auth().await;
    let o = put_owners(&*s).await;
    let user = Subject::User(o.user);
    let live = token(1, o.org, user);
    let mut expired = token(2, o.org, user);
    expired.expires_at = Some(t(60));
    s.insert_token(&live).await.unwrap();
    s.insert_token(&expired).await.unwrap();
    assert!(s.token(&live.digest).await.unwrap().is_valid_at(t(100)));
    assert!(!s.token(&expired.digest).await.unwrap().is_valid_at(t(60)));
    assert!(s.token(&expired.digest).await.unwrap().is_valid_at(t(59)));

    let at = DateTime::from_timestamp(1_700_000_010, 500_999).unwrap();
    let revoked = s.revoke_token(&live.digest, at).await.unwrap();
    let first = DateTime::from_timestamp(1_700_000_010, 500_000).unwrap();
    assert_eq!(revoked.revoked_at, Some(first));
    assert_eq!(
        revoked,
        AccessToken {
            revoked_at: Some(first),
            ..live.clone()
        }
    );
    assert!(!revoked.is_valid_at(t(0)));
    let again = s.revoke_token(&live.digest, t(20)).await.unwrap();
    assert_eq!(again.revoked_at, Some(first));
    assert_eq!(s.token(&live.digest).await.unwrap(), revoked);

    let expired_revoked = s.revoke_token(&expired.digest, t(120)).await.unwrap();
    assert_eq!(expired_revoked.revoked_at, Some(t(120)));
    assert_eq!(s.tokens(&user).await.unwrap(), [revoked, expired_revoked]);
}

/// Revoking a subject revokes its tokens valid at that instant and counts them: tokens already
/// revoked keep their instant, expired ones (including one expiring at that very instant) stay
/// as they are, and other subjects' tokens are not touched.
pub async fn revoking_a_subject_revokes_its_live_tokens_only(h: &dyn AuthHarness) {
    let s = h.open_auth().await;
    let o = put_owners(&*s).await;
    let d = device(1, &o.branch, DeviceKind::Kiosk);
    s.put_device(&d).await.unwrap();
    let user = Subject::User(o.user);
    let at = t(100);

    let live = token(1, o.org, user);
    let mut revoked = token(2, o.org, user);
    revoked.revoked_at = Some(t(5));
    let mut expired = token(3, o.org, user);
    expired.expires_at = Some(t(50));
    let mut expiring_now = token(4, o.org, user);
    expiring_now.expires_at = Some(at);
    let mut expiring_later = token(5, o.org, user);
    expiring_later.expires_at = Some(t(1_000));
    let others = [
        token(6, o.org, Subject::Device(d.id)),
        token(7, o.other_org, Subject::User(o.other_user)),
    ];
    for tk in [&live, &revoked, &expired, &expiring_now, &expiring_later]
        .into_iter()
        .chain(&others)
    {
        s.insert_token(tk).await.unwrap();
    }

    assert_eq!(s.revoke_subject(&user, at).await.unwrap(), 2);
    let now_revoked = |tk: &AccessToken| AccessToken {
        revoked_at: Some(at),
        ..tk.clone()
    };
    assert_eq!(
        s.tokens(&user).await.unwrap(),
        [
            now_revoked(&live),
            revoked.clone(),
            expired.clone(),
            expiring_now.clone(),
            now_revoked(&expiring_later),
        ]
    );
    for tk in s.tokens(&user).await.unwrap() {
        assert!(!tk.is_valid_at(at), "{} is still valid", tk.label);
    }
    for tk in &others {
        let stored = s.token(&tk.digest).await.unwrap();
        assert_eq!(&stored, tk);
        assert!(stored.is_valid_at(at));
    }

    // Nothing live is left: a second call revokes nothing and moves no instant.
    assert_eq!(s.revoke_subject(&user, t(200)).await.unwrap(), 0);
    assert_eq!(
        s.token(&live.digest).await.unwrap().revoked_at,
        Some(at),
        "the first instant is kept"
    );
    assert_eq!(
        s.revoke_subject(&Subject::Device(d.id), at).await.unwrap(),
        1
    );
}

/// Deleting a device deletes its tokens, revoked or not, and nothing else; a token for it is
/// then `NotFound`, and a device put again under its id starts with no tokens.
pub async fn deleting_a_device_deletes_its_tokens(h: &dyn AuthHarness) {
    let s = h.open_auth().await;
    let o = put_owners(&*s).await;
    let gone = device(1, &o.branch, DeviceKind::Kiosk);
    let kept = device(2, &o.branch, DeviceKind::Display);
    s.put_device(&gone).await.unwrap();
    s.put_device(&kept).await.unwrap();
    let gone_tokens = [
        token(1, o.org, Subject::Device(gone.id)),
        token(2, o.org, Subject::Device(gone.id)),
    ];
    let kept_tokens = [
        token(3, o.org, Subject::Device(kept.id)),
        token(4, o.org, Subject::User(o.user)),
    ];
    for tk in gone_tokens.iter().chain(&kept_tokens) {
        s.insert_token(tk).await.unwrap();
    }
    s.revoke_token(&gone_tokens[1].digest, t(1)).await.unwrap();

    s.delete_device(gone.id).await.unwrap();
    not_found(s.device(gone.id).await, "deleted device");
    not_found(s.delete_device(gone.id).await, "device deleted twice");
    assert_eq!(
        s.devices(o.branch.id).await.unwrap(),
        std::slice::from_ref(&kept)
    );
    for tk in &gone_tokens {
        not_found(s.token(&tk.digest).await, "token of a deleted device");
    }
    assert!(
        s.tokens(&Subject::Device(gone.id))
            .await
            .unwrap()
            .is_empty()
    );
    for tk in &kept_tokens {
        assert_eq!(&s.token(&tk.digest).await.unwrap(), tk);
    }
    not_found(
        s.insert_token(&token(5, o.org, Subject::Device(gone.id)))
            .await,
        "token of a deleted device",
    );

    s.put_device(&gone).await.unwrap();
    assert!(
        s.tokens(&Subject::Device(gone.id))
            .await
            .unwrap()
            .is_empty()
    );
    // The digest of a deleted token is free again.
    s.insert_token(&gone_tokens[0]).await.unwrap();
}

const TASKS: u128 = 16;

/// Waits until `done` reaches half of [`TASKS`], so half the inserts finished before the caller
/// goes on and the other half race it.
async fn half_done(done: &AtomicUsize) {
    while done.load(Ordering::SeqCst) < TASKS as usize / 2 {
        tokio::task::yield_now().await;
    }
}

/// Many tasks inserting tokens with one digest at once: exactly one wins, every other gets
/// `Conflict`, and the store holds the winner alone.
pub async fn concurrent_inserts_of_one_digest_have_one_winner(h: &dyn AuthHarness) {
    let s = h.open_auth().await;
    let o = put_owners(&*s).await;
    let user = Subject::User(o.user);
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS as usize));
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let (s, barrier) = (Arc::clone(&s), Arc::clone(&barrier));
            let mut tk = token(1, o.org, user);
            tk.label = format!("attempt {i}");
            tokio::spawn(async move {
                barrier.wait().await;
                s.insert_token(&tk).await.map(|()| tk)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("task ran") {
            Ok(tk) => winners.push(tk),
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(s.tokens(&user).await.unwrap(), winners);
    assert_eq!(s.token(&digest(1)).await.unwrap(), winners[0]);
}

/// Tokens inserted while the subject is being revoked: every token whose insertion finished
/// before the revocation began is revoked, the count is the number of tokens revoked at that
/// instant, and the rest are live.
pub async fn revoking_a_subject_during_inserts_misses_no_earlier_token(h: &dyn AuthHarness) {
    let s = h.open_auth().await;
    let o = put_owners(&*s).await;
    let user = Subject::User(o.user);
    let at = t(100);
    let revoking = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let inserts: Vec<_> = (0..TASKS)
        .map(|i| {
            let (s, revoking, done) = (Arc::clone(&s), Arc::clone(&revoking), Arc::clone(&done));
            let tk = token(100 + i, o.org, user);
            tokio::spawn(async move {
                s.insert_token(&tk).await.expect("insert a token");
                // Read after the insert returned: `false` means the revocation had not begun.
                let before_revoke = !revoking.load(Ordering::SeqCst);
                done.fetch_add(1, Ordering::SeqCst);
                (tk.digest, before_revoke)
            })
        })
        .collect();
    let revoke = {
        let (s, revoking, done) = (Arc::clone(&s), Arc::clone(&revoking), Arc::clone(&done));
        tokio::spawn(async move {
            half_done(&done).await;
            revoking.store(true, Ordering::SeqCst);
            s.revoke_subject(&user, at)
                .await
                .expect("revoke the subject")
        })
    };
    let mut inserted = Vec::new();
    for task in inserts {
        inserted.push(task.await.expect("task ran"));
    }
    let count = revoke.await.expect("task ran");

    let tokens = s.tokens(&user).await.unwrap();
    assert_eq!(tokens.len(), TASKS as usize);
    let revoked = tokens.iter().filter(|t| t.revoked_at.is_some()).count();
    assert_eq!(count, revoked as u64, "the count is what was revoked");
    for tk in &tokens {
        assert!(
            tk.revoked_at.is_none_or(|r| r == at),
            "revoked at another instant: {tk:?}"
        );
    }
    let before = inserted.iter().filter(|(_, before)| *before).count();
    assert!(before >= TASKS as usize / 2, "{before} inserted before");
    for (digest, before_revoke) in inserted {
        if before_revoke {
            let tk = s.token(&digest).await.unwrap();
            assert_eq!(
                tk.revoked_at,
                Some(at),
                "a token inserted before the revocation began is live"
            );
        }
    }
}

/// Tokens inserted for a device while it is deleted: each insertion is refused (`NotFound`)
/// or deleted with the device, so no token outlives it.
pub async fn deleting_a_device_during_inserts_leaves_no_token(h: &dyn AuthHarness) {
    let s = h.open_auth().await;
    let o = put_owners(&*s).await;
    let d = device(1, &o.branch, DeviceKind::Kiosk);
    s.put_device(&d).await.unwrap();
    let subject = Subject::Device(d.id);
    let done = Arc::new(AtomicUsize::new(0));
    let inserts: Vec<_> = (0..TASKS)
        .map(|i| {
            let (s, done) = (Arc::clone(&s), Arc::clone(&done));
            let tk = token(100 + i, o.org, subject);
            tokio::spawn(async move {
                let inserted = match s.insert_token(&tk).await {
                    Ok(()) => true,
                    Err(StoreError::NotFound { .. }) => false,
                    Err(e) => panic!("unexpected error: {e:?}"),
                };
                done.fetch_add(1, Ordering::SeqCst);
                (tk.digest, inserted)
            })
        })
        .collect();
    let delete = {
        let (s, done) = (Arc::clone(&s), Arc::clone(&done));
        tokio::spawn(async move {
            half_done(&done).await;
            s.delete_device(d.id).await.expect("delete the device")
        })
    };
    let mut digests = Vec::new();
    for task in inserts {
        digests.push(task.await.expect("task ran"));
    }
    delete.await.expect("task ran");
    let inserted = digests.iter().filter(|(_, inserted)| *inserted).count();
    assert!(inserted >= TASKS as usize / 2, "{inserted} inserted");

    assert!(s.tokens(&subject).await.unwrap().is_empty());
    for (digest, _) in &digests {
        not_found(s.token(digest).await, "token of a deleted device");
    }
}

/// The audit log: sequence numbers increase, reads are per organization, newest first, paged
/// by `before`, and entries read back as written (instants to the microsecond).
pub async fn the_audit_log_pages_newest_first_per_organization(h: &dyn AuthHarness) {
    let s = h.open_auth().await;
    let owners = put_owners(&*s).await;
    let at: DateTime<Utc> = "2026-11-30T08:00:00.123456789Z".parse().unwrap();
    let entry = |org: OrganizationId, i: i64| cem_core::AuditEntry {
        organization: org,
        at: at + cem_core::chrono::Duration::seconds(i),
        actor: format!("user:{}", owners.user),
        action: "service.put".into(),
        target: format!("target-{i}"),
        detail: serde_json::json!({ "i": i, "name": { "fa": "خدمت" } }),
    };
    let mut ours = Vec::new();
    for i in 0..5 {
        let seq = s.append_audit(&entry(owners.org, i)).await.unwrap();
        s.append_audit(&entry(owners.other_org, i)).await.unwrap();
        ours.push(seq);
    }
    assert!(ours.windows(2).all(|w| w[0] < w[1]), "{ours:?}");
    let page = s.audit(owners.org, None, 3).await.unwrap();
    let seqs: Vec<u64> = page.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [ours[4], ours[3], ours[2]]);
    assert!(page.iter().all(|r| r.entry.organization == owners.org));
    let mut expected = entry(owners.org, 4);
    expected.at = "2026-11-30T08:00:04.123456Z".parse().unwrap();
    assert_eq!(page[0].entry, expected);
    let rest = s.audit(owners.org, Some(ours[2]), 10).await.unwrap();
    let seqs: Vec<u64> = rest.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [ours[1], ours[0]]);
    assert!(
        s.audit(OrganizationId::from_u128(0xDEAD), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
