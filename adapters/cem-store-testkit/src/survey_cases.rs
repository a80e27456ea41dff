//! The conformance cases of [`SurveyStore`](cem_core::SurveyStore), one per contract clause.
//! The store is also an [`OutboxStore`](cem_core::OutboxStore): the cases read the messages a
//! write enqueued through it.

use std::sync::Arc;

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::{
    ALREADY_ANSWERED, AfterService, AgentId, Answer, AnswerValue, BranchId, COOLDOWN, Case,
    CaseFilter, CaseId, CaseReason, CaseStatus, CesDirection, Channel, Choice, ClassId, Condition,
    ConditionTest, CounterId, Invitation, InvitationId, InvitationSource, Language, LocalizedText,
    MessageId, OrganizationId, OutboundMessage, OutboxState, Question, QuestionKind, ReplyTo,
    Response, ResponseFilter, ResponseId, STALE, SentimentLabel, ServiceId, StoreError, Survey,
    SurveyId, TextAnalysis, TicketId, Triggers, UserId, VisitRef,
};

use crate::fixtures::{secs, t0};
use crate::{SurveyHarness, SurveyOutboxStore};

const ORG: OrganizationId = OrganizationId::from_u128(0x05D1);
const OTHER_ORG: OrganizationId = OrganizationId::from_u128(0x05D2);
const BRANCH: BranchId = BranchId::from_u128(0x05D11);
const OTHER_BRANCH: BranchId = BranchId::from_u128(0x05D12);
const THIRD_BRANCH: BranchId = BranchId::from_u128(0x05D13);
const SURVEY: SurveyId = SurveyId::from_u128(0x05D21);
const OTHER_SURVEY: SurveyId = SurveyId::from_u128(0x05D22);
/// The `what` of the conflict a taken invitation id or token gives.
const EXISTS: &str = "exists";
const PHONE: &str = "+989121234567";
const EMAIL: &str = "sara@example.org";

fn text(en: &str, fa: &str) -> LocalizedText {
    LocalizedText::single(Language::en(), en).with(Language::fa(), fa)
}

fn choice(key: &str) -> Choice {
    Choice {
        key: key.to_owned(),
        label: text(key, "گزینه"),
    }
}

fn question(key: &str, kind: QuestionKind, show_if: Option<Condition>) -> Question {
    Question {
        key: key.to_owned(),
        prompt: text(&format!("About {key}?"), "درباره‌ی این؟"),
        kind,
        required: show_if.is_none(),
        show_if,
    }
}

fn when(question: &str, test: ConditionTest) -> Option<Condition> {
    Some(Condition {
        question: question.to_owned(),
        test,
    })
}

/// Version `version` of a survey of the organization, using every field.
fn survey(id: SurveyId, version: u32, name: &str) -> Survey {
    Survey {
        id,
        organization: ORG,
        version,
        name: name.to_owned(),
        title: text("How did we do?", "چطور بودیم؟"),
        questions: vec![
            question("nps", QuestionKind::Nps, None),
            question(
                "csat",
                QuestionKind::Csat,
                when("nps", ConditionTest::ScoreAtMost(6)),
            ),
            question(
                "ces",
                QuestionKind::Ces {
                    direction: CesDirection::LowIsEasy,
                },
                when("nps", ConditionTest::Answered),
            ),
            question(
                "rating",
                QuestionKind::Rating { min: -2, max: 2 },
                when("nps", ConditionTest::ScoreAtLeast(9)),
            ),
            question(
                "topic",
                QuestionKind::SingleChoice {
                    options: vec![choice("wait"), choice("staff")],
                },
                None,
            ),
            question(
                "extras",
                QuestionKind::MultipleChoice {
                    options: vec![choice("coffee"), choice("seats")],
                },
                when("topic", ConditionTest::Chose("wait".to_owned())),
            ),
            question("comment", QuestionKind::FreeText { max_chars: 500 }, None),
        ],
        triggers: Triggers {
            after_service: Some(AfterService {
                branches: vec![BRANCH, OTHER_BRANCH],
                services: vec![ServiceId::from_u128(0x05D31)],
                classes: vec![ClassId::from_u128(0x05D41)],
                sample_rate: 0.35,
                cooldown_days: 30,
                valid_hours: 72,
            }),
            link: true,
            kiosk: false,
        },
        active: true,
        created_at: t0() + secs(i64::from(version)),
    }
}

fn invitation_id(n: u128) -> InvitationId {
    InvitationId::from_u128(0x1A00_0000 + n)
}

fn token(n: u128) -> String {
    format!("tok-{n:04}-Zx9")
}

/// A full visit: every field a report groups by.
fn visit(n: u128) -> VisitRef {
    VisitRef {
        ticket: Some(TicketId::from_u128(0x7000 + n)),
        service: Some(ServiceId::from_u128(0x05D31)),
        counter: Some(CounterId::from_u128(0x05D51)),
        agent: Some(AgentId::from_u128(0x05D61)),
        class: Some(ClassId::from_u128(0x05D41)),
    }
}

/// Invitation `n` to the survey, after a service at the branch, for the customer `key-n`,
/// made `n` seconds after `t0`.
fn invitation(n: u128) -> Invitation {
    let made = t0() + secs(n as i64);
    Invitation {
        id: invitation_id(n),
        token: token(n),
        organization: ORG,
        survey: SURVEY,
        branch: BRANCH,
        source: InvitationSource::AfterService,
        visit: visit(n),
        recipient_key: Some(format!("key-{n}")),
        language: Language::fa(),
        created_at: made,
        expires_at: made + secs(72 * 3600),
        answered_at: None,
    }
}

fn response_id(n: u128) -> ResponseId {
    ResponseId::from_u128(0x2E00_0000 + n)
}

/// Response `n` to `invitation`, ten minutes after it was made.
fn response(n: u128, invitation: &Invitation) -> Response {
    Response {
        id: response_id(n),
        organization: invitation.organization,
        survey: invitation.survey,
        version: 1,
        invitation: invitation.id,
        branch: invitation.branch,
        source: invitation.source,
        visit: invitation.visit.clone(),
        language: invitation.language.clone(),
        answers: vec![
            Answer {
                question: "nps".to_owned(),
                value: AnswerValue::Score(3),
            },
            Answer {
                question: "extras".to_owned(),
                value: AnswerValue::Choices(vec!["coffee".to_owned(), "seats".to_owned()]),
            },
            Answer {
                question: "comment".to_owned(),
                value: AnswerValue::Text("خیلی طول کشید \"واقعاً\"\nline two".to_owned()),
            },
        ],
        analysis: Some(TextAnalysis {
            language: Some(Language::fa()),
            score: -0.75,
            sentiment: SentimentLabel::Negative,
            tags: vec!["staff".to_owned(), "waiting_time".to_owned()],
        }),
        reply_to: Some(ReplyTo {
            phone: Some(format!("+4930{n:06}")),
            email: Some(format!("r{n}@example.org")),
            language: Language::fa(),
        }),
        submitted_at: invitation.created_at + secs(600),
    }
}

fn case_id(n: u128) -> CaseId {
    CaseId::from_u128(0xCA5E_0000 + n)
}

/// The case `response` opens, open, due a day after it.
fn case(n: u128, response: &Response) -> Case {
    Case {
        id: case_id(n),
        organization: response.organization,
        branch: response.branch,
        response: response.id,
        survey: response.survey,
        reason: CaseReason::Detractor(3),
        status: CaseStatus::Open,
        owner: None,
        deadline: response.submitted_at + secs(86_400),
        escalations: 0,
        root_cause: None,
        resolution: None,
        reply_to: response.reply_to.clone(),
        created_at: response.submitted_at,
        updated_at: response.submitted_at,
        resolved_at: None,
        revision: 1,
    }
}

/// `c`'s next revision, changed a minute later.
fn changed(c: &Case) -> Case {
    Case {
        revision: c.revision + 1,
        updated_at: c.updated_at + secs(60),
        ..c.clone()
    }
}

/// `c`'s next revision, resolved.
fn resolved(c: &Case) -> Case {
    let next = changed(c);
    Case {
        status: CaseStatus::Resolved,
        owner: Some(UserId::from_u128(0x05D71)),
        root_cause: Some("Short-staffed at noon".to_owned()),
        resolution: Some("Called back; added a counter".to_owned()),
        resolved_at: Some(next.updated_at),
        ..next
    }
}

/// Message `n`, made at `at`.
fn message(n: u128, at: DateTime<Utc>) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::from_u128(0x5E00 + n),
        organization: ORG,
        channel: Channel::Sms,
        to: PHONE.to_owned(),
        kind: "survey_invitation".to_owned(),
        language: Language::fa(),
        subject: None,
        body: format!("نظر شما برای ما مهم است: {n}"),
        created_at: at,
    }
}

/// The `what` of a conflict.
fn conflict(r: Result<(), StoreError>) -> String {
    match r {
        Err(StoreError::Conflict { what }) => what,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn is_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::NotFound { .. }))
}

async fn one(h: &dyn SurveyHarness) -> Arc<dyn SurveyOutboxStore> {
    h.open_surveys(1).await.remove(0)
}

/// Whether the message is in the outbox.
async fn enqueued(s: &dyn SurveyOutboxStore, id: MessageId) -> bool {
    match s.message(id).await {
        Ok(_) => true,
        Err(StoreError::NotFound { .. }) => false,
        Err(e) => panic!("reading message {id}: {e:?}"),
    }
}

/// Stores invitation `n`, made `at`, at `branch`, and the response to it, submitted `at` too,
/// with the case it opens when `with_case`.
async fn answered(
    s: &dyn SurveyOutboxStore,
    n: u128,
    branch: BranchId,
    at: DateTime<Utc>,
    with_case: bool,
) -> (Response, Option<Case>) {
    let inv = Invitation {
        branch,
        created_at: at,
        recipient_key: None,
        ..invitation(n)
    };
    s.insert_invitation(&inv, None, &[]).await.unwrap();
    let r = Response {
        submitted_at: at,
        ..response(n, &inv)
    };
    let c = with_case.then(|| case(n, &r));
    s.submit_response(&r, c.as_ref()).await.unwrap();
    (r, c)
}

/// Every response of the organization.
/// The invitations (or responses) of an organization, of one survey when given, in
/// `from..to`, of every branch.
fn made(
    organization: OrganizationId,
    survey: Option<SurveyId>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ResponseFilter {
    ResponseFilter {
        organization,
        survey,
        branches: None,
        from,
        to,
    }
}

fn all_responses() -> ResponseFilter {
    ResponseFilter {
        organization: ORG,
        survey: None,
        branches: None,
        from: t0() - secs(86_400 * 365),
        to: t0() + secs(86_400 * 365),
    }
}

/// Every case of the organization.
fn all_cases() -> CaseFilter {
    CaseFilter {
        organization: ORG,
        branches: None,
        status: None,
        overdue_at: None,
    }
}

fn response_ids(responses: &[Response]) -> Vec<ResponseId> {
    responses.iter().map(|r| r.id).collect()
}

fn case_ids(cases: &[Case]) -> Vec<CaseId> {
    cases.iter().map(|c| c.id).collect()
}

/// Version 1 creates a survey and each next version follows the latest; the latest reads
/// back by default and every version when asked. A version that is not the next one is
/// `STALE`, a later version of an unknown survey not found, and neither writes anything.
pub async fn survey_versions_are_stored_one_after_another(h: &dyn SurveyHarness) {
    let s = one(h).await;
    assert!(is_not_found(s.survey(SURVEY, None).await));
    let v1 = survey(SURVEY, 1, "After service");
    s.put_survey(&v1).await.unwrap();
    assert_eq!(s.survey(SURVEY, None).await.unwrap(), v1);

    let v2 = Survey {
        name: "After service (short)".to_owned(),
        questions: v1.questions[..1].to_vec(),
        triggers: Triggers::default(),
        active: false,
        ..survey(SURVEY, 2, "")
    };
    s.put_survey(&v2).await.unwrap();
    assert_eq!(s.survey(SURVEY, None).await.unwrap(), v2, "the latest");
    assert_eq!(s.survey(SURVEY, Some(2)).await.unwrap(), v2);
    assert_eq!(
        s.survey(SURVEY, Some(1)).await.unwrap(),
        v1,
        "earlier versions stay readable"
    );
    assert!(is_not_found(s.survey(SURVEY, Some(3)).await));
    assert!(is_not_found(s.survey(SURVEY, Some(0)).await));

    for version in [0, 1, 2, 4, u32::MAX] {
        let stale = Survey {
            name: "Stale".to_owned(),
            ..survey(SURVEY, version, "")
        };
        assert_eq!(
            conflict(s.put_survey(&stale).await),
            STALE,
            "version {version}"
        );
    }
    assert_eq!(s.survey(SURVEY, None).await.unwrap(), v2, "nothing written");
    assert_eq!(s.survey(SURVEY, Some(1)).await.unwrap(), v1);

    let v3 = survey(SURVEY, 3, "After service");
    s.put_survey(&v3).await.unwrap();
    assert_eq!(s.survey(SURVEY, None).await.unwrap(), v3);

    for version in [2, 5] {
        let ghost = survey(OTHER_SURVEY, version, "Ghost");
        assert!(
            is_not_found(s.put_survey(&ghost).await),
            "version {version} of an unknown survey"
        );
    }
    assert!(is_not_found(s.survey(OTHER_SURVEY, None).await));
    assert_eq!(
        conflict(s.put_survey(&survey(OTHER_SURVEY, 0, "Zero")).await),
        STALE,
        "version 0 is never the next one"
    );
    assert!(is_not_found(s.survey(OTHER_SURVEY, None).await));
}

/// A survey's later versions are its organization's: another organization's version 2 of it
/// is not found, and its version 1 is `STALE` (the id is taken).
pub async fn a_survey_stays_in_its_organization(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let v1 = survey(SURVEY, 1, "Ours");
    s.put_survey(&v1).await.unwrap();
    let theirs = |version| Survey {
        organization: OTHER_ORG,
        ..survey(SURVEY, version, "Theirs")
    };
    assert!(is_not_found(s.put_survey(&theirs(2)).await));
    assert_eq!(conflict(s.put_survey(&theirs(1)).await), STALE);
    assert_eq!(s.survey(SURVEY, None).await.unwrap(), v1);
    assert!(s.surveys(OTHER_ORG).await.unwrap().is_empty());
    assert_eq!(s.surveys(ORG).await.unwrap(), [v1]);
}

/// An organization's surveys, each at its latest version, by name (byte order) then id.
pub async fn surveys_lists_latest_versions_by_name_then_id(h: &dyn SurveyHarness) {
    let s = one(h).await;
    assert!(s.surveys(ORG).await.unwrap().is_empty());
    let id = |n: u128| SurveyId::from_u128(0x05D2_0000 + n);
    // Byte order: "B" < "a" < "b" < "é"; "b" twice, told apart by id.
    let upper_b = survey(id(1), 1, "B");
    let a_v1 = survey(id(2), 1, "z at first");
    let a_v2 = survey(id(2), 2, "a");
    let b_second = survey(id(4), 1, "b");
    let b_first = survey(id(3), 1, "b");
    let accented = survey(id(5), 1, "é");
    let theirs = Survey {
        organization: OTHER_ORG,
        ..survey(id(6), 1, "a")
    };
    for v in [
        &accented, &b_second, &a_v1, &theirs, &upper_b, &b_first, &a_v2,
    ] {
        s.put_survey(v).await.unwrap();
    }
    assert_eq!(
        s.surveys(ORG).await.unwrap(),
        [upper_b, a_v2, b_first, b_second, accented]
    );
    assert_eq!(s.surveys(OTHER_ORG).await.unwrap(), [theirs]);
    assert!(
        s.surveys(OrganizationId::from_u128(9))
            .await
            .unwrap()
            .is_empty()
    );
}

/// An invitation reads back whole by its token, every source and optional field kept;
/// unknown tokens are not found.
pub async fn invitations_round_trip_by_token(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let full = Invitation {
        answered_at: Some(t0() + secs(30) + Duration::microseconds(1)),
        language: Language::new("de-AT"),
        ..invitation(1)
    };
    let bare = Invitation {
        source: InvitationSource::Link,
        visit: VisitRef::default(),
        recipient_key: None,
        ..invitation(2)
    };
    let kiosk = Invitation {
        source: InvitationSource::Kiosk,
        visit: VisitRef {
            counter: Some(CounterId::from_u128(0x05D52)),
            ..VisitRef::default()
        },
        ..invitation(3)
    };
    for i in [&full, &bare, &kiosk] {
        s.insert_invitation(i, None, &[]).await.unwrap();
    }
    for i in [&full, &bare, &kiosk] {
        assert_eq!(&s.invitation(&i.token).await.unwrap(), i);
    }
    assert!(is_not_found(s.invitation(&token(9)).await));
    assert!(is_not_found(s.invitation("").await));
    assert!(
        is_not_found(s.invitation(&token(1).to_uppercase()).await),
        "tokens are exact"
    );
}

/// An invitation whose id or token exists is `exists`, before any cooldown, and writes
/// nothing, its messages neither.
pub async fn an_existing_invitation_id_or_token_conflicts(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let first = invitation(1);
    s.insert_invitation(&first, None, &[]).await.unwrap();
    let same_id = Invitation {
        id: first.id,
        ..invitation(2)
    };
    let same_token = Invitation {
        token: first.token.clone(),
        ..invitation(3)
    };
    // Derived again: the same invitation, which is in its own cooldown.
    let again = first.clone();
    let since = Some(t0() - secs(86_400));
    for (n, i) in [(1, &same_id), (2, &same_token), (3, &again)] {
        let m = message(n, i.created_at);
        assert_eq!(
            conflict(s.insert_invitation(i, None, std::slice::from_ref(&m)).await),
            EXISTS
        );
        assert_eq!(
            conflict(
                s.insert_invitation(i, since, std::slice::from_ref(&m))
                    .await
            ),
            EXISTS,
            "exists comes before the cooldown"
        );
        assert!(!enqueued(&*s, m.id).await, "message {n}");
    }
    assert_eq!(s.invitation(&first.token).await.unwrap(), first);
    assert!(is_not_found(s.invitation(&same_id.token).await));
    assert_eq!(
        s.invitations_made(&made(ORG, None, t0() - secs(60), t0() + secs(60)))
            .await
            .unwrap(),
        1
    );
}

/// With a cooldown, an invitation for a customer key the organization invited (to any
/// survey) at or after `cooldown_since` is `COOLDOWN`; one invited before it, another key,
/// no key, another organization or no cooldown are invited.
pub async fn a_customer_in_their_cooldown_is_not_invited_again(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let key = |k: &str| Some(k.to_owned());
    let first = Invitation {
        recipient_key: key("ana"),
        created_at: t0(),
        ..invitation(1)
    };
    s.insert_invitation(&first, None, &[]).await.unwrap();

    let since_first = Some(t0());
    let after_first = Some(t0() + Duration::microseconds(1));
    let refused = [
        (
            Invitation {
                recipient_key: key("ana"),
                ..invitation(2)
            },
            since_first,
        ),
        (
            Invitation {
                recipient_key: key("ana"),
                survey: OTHER_SURVEY,
                branch: OTHER_BRANCH,
                source: InvitationSource::Link,
                ..invitation(3)
            },
            Some(t0() - secs(86_400 * 30)),
        ),
    ];
    for (i, since) in &refused {
        assert_eq!(
            conflict(s.insert_invitation(i, *since, &[]).await),
            COOLDOWN,
            "the cooldown is per organization and key, across surveys; since is inclusive"
        );
        assert!(
            is_not_found(s.invitation(&i.token).await),
            "nothing written"
        );
    }

    let allowed = [
        (
            Invitation {
                recipient_key: key("ana"),
                ..invitation(4)
            },
            after_first,
        ),
        (
            Invitation {
                recipient_key: key("bob"),
                ..invitation(5)
            },
            since_first,
        ),
        (
            Invitation {
                recipient_key: None,
                ..invitation(6)
            },
            since_first,
        ),
        (
            Invitation {
                recipient_key: key("ana"),
                organization: OTHER_ORG,
                ..invitation(7)
            },
            since_first,
        ),
        (
            Invitation {
                recipient_key: key("ANA"),
                ..invitation(8)
            },
            since_first,
        ),
    ];
    for (i, since) in &allowed {
        s.insert_invitation(i, *since, &[]).await.unwrap();
        assert_eq!(&s.invitation(&i.token).await.unwrap(), i);
    }

    // Invitation 4 is now in the window that let it in.
    let later = Invitation {
        recipient_key: key("ana"),
        ..invitation(9)
    };
    assert_eq!(
        conflict(s.insert_invitation(&later, after_first, &[]).await),
        COOLDOWN
    );
    s.insert_invitation(
        &later,
        Some(invitation(4).created_at + Duration::microseconds(1)),
        &[],
    )
    .await
    .unwrap();
    let unchecked = Invitation {
        recipient_key: key("ana"),
        ..invitation(10)
    };
    s.insert_invitation(&unchecked, None, &[]).await.unwrap();
}

/// An invitation's messages are in the outbox, pending and due at its creation, when it is
/// stored, and absent when it was refused; an id already enqueued stays as it was.
pub async fn invitation_messages_are_enqueued_only_with_their_write(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let first = invitation(1);
    let at = first.created_at;
    let (m1, m2) = (message(1, at), message(2, at));
    s.insert_invitation(&first, None, &[m1.clone(), m2.clone()])
        .await
        .unwrap();
    for m in [&m1, &m2] {
        let entry = s.message(m.id).await.unwrap();
        assert_eq!(&entry.message, m);
        assert_eq!(
            (entry.state, entry.attempts, entry.next_attempt_at),
            (OutboxState::Pending, 0, at),
            "pending, due at once"
        );
    }

    let in_cooldown = Invitation {
        recipient_key: first.recipient_key.clone(),
        ..invitation(2)
    };
    let m3 = message(3, at);
    assert_eq!(
        conflict(
            s.insert_invitation(&in_cooldown, Some(t0()), std::slice::from_ref(&m3))
                .await
        ),
        COOLDOWN
    );
    assert!(!enqueued(&*s, m3.id).await, "message of a refused write");

    let second = invitation(3);
    let again = OutboundMessage {
        body: "other".to_owned(),
        ..m1.clone()
    };
    let m4 = message(4, second.created_at);
    s.insert_invitation(&second, None, &[again, m4.clone()])
        .await
        .unwrap();
    assert_eq!(
        s.message(m1.id).await.unwrap().message,
        m1,
        "kept as it was"
    );
    assert_eq!(
        s.message(m4.id).await.unwrap().next_attempt_at,
        second.created_at
    );
}

/// Passes on separate handles inviting one customer at once, each within the cooldown of
/// the others: exactly one invites, every other one is `COOLDOWN` and wrote nothing, its
/// messages neither.
pub async fn concurrent_invitations_of_one_customer_have_one_winner(h: &dyn SurveyHarness) {
    const PASSES: u128 = 16;
    let handles = h.open_surveys(4).await;
    let since = Some(t0() - secs(86_400 * 30));
    let mut tasks = Vec::new();
    for n in 1..=PASSES {
        let s = Arc::clone(&handles[n as usize % handles.len()]);
        tasks.push(tokio::spawn(async move {
            let i = Invitation {
                recipient_key: Some("the-one".to_owned()),
                ..invitation(n)
            };
            let r = s
                .insert_invitation(&i, since, &[message(n, i.created_at)])
                .await;
            (n, r)
        }));
    }
    let (mut won, mut refused) = (Vec::new(), Vec::new());
    for t in tasks {
        match t.await.unwrap() {
            (n, Ok(())) => won.push(n),
            (n, Err(StoreError::Conflict { what })) if what == COOLDOWN => refused.push(n),
            (n, other) => panic!("pass {n}: {other:?}"),
        }
    }
    assert_eq!((won.len(), refused.len()), (1, PASSES as usize - 1));
    let s = &handles[1];
    assert_eq!(
        s.invitations_made(&made(ORG, None, t0() - secs(60), t0() + secs(3600)))
            .await
            .unwrap(),
        1
    );
    assert!(s.invitation(&token(won[0])).await.is_ok());
    assert!(enqueued(&**s, message(won[0], t0()).id).await);
    for n in refused {
        assert!(
            is_not_found(s.invitation(&token(n)).await),
            "invitation {n}"
        );
        assert!(!enqueued(&**s, message(n, t0()).id).await, "message {n}");
    }
}

/// A response is stored and marks its invitation answered at its submission; a second one is
/// `ALREADY_ANSWERED`, an unknown invitation (or one of another organization) not found, and
/// neither writes anything.
pub async fn an_invitation_takes_one_response(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let inv = invitation(1);
    s.insert_invitation(&inv, None, &[]).await.unwrap();
    let first = response(1, &inv);
    s.submit_response(&first, None).await.unwrap();
    assert_eq!(s.response(first.id).await.unwrap(), first);
    assert_eq!(
        s.invitation(&inv.token).await.unwrap(),
        Invitation {
            answered_at: Some(first.submitted_at),
            ..inv.clone()
        }
    );

    let second = Response {
        submitted_at: first.submitted_at + secs(5),
        ..response(2, &inv)
    };
    assert_eq!(
        conflict(s.submit_response(&second, None).await),
        ALREADY_ANSWERED
    );
    assert!(is_not_found(s.response(second.id).await), "nothing written");
    assert_eq!(
        s.invitation(&inv.token).await.unwrap().answered_at,
        Some(first.submitted_at),
        "answered once"
    );

    let ghost = response(3, &invitation(9));
    assert!(is_not_found(s.submit_response(&ghost, None).await));
    assert!(is_not_found(s.response(ghost.id).await));

    let unanswered = invitation(2);
    s.insert_invitation(&unanswered, None, &[]).await.unwrap();
    let theirs = Response {
        organization: OTHER_ORG,
        ..response(4, &unanswered)
    };
    assert!(
        is_not_found(s.submit_response(&theirs, None).await),
        "another organization's invitation"
    );
    assert!(is_not_found(s.response(theirs.id).await));
    assert_eq!(s.invitation(&unanswered.token).await.unwrap(), unanswered);
    assert_eq!(s.responses(&all_responses()).await.unwrap(), [first]);
}

/// Clients on separate handles submitting for one invitation at once: exactly one succeeds,
/// every other one is `ALREADY_ANSWERED`, and one response is stored.
pub async fn concurrent_submits_for_one_invitation_have_one_winner(h: &dyn SurveyHarness) {
    const CLIENTS: u128 = 16;
    let handles = h.open_surveys(4).await;
    let inv = invitation(1);
    handles[0].insert_invitation(&inv, None, &[]).await.unwrap();
    let mut tasks = Vec::new();
    for n in 1..=CLIENTS {
        let s = Arc::clone(&handles[n as usize % handles.len()]);
        let r = Response {
            submitted_at: inv.created_at + secs(n as i64),
            ..response(n, &inv)
        };
        tasks.push(tokio::spawn(async move {
            let c = case(n, &r);
            let result = s.submit_response(&r, Some(&c)).await;
            (r, result)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (r, Ok(())) => winners.push(r),
            (_, Err(StoreError::Conflict { what })) if what == ALREADY_ANSWERED => {}
            (r, other) => panic!("response {}: {other:?}", r.id),
        }
    }
    assert_eq!(winners.len(), 1, "one winner");
    let s = &handles[2];
    let winner = winners.remove(0);
    assert_eq!(
        s.responses(&all_responses()).await.unwrap(),
        std::slice::from_ref(&winner)
    );
    // Client `n` sent response `n` with case `n`.
    let winner_case = case_id(winner.id.0.as_u128() - response_id(0).0.as_u128());
    assert_eq!(
        case_ids(&s.cases(&all_cases()).await.unwrap()),
        [winner_case],
        "only the winner's case"
    );
    assert_eq!(
        s.invitation(&inv.token).await.unwrap().answered_at,
        Some(winner.submitted_at)
    );
}

/// A response with a case stores both; a refused submission stores neither, nor marks the
/// invitation answered: an answered invitation, a taken response id, a taken case id.
pub async fn a_response_and_its_case_are_stored_all_or_nothing(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let inv = invitation(1);
    s.insert_invitation(&inv, None, &[]).await.unwrap();
    let first = response(1, &inv);
    let opened = case(1, &first);
    s.submit_response(&first, Some(&opened)).await.unwrap();
    assert_eq!(s.response(first.id).await.unwrap(), first);
    assert_eq!(s.case(opened.id).await.unwrap(), opened);

    // The invitation is answered.
    let late = response(2, &inv);
    assert_eq!(
        conflict(s.submit_response(&late, Some(&case(2, &late))).await),
        ALREADY_ANSWERED
    );
    assert!(is_not_found(s.response(late.id).await));
    assert!(is_not_found(s.case(case_id(2)).await));

    // The response id is taken: the fresh invitation stays unanswered, the case unstored.
    let fresh = invitation(3);
    s.insert_invitation(&fresh, None, &[]).await.unwrap();
    let taken_response = Response {
        id: first.id,
        ..response(3, &fresh)
    };
    let what = conflict(
        s.submit_response(&taken_response, Some(&case(3, &taken_response)))
            .await,
    );
    assert_ne!(what, ALREADY_ANSWERED);
    assert!(is_not_found(s.case(case_id(3)).await));
    assert_eq!(s.response(first.id).await.unwrap(), first);

    // The case id is taken: the response is not stored either.
    let own = response(4, &fresh);
    let taken_case = Case {
        id: opened.id,
        ..case(4, &own)
    };
    let what = conflict(s.submit_response(&own, Some(&taken_case)).await);
    assert_ne!(what, ALREADY_ANSWERED);
    assert!(is_not_found(s.response(own.id).await));
    assert_eq!(s.case(opened.id).await.unwrap(), opened);
    assert_eq!(s.invitation(&fresh.token).await.unwrap(), fresh);

    // Then it can still be answered, without a case.
    s.submit_response(&own, None).await.unwrap();
    assert_eq!(
        response_ids(&s.responses(&all_responses()).await.unwrap()),
        [first.id, own.id]
    );
    assert_eq!(s.cases(&all_cases()).await.unwrap(), [opened]);
    assert!(is_not_found(s.case(case_id(9)).await));
}

/// An organization's responses in `from..to` of their submission, of one survey and some
/// branches when given, by submission then id.
pub async fn responses_are_filtered_and_ordered_by_submission(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let at = |k: i64| t0() + secs(3600 * k);
    let (late, _) = answered(&*s, 1, BRANCH, at(3), false).await;
    let (twin_b, _) = answered(&*s, 3, OTHER_BRANCH, at(1), false).await;
    let (twin_a, _) = answered(&*s, 2, BRANCH, at(1), false).await;
    let (early, _) = answered(&*s, 4, THIRD_BRANCH, at(0), false).await;
    let (at_end, _) = answered(&*s, 5, BRANCH, at(4), false).await;
    // Another survey's, and another organization's.
    let inv = Invitation {
        survey: OTHER_SURVEY,
        created_at: at(2),
        ..invitation(6)
    };
    s.insert_invitation(&inv, None, &[]).await.unwrap();
    let other_survey = Response {
        submitted_at: at(2),
        version: 7,
        ..response(6, &inv)
    };
    s.submit_response(&other_survey, None).await.unwrap();
    let inv = Invitation {
        organization: OTHER_ORG,
        ..invitation(7)
    };
    s.insert_invitation(&inv, None, &[]).await.unwrap();
    let theirs = Response {
        submitted_at: at(2),
        ..response(7, &inv)
    };
    s.submit_response(&theirs, None).await.unwrap();

    let window = |from, to| ResponseFilter {
        from,
        to,
        ..all_responses()
    };
    assert_eq!(
        s.responses(&window(at(0), at(4))).await.unwrap(),
        [
            early.clone(),
            twin_a.clone(),
            twin_b.clone(),
            other_survey.clone(),
            late.clone()
        ],
        "whole responses, by submission then id"
    );
    assert_eq!(
        response_ids(
            &s.responses(&window(
                at(0) + Duration::microseconds(1),
                at(4) + Duration::microseconds(1)
            ))
            .await
            .unwrap()
        ),
        [twin_a.id, twin_b.id, other_survey.id, late.id, at_end.id],
        "from is inclusive, to exclusive"
    );
    assert!(s.responses(&window(at(1), at(1))).await.unwrap().is_empty());
    let of_survey = ResponseFilter {
        survey: Some(SURVEY),
        ..all_responses()
    };
    assert_eq!(
        response_ids(&s.responses(&of_survey).await.unwrap()),
        [early.id, twin_a.id, twin_b.id, late.id, at_end.id]
    );
    let of_other = ResponseFilter {
        survey: Some(OTHER_SURVEY),
        ..all_responses()
    };
    assert_eq!(s.responses(&of_other).await.unwrap(), [other_survey]);
    let of_branches = ResponseFilter {
        branches: Some(vec![THIRD_BRANCH, OTHER_BRANCH]),
        ..all_responses()
    };
    assert_eq!(
        response_ids(&s.responses(&of_branches).await.unwrap()),
        [early.id, twin_b.id]
    );
    let narrow = ResponseFilter {
        survey: Some(SURVEY),
        branches: Some(vec![BRANCH]),
        from: at(1),
        to: at(4),
        ..all_responses()
    };
    assert_eq!(
        response_ids(&s.responses(&narrow).await.unwrap()),
        [twin_a.id, late.id]
    );
    let no_branch = ResponseFilter {
        branches: Some(vec![]),
        ..all_responses()
    };
    assert!(
        s.responses(&no_branch).await.unwrap().is_empty(),
        "no branch, no response"
    );
    let other_org = ResponseFilter {
        organization: OTHER_ORG,
        ..all_responses()
    };
    assert_eq!(s.responses(&other_org).await.unwrap(), [theirs]);
}

/// How many invitations an organization (of one survey, of some branches, when given) made in
/// `from..to`, answered or not.
pub async fn invitations_made_counts_a_half_open_window(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let at = |k: i64| t0() + secs(3600 * k);
    let made_at = [
        (1, ORG, SURVEY, at(0)),
        (2, ORG, SURVEY, at(1)),
        (3, ORG, OTHER_SURVEY, at(1)),
        (4, ORG, SURVEY, at(2)),
        (5, OTHER_ORG, SURVEY, at(1)),
    ];
    for (n, organization, survey, created_at) in made_at {
        let i = Invitation {
            organization,
            survey,
            created_at,
            branch: if n == 4 { OTHER_BRANCH } else { BRANCH },
            ..invitation(n)
        };
        s.insert_invitation(&i, None, &[]).await.unwrap();
    }
    let answered_one = s.invitation(&token(2)).await.unwrap();
    s.submit_response(&response(2, &answered_one), None)
        .await
        .unwrap();
    let count = |organization, survey, from, to| {
        let s = Arc::clone(&s);
        async move {
            s.invitations_made(&made(organization, survey, from, to))
                .await
                .unwrap()
        }
    };
    assert_eq!(count(ORG, None, at(0), at(3)).await, 4);
    assert_eq!(count(ORG, Some(SURVEY), at(0), at(3)).await, 3);
    assert_eq!(count(ORG, Some(OTHER_SURVEY), at(0), at(3)).await, 1);
    assert_eq!(
        count(ORG, None, at(0) + Duration::microseconds(1), at(2)).await,
        2,
        "from is inclusive, to exclusive"
    );
    assert_eq!(
        count(ORG, None, at(1), at(2) + Duration::microseconds(1)).await,
        3
    );
    assert_eq!(count(ORG, None, at(1), at(1)).await, 0);
    assert_eq!(count(OTHER_ORG, None, at(0), at(3)).await, 1);
    assert_eq!(count(OTHER_ORG, Some(OTHER_SURVEY), at(0), at(3)).await, 0);
    let of_branches = |branches: Vec<BranchId>| ResponseFilter {
        branches: Some(branches),
        ..made(ORG, None, at(0), at(3))
    };
    for (branches, expected) in [
        (vec![OTHER_BRANCH], 1),
        (vec![BRANCH], 3),
        (vec![BRANCH, OTHER_BRANCH, THIRD_BRANCH], 4),
        (vec![THIRD_BRANCH], 0),
        (vec![], 0),
    ] {
        let counted = s
            .invitations_made(&of_branches(branches.clone()))
            .await
            .unwrap();
        assert_eq!(counted, expected, "{branches:?}");
    }
}

/// A case update whose revision is not the stored one plus one is `STALE` and changes
/// nothing; an unknown case is not found; an update never changes the case's id,
/// organization, branch, response or survey.
pub async fn a_case_update_needs_the_next_revision_and_keeps_its_identity(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let (_, opened) = answered(&*s, 1, BRANCH, t0(), true).await;
    let opened = opened.expect("a case");
    let next = Case {
        status: CaseStatus::InProgress,
        owner: Some(UserId::from_u128(0x05D71)),
        ..changed(&opened)
    };
    for revision in [0, 1, 3, u64::MAX] {
        let stale = Case {
            revision,
            ..next.clone()
        };
        assert_eq!(
            conflict(s.update_case(&stale, &[]).await),
            STALE,
            "revision {revision}"
        );
    }
    assert_eq!(s.case(opened.id).await.unwrap(), opened);

    let attempt = Case {
        organization: OTHER_ORG,
        branch: OTHER_BRANCH,
        response: response_id(9),
        survey: OTHER_SURVEY,
        ..next.clone()
    };
    s.update_case(&attempt, &[]).await.unwrap();
    assert_eq!(s.case(opened.id).await.unwrap(), next, "the identity stays");
    assert_eq!(
        conflict(s.update_case(&next, &[]).await),
        STALE,
        "the revision moved"
    );

    let done = Case {
        escalations: 2,
        reason: CaseReason::LowCsat(1),
        ..resolved(&next)
    };
    s.update_case(&done, &[]).await.unwrap();
    assert_eq!(s.case(opened.id).await.unwrap(), done);
    let other = CaseFilter {
        organization: OTHER_ORG,
        ..all_cases()
    };
    assert!(s.cases(&other).await.unwrap().is_empty());

    let ghost = changed(&case(9, &response(9, &invitation(9))));
    assert!(is_not_found(s.update_case(&ghost, &[]).await));
    assert!(is_not_found(s.case(ghost.id).await));
}

/// A case update's messages are in the outbox, pending and due at the update, when it is
/// written, and absent when it was refused.
pub async fn case_messages_are_enqueued_only_with_their_write(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let (_, opened) = answered(&*s, 1, BRANCH, t0(), true).await;
    let opened = opened.expect("a case");
    let done = resolved(&opened);
    let at = done.updated_at;

    let stale = Case {
        revision: 5,
        ..done.clone()
    };
    let m1 = message(1, at);
    assert_eq!(
        conflict(s.update_case(&stale, std::slice::from_ref(&m1)).await),
        STALE
    );
    assert!(!enqueued(&*s, m1.id).await, "message of a refused write");
    let ghost = changed(&case(9, &response(9, &invitation(9))));
    let m2 = message(2, at);
    assert!(is_not_found(
        s.update_case(&ghost, std::slice::from_ref(&m2)).await
    ));
    assert!(!enqueued(&*s, m2.id).await);

    let (m3, m4) = (message(3, at), message(4, at));
    s.update_case(&done, &[m3.clone(), m4.clone()])
        .await
        .unwrap();
    for m in [&m3, &m4] {
        let entry = s.message(m.id).await.unwrap();
        assert_eq!(&entry.message, m);
        assert_eq!(
            (entry.state, entry.attempts, entry.next_attempt_at),
            (OutboxState::Pending, 0, at),
            "pending, due at once"
        );
    }
    let mut due: Vec<MessageId> = s
        .claim(at, at + secs(60), 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.message.id)
        .collect();
    due.sort();
    assert_eq!(due, [m3.id, m4.id]);
}

/// Writers on separate handles updating one case at the same revision: exactly one wins, the
/// others are `STALE`, and only the winner's messages are enqueued.
pub async fn concurrent_case_updates_of_one_revision_have_one_winner(h: &dyn SurveyHarness) {
    const WRITERS: u128 = 8;
    let handles = h.open_surveys(4).await;
    let (_, opened) = answered(&*handles[0], 1, BRANCH, t0(), true).await;
    let opened = opened.expect("a case");
    let mut tasks = Vec::new();
    for w in 1..=WRITERS {
        let s = Arc::clone(&handles[w as usize % handles.len()]);
        let next = Case {
            resolution: Some(format!("Writer {w}")),
            ..resolved(&opened)
        };
        tasks.push(tokio::spawn(async move {
            let r = s.update_case(&next, &[message(w, next.updated_at)]).await;
            (w, next, r)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (_, next, Ok(())) => winners.push(next),
            (_, _, Err(StoreError::Conflict { what })) if what == STALE => {}
            (w, _, other) => panic!("writer {w}: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "one winner");
    let s = &handles[2];
    assert_eq!(s.case(opened.id).await.unwrap(), winners[0]);
    let mut messages = 0;
    for w in 1..=WRITERS {
        if enqueued(&**s, message(w, t0()).id).await {
            messages += 1;
        }
    }
    assert_eq!(messages, 1, "only the winner's message");
}

/// An organization's cases by creation then id, narrowed by branches, status and overdue
/// (unresolved, deadline at or before the instant).
pub async fn cases_are_filtered_by_branch_status_and_deadline(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let at = |k: i64| t0() + secs(3600 * k);
    let open = |n: u128, branch: BranchId, created: DateTime<Utc>, deadline| {
        let s = Arc::clone(&s);
        async move {
            let (_, c) = answered(&*s, n, branch, created, true).await;
            let c = c.expect("a case");
            let c = Case { deadline, ..c };
            // The deadline set by an update, as a manager would.
            let next = changed(&c);
            s.update_case(&next, &[]).await.unwrap();
            next
        }
    };
    let a = open(1, BRANCH, at(0), at(10)).await;
    let b = open(3, OTHER_BRANCH, at(1), at(5)).await;
    let c = open(2, BRANCH, at(1), at(6)).await;
    let d = open(4, THIRD_BRANCH, at(2), at(6) + Duration::microseconds(1)).await;
    let e = open(5, BRANCH, at(3), at(1)).await;
    // In progress, and resolved long past its deadline.
    let c = Case {
        status: CaseStatus::InProgress,
        ..changed(&c)
    };
    s.update_case(&c, &[]).await.unwrap();
    let e = resolved(&e);
    s.update_case(&e, &[]).await.unwrap();
    // Another organization's.
    let inv = Invitation {
        organization: OTHER_ORG,
        ..invitation(6)
    };
    s.insert_invitation(&inv, None, &[]).await.unwrap();
    let r = response(6, &inv);
    let theirs = case(6, &r);
    s.submit_response(&r, Some(&theirs)).await.unwrap();

    let read = |filter: CaseFilter| {
        let s = Arc::clone(&s);
        async move { case_ids(&s.cases(&filter).await.unwrap()) }
    };
    assert_eq!(
        s.cases(&all_cases()).await.unwrap(),
        [a.clone(), c.clone(), b.clone(), d.clone(), e.clone()],
        "whole cases, by creation then id"
    );
    assert_eq!(
        read(CaseFilter {
            branches: Some(vec![BRANCH, THIRD_BRANCH]),
            ..all_cases()
        })
        .await,
        [a.id, c.id, d.id, e.id]
    );
    assert!(
        read(CaseFilter {
            branches: Some(vec![]),
            ..all_cases()
        })
        .await
        .is_empty(),
        "no branch, no case"
    );
    for (status, expected) in [
        (CaseStatus::Open, vec![a.id, b.id, d.id]),
        (CaseStatus::InProgress, vec![c.id]),
        (CaseStatus::Resolved, vec![e.id]),
    ] {
        assert_eq!(
            read(CaseFilter {
                status: Some(status),
                ..all_cases()
            })
            .await,
            expected,
            "{status}"
        );
    }
    let overdue = |t| CaseFilter {
        overdue_at: Some(t),
        ..all_cases()
    };
    assert_eq!(
        read(overdue(at(6))).await,
        [c.id, b.id],
        "the deadline is inclusive; resolved cases are never overdue"
    );
    assert_eq!(
        read(overdue(at(6) + Duration::microseconds(1))).await,
        [c.id, b.id, d.id]
    );
    assert!(read(overdue(at(4))).await.is_empty());
    assert_eq!(
        read(CaseFilter {
            branches: Some(vec![BRANCH]),
            status: Some(CaseStatus::Open),
            overdue_at: Some(at(20)),
            ..all_cases()
        })
        .await,
        [a.id]
    );
    assert_eq!(
        s.cases(&CaseFilter {
            organization: OTHER_ORG,
            ..all_cases()
        })
        .await
        .unwrap(),
        [theirs]
    );
}

/// Erasing a contact clears the reply-to of the organization's responses and cases whose
/// phone number or e-mail address it is, moves the cases' revision on (an update prepared
/// before is `STALE`), and says how many records changed; the empty string erases none.
pub async fn erasing_a_reply_to_clears_responses_and_cases(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let reply = |phone: Option<&str>, email: Option<&str>| {
        Some(ReplyTo {
            phone: phone.map(str::to_owned),
            email: email.map(str::to_owned),
            language: Language::new("de-AT"),
        })
    };
    // With a case by phone, without one by e-mail, with a case by e-mail; others that stay.
    let mut stored = Vec::new();
    for (n, organization, reply_to, with_case) in [
        (1, ORG, reply(Some(PHONE), Some("old@example.org")), true),
        (2, ORG, reply(Some("+4930222"), Some(EMAIL)), false),
        (3, ORG, reply(None, Some(EMAIL)), true),
        (4, OTHER_ORG, reply(Some(PHONE), Some(EMAIL)), true),
        (5, ORG, reply(Some("+4930333"), Some("")), true),
        (6, ORG, None, true),
    ] {
        let inv = Invitation {
            organization,
            ..invitation(n)
        };
        s.insert_invitation(&inv, None, &[]).await.unwrap();
        let r = Response {
            reply_to: reply_to.clone(),
            ..response(n, &inv)
        };
        let c = with_case.then(|| case(n, &r));
        s.submit_response(&r, c.as_ref()).await.unwrap();
        stored.push((r, c));
    }
    let unchanged = |i: usize| stored[i].clone();

    assert_eq!(s.erase_reply_to(ORG, "").await.unwrap(), 0, "nobody's");
    assert_eq!(
        s.erase_reply_to(ORG, "+4930").await.unwrap(),
        0,
        "whole numbers"
    );
    assert_eq!(
        s.erase_reply_to(ORG, "de-at").await.unwrap(),
        0,
        "not by language"
    );
    for (r, c) in &stored {
        assert_eq!(&s.response(r.id).await.unwrap(), r, "nothing erased yet");
        if let Some(c) = c {
            assert_eq!(&s.case(c.id).await.unwrap(), c);
        }
    }

    let (by_phone, by_phone_case) = unchanged(0);
    let by_phone_case = by_phone_case.expect("a case");
    let prepared_before = changed(&by_phone_case);
    assert_eq!(
        s.erase_reply_to(ORG, PHONE).await.unwrap(),
        2,
        "a response and its case"
    );
    assert_eq!(
        s.response(by_phone.id).await.unwrap(),
        Response {
            reply_to: None,
            ..by_phone.clone()
        }
    );
    let erased_case = Case {
        reply_to: None,
        revision: by_phone_case.revision + 1,
        ..by_phone_case.clone()
    };
    assert_eq!(s.case(by_phone_case.id).await.unwrap(), erased_case);
    assert_eq!(
        conflict(s.update_case(&prepared_before, &[]).await),
        STALE,
        "an update prepared before the erasure cannot write the contact back"
    );
    assert_eq!(s.case(by_phone_case.id).await.unwrap(), erased_case);
    let after = resolved(&erased_case);
    s.update_case(&after, &[]).await.unwrap();
    assert_eq!(s.case(after.id).await.unwrap().reply_to, None);

    assert_eq!(
        s.erase_reply_to(ORG, EMAIL).await.unwrap(),
        3,
        "two responses and a case"
    );
    for i in [1, 2] {
        let (r, c) = unchanged(i);
        assert_eq!(s.response(r.id).await.unwrap().reply_to, None);
        if let Some(c) = c {
            let now = s.case(c.id).await.unwrap();
            assert_eq!((now.reply_to, now.revision), (None, c.revision + 1));
        }
    }
    assert_eq!(
        s.erase_reply_to(ORG, PHONE).await.unwrap(),
        0,
        "already erased"
    );
    for i in [3, 4, 5] {
        let (r, c) = unchanged(i);
        assert_eq!(
            s.response(r.id).await.unwrap(),
            r,
            "what did not match stays"
        );
        if let Some(c) = c {
            assert_eq!(s.case(c.id).await.unwrap(), c);
        }
    }
    assert_eq!(s.erase_reply_to(OTHER_ORG, EMAIL).await.unwrap(), 2);
    let (theirs, _) = unchanged(3);
    assert_eq!(s.response(theirs.id).await.unwrap().reply_to, None);
}

/// Every instant reads back as it was to the microsecond, finer digits cut, and what a read
/// returns is what the next write's check compares with.
pub async fn instants_are_kept_to_the_microsecond(h: &dyn SurveyHarness) {
    let s = one(h).await;
    let fine = |t: DateTime<Utc>| t + Duration::nanoseconds(789);
    let cut = |t: DateTime<Utc>| {
        DateTime::from_timestamp_micros(t.timestamp_micros()).expect("a valid instant")
    };

    let v1 = Survey {
        created_at: fine(t0()),
        ..survey(SURVEY, 1, "Fine")
    };
    s.put_survey(&v1).await.unwrap();
    assert_eq!(
        s.survey(SURVEY, None).await.unwrap(),
        Survey {
            created_at: t0(),
            ..v1
        }
    );

    let inv = Invitation {
        created_at: fine(t0() + Duration::microseconds(1)),
        expires_at: fine(t0() + secs(3600)),
        ..invitation(1)
    };
    s.insert_invitation(&inv, None, &[]).await.unwrap();
    let read = s.invitation(&inv.token).await.unwrap();
    assert_eq!(
        read,
        Invitation {
            created_at: cut(inv.created_at),
            expires_at: cut(inv.expires_at),
            ..inv.clone()
        }
    );
    // The stored creation is the cut one: a window from it includes it, one a microsecond
    // later does not.
    assert_eq!(
        s.invitations_made(&made(ORG, None, read.created_at, read.created_at + secs(1)))
            .await
            .unwrap(),
        1
    );
    let again = Invitation {
        recipient_key: inv.recipient_key.clone(),
        ..invitation(2)
    };
    assert_eq!(
        conflict(
            s.insert_invitation(&again, Some(read.created_at), &[])
                .await
        ),
        COOLDOWN
    );

    let r = Response {
        submitted_at: fine(t0() + secs(60)),
        ..response(1, &inv)
    };
    let c = Case {
        deadline: fine(t0() + secs(86_400)),
        created_at: r.submitted_at,
        updated_at: r.submitted_at,
        ..case(1, &r)
    };
    s.submit_response(&r, Some(&c)).await.unwrap();
    let submitted = cut(r.submitted_at);
    assert_eq!(
        s.response(r.id).await.unwrap(),
        Response {
            submitted_at: submitted,
            ..r.clone()
        }
    );
    assert_eq!(
        s.invitation(&inv.token).await.unwrap().answered_at,
        Some(submitted)
    );
    assert_eq!(
        s.case(c.id).await.unwrap(),
        Case {
            deadline: cut(c.deadline),
            created_at: submitted,
            updated_at: submitted,
            ..c.clone()
        }
    );
    let window = ResponseFilter {
        from: submitted,
        to: submitted + Duration::microseconds(1),
        ..all_responses()
    };
    assert_eq!(response_ids(&s.responses(&window).await.unwrap()), [r.id]);

    let done = Case {
        resolved_at: Some(fine(t0() + secs(7200))),
        updated_at: fine(t0() + secs(7200)),
        ..resolved(&c)
    };
    s.update_case(&done, &[]).await.unwrap();
    assert_eq!(
        s.case(c.id).await.unwrap(),
        Case {
            deadline: cut(done.deadline),
            created_at: submitted,
            updated_at: cut(done.updated_at),
            resolved_at: done.resolved_at.map(cut),
            ..done.clone()
        }
    );
    let overdue = CaseFilter {
        overdue_at: Some(cut(c.deadline)),
        ..all_cases()
    };
    assert!(s.cases(&overdue).await.unwrap().is_empty(), "resolved");
}
