//! The survey service over real stores: many respondents racing to answer one invitation
//! through two connection pools on one SQLite file, and the closed loop (a case opened,
//! escalated when overdue, resolved with a follow-up to the customer) over the memory store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cem_core::chrono::TimeDelta;
use cem_core::{
    CaseId, CaseReason, CaseStatus, Channel, Clock, Entropy, InvitationSource, Language,
    ManualClock, MessageId, OutboundMessage, OutboxStore, ReplyTo, ResponseFilter, ResponseId,
    SurveyStore, UserId,
};
use cem_store_memory::MemoryStore;
use cem_store_sqlite::SqliteStore;
use cem_survey::testing::{BRANCH, ORGANIZATION, chose, score, survey, text, utc};
use cem_survey::text::LexiconAnalyzer;
use cem_survey::{CaseRules, GroupBy, ServiceError, Submission, SurveyError, SurveyService};

/// Distinct bytes on every draw.
#[derive(Debug, Default)]
struct Counter(AtomicU64);

impl Entropy for Counter {
    fn fill(&self, bytes: &mut [u8]) {
        let n = (self.0.fetch_add(1, Ordering::SeqCst) + 1).to_le_bytes();
        for (b, n) in bytes.iter_mut().zip(n.iter().cycle()) {
            *b = *n;
        }
    }
}

fn service(store: Arc<dyn SurveyStore>, clock: Arc<dyn Clock>) -> SurveyService {
    SurveyService::new(
        store,
        Arc::new(LexiconAnalyzer::default()),
        clock,
        Arc::new(Counter::default()),
        CaseRules::default(),
    )
}

fn detractor(reply_to: Option<ReplyTo>) -> Submission {
    Submission {
        version: 1,
        language: Language::en(),
        answers: vec![
            score("nps", 3),
            chose("reason", &["waiting_time"]),
            score("csat", 2),
            text("comment", "I waited far too long and nobody explained why."),
        ],
        reply_to,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_many_respondents_answering_one_invitation_exactly_one_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("cem.db").display());
    let first = Arc::new(SqliteStore::open(&url).await.unwrap());
    let second = Arc::new(SqliteStore::open(&url).await.unwrap());
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(utc("2026-11-28T09:00:00Z")));
    let services = [first.clone(), second.clone()].map(|s| service(s, clock.clone()));
    services[0].create(survey()).await.unwrap();
    let (invitation, _) = services[0]
        .open(survey().id, BRANCH, InvitationSource::Link, Language::en())
        .await
        .unwrap();

    let mut racers = Vec::new();
    for n in 0..16_u128 {
        let service = services[n as usize % 2].clone();
        let token = invitation.token.clone();
        racers.push(tokio::spawn(async move {
            service
                .submit(
                    &token,
                    detractor(None),
                    ResponseId::from_u128(n + 1),
                    CaseId::from_u128(n + 1),
                )
                .await
        }));
    }
    let (mut taken, mut refused) = (0, 0);
    for racer in racers {
        match racer.await.unwrap() {
            Ok((_, case)) => {
                assert!(case.is_some(), "a detractor opens a case");
                taken += 1;
            }
            Err(ServiceError::Refused(SurveyError::AlreadyAnswered { .. })) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    println!("16 respondents, one invitation: {taken} taken, {refused} told it was answered");
    assert_eq!((taken, refused), (1, 15));
    let stored = first
        .responses(&ResponseFilter {
            organization: ORGANIZATION,
            survey: None,
            branches: None,
            from: clock.now() - TimeDelta::days(1),
            to: clock.now() + TimeDelta::days(1),
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let cases = first
        .cases(&cem_core::CaseFilter {
            organization: ORGANIZATION,
            branches: None,
            status: None,
            overdue_at: None,
        })
        .await
        .unwrap();
    assert_eq!(cases.len(), 1, "one response, one case");
}

#[tokio::test]
async fn a_poor_response_opens_a_case_that_escalates_until_resolved_and_the_customer_hears_back() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(utc("2026-11-28T09:00:00Z")));
    let surveys = service(store.clone(), clock.clone());
    surveys.create(survey()).await.unwrap();
    let open = || surveys.open(survey().id, BRANCH, InvitationSource::Link, Language::en());

    // A promoter opens no case; a detractor who leaves a phone number does.
    let (happy, shown) = open().await.unwrap();
    assert_eq!(shown.version, 1);
    let promoter = Submission {
        version: 1,
        language: Language::en(),
        answers: vec![
            score("nps", 10),
            text("comment", "Quick and friendly, thank you!"),
        ],
        reply_to: None,
    };
    let (response, case) = surveys
        .submit(
            &happy.token,
            promoter,
            ResponseId::from_u128(1),
            CaseId::from_u128(1),
        )
        .await
        .unwrap();
    assert!(case.is_none());
    let analysis = response.analysis.expect("the comment is analyzed");
    assert!(analysis.score > 0.0, "{analysis:?}");

    let (unhappy, _) = open().await.unwrap();
    let phone = ReplyTo {
        phone: Some("+4930555".into()),
        email: None,
        language: Language::en(),
    };
    let (response, case) = surveys
        .submit(
            &unhappy.token,
            detractor(Some(phone)),
            ResponseId::from_u128(2),
            CaseId::from_u128(2),
        )
        .await
        .unwrap();
    let case = case.expect("a detractor opens a case");
    assert_eq!(case.reason, CaseReason::Detractor(3));
    assert_eq!(case.status, CaseStatus::Open);
    assert!(
        response.analysis.as_ref().is_some_and(
            |a| a.sentiment.is_negative() && a.tags.contains(&"waiting_time".to_owned())
        ),
        "{:?}",
        response.analysis
    );
    // Answering twice is refused, and a bad answer on a fresh invitation stores nothing.
    assert!(matches!(
        surveys
            .submit(
                &unhappy.token,
                detractor(None),
                ResponseId::from_u128(3),
                CaseId::from_u128(3)
            )
            .await,
        Err(ServiceError::Refused(SurveyError::AlreadyAnswered { .. }))
    ));
    let (fresh, _) = open().await.unwrap();
    let bad = Submission {
        answers: vec![score("nps", 11)],
        ..detractor(None)
    };
    assert!(matches!(
        surveys
            .submit(
                &fresh.token,
                bad,
                ResponseId::from_u128(4),
                CaseId::from_u128(4)
            )
            .await,
        Err(ServiceError::Refused(SurveyError::AnswerOutOfRange { .. }))
    ));
    assert!(store.response(ResponseId::from_u128(4)).await.is_err());

    // Not resolved by its deadline (48 hours): it escalates once per day overdue.
    clock.set(case.deadline - TimeDelta::minutes(1));
    assert!(
        surveys
            .escalate_overdue(ORGANIZATION)
            .await
            .unwrap()
            .is_empty()
    );
    clock.set(case.deadline + TimeDelta::minutes(1));
    let escalated = surveys.escalate_overdue(ORGANIZATION).await.unwrap();
    assert_eq!(escalated.len(), 1);
    assert_eq!(escalated[0].escalations, 1);
    assert!(
        surveys
            .escalate_overdue(ORGANIZATION)
            .await
            .unwrap()
            .is_empty()
    );
    clock.advance(TimeDelta::hours(25));
    assert_eq!(
        surveys.escalate_overdue(ORGANIZATION).await.unwrap()[0].escalations,
        2
    );

    // A manager takes it and resolves it; the customer hears back, once.
    let manager = UserId::from_u128(9);
    assert_eq!(
        surveys.take(case.id, manager).await.unwrap().owner,
        Some(manager)
    );
    let follow_up = |c: &cem_core::Case| {
        let to = c.reply_to.clone().unwrap();
        vec![OutboundMessage {
            id: MessageId::new(c.id.0),
            organization: c.organization,
            channel: Channel::Sms,
            to: to.phone.unwrap(),
            kind: "case_resolved".into(),
            language: to.language,
            subject: None,
            body: "A second counter now opens at noon.".into(),
            created_at: c.updated_at,
        }]
    };
    let resolved = surveys
        .resolve(
            case.id,
            "One counter open at noon".into(),
            "A second counter opens at noon".into(),
            &follow_up,
        )
        .await
        .unwrap();
    assert_eq!(resolved.status, CaseStatus::Resolved);
    assert!(matches!(
        surveys
            .resolve(case.id, "again".into(), "again".into(), &follow_up)
            .await,
        Err(ServiceError::Refused(SurveyError::CaseResolved { .. }))
    ));
    let told = store.sent_to(ORGANIZATION, "+4930555", 10).await.unwrap();
    assert_eq!(told.len(), 1);
    clock.advance(TimeDelta::days(5));
    assert!(
        surveys
            .escalate_overdue(ORGANIZATION)
            .await
            .unwrap()
            .is_empty(),
        "a resolved case never escalates"
    );

    // The results: two responses of three invitations (one left unanswered).
    let results = surveys
        .results(
            &ResponseFilter {
                organization: ORGANIZATION,
                survey: Some(survey().id),
                branches: None,
                from: utc("2026-11-01T00:00:00Z"),
                to: clock.now(),
            },
            GroupBy::Branch,
            5,
        )
        .await
        .unwrap();
    assert_eq!(results.overall.responses, 2);
    assert_eq!(
        results.overall.nps,
        Some(0.0),
        "one promoter, one detractor"
    );
    assert_eq!(results.invitations, 3);
    let rate = results.response_rate.unwrap();
    assert!((rate - 200.0 / 3.0).abs() < 1e-9, "{rate}");
    assert_eq!(results.groups.len(), 1);
}

/// Regression: the answers were judged against the version shown, and so was whether the
/// survey still takes responses; a survey made inactive since took one.
#[tokio::test]
async fn a_survey_made_inactive_takes_no_response_to_an_earlier_version() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(utc("2026-11-28T09:00:00Z")));
    let surveys = service(store.clone(), clock.clone());
    surveys.create(survey()).await.unwrap();
    let (invitation, shown) = surveys
        .open(survey().id, BRANCH, InvitationSource::Link, Language::en())
        .await
        .unwrap();
    let off = cem_core::Survey {
        active: false,
        ..shown.clone()
    };
    assert_eq!(surveys.change(shown.id, 1, off).await.unwrap().version, 2);
    assert!(matches!(
        surveys
            .submit(
                &invitation.token,
                detractor(None),
                ResponseId::from_u128(1),
                CaseId::from_u128(1)
            )
            .await,
        Err(ServiceError::Refused(SurveyError::SurveyInactive { .. }))
    ));
}
