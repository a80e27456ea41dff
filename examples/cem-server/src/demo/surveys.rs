//! The demo's survey: one questionnaire after a visit, in English and Persian, offered after
//! service, by the branches' links and on kiosks, and the answers of a share of the demo's
//! past visits, so survey results, their groups and the closed loop have something to show.
//!
//! The answers follow the visits: a customer who waited long tends to score low and say so,
//! so the results agree with the waits the queue's history shows.

use std::collections::HashMap;

use anyhow::Context as _;
use cem_core::chrono::{DateTime, TimeDelta, Utc};
use cem_core::{
    AfterService, Answer, AnswerValue, CaseId, CesDirection, Choice, Condition, ConditionTest,
    InvitationId, InvitationSource, Language, LocalizedText, OrganizationId, Question,
    QuestionKind, QueueEventStore, ReplyTo, Response, ResponseId, Survey, SurveyId, SurveyStore,
    Triggers, VisitRef,
};
use cem_queue::QueueEvent;
use cem_queue::service::decode;
use cem_survey::text::{LexiconAnalyzer, TextAnalyzer as _};
use cem_survey::{CaseRules, case_for, free_text, resolve};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use super::{Kind, demo_id};

/// The share of finished visits invited to answer.
const INVITED: f64 = 0.35;
/// The share of invitations answered.
const ANSWERED: f64 = 0.35;

/// Comments by how the visit went, in English and Persian.
const GOOD: &[(&str, &str)] = &[
    (
        "Quick and friendly service, thank you.",
        "خدمات سریع و برخورد خیلی خوب، ممنون.",
    ),
    (
        "The staff were very helpful.",
        "کارمند باجه بسیار مودب و کمک‌کننده بود.",
    ),
    ("Everything went smoothly.", "همه چیز به خوبی انجام شد."),
];
const MIXED: &[(&str, &str)] = &[
    (
        "The service was fine but I waited a while.",
        "کارشان خوب بود ولی کمی منتظر ماندم.",
    ),
    (
        "Okay, the signs could be clearer.",
        "بد نبود، ولی راهنمایی تابلوها کافی نبود.",
    ),
];
const BAD: &[(&str, &str)] = &[
    (
        "I waited far too long and nobody explained why.",
        "خیلی طول کشید و کسی توضیح نداد.",
    ),
    (
        "Very slow, only one counter was open.",
        "صف خیلی کند بود، فقط یک باجه باز بود.",
    ),
    ("The wait was terrible.", "انتظار طولانی و آزاردهنده بود."),
];

/// The demo survey's id.
pub(super) fn survey_id() -> SurveyId {
    SurveyId::from_u128(demo_id(Kind::Survey, 0, 0))
}

/// The demo survey, version 1.
pub(super) fn survey(organization: OrganizationId, at: DateTime<Utc>) -> Survey {
    let text =
        |en: &str, fa: &str| LocalizedText::single(Language::en(), en).with(Language::fa(), fa);
    let question = |key: &str, prompt: LocalizedText, kind, required| Question {
        key: key.into(),
        prompt,
        kind,
        required,
        show_if: None,
    };
    let option = |key: &str, en: &str, fa: &str| Choice {
        key: key.into(),
        label: text(en, fa),
    };
    Survey {
        id: survey_id(),
        organization,
        version: 1,
        name: "After your visit".into(),
        title: text("How was your visit?", "مراجعهٔ شما چطور بود؟"),
        questions: vec![
            question(
                "nps",
                text(
                    "How likely are you to recommend us to a friend?",
                    "چقدر احتمال دارد ما را به دوستانتان پیشنهاد کنید؟",
                ),
                QuestionKind::Nps,
                true,
            ),
            Question {
                key: "reason".into(),
                prompt: text(
                    "What disappointed you most?",
                    "چه چیزی بیشتر ناراضی‌تان کرد؟",
                ),
                kind: QuestionKind::SingleChoice {
                    options: vec![
                        option("waiting_time", "The wait", "زمان انتظار"),
                        option("staff", "The staff", "برخورد کارکنان"),
                        option("information", "Information", "اطلاع‌رسانی"),
                        option("other", "Something else", "موارد دیگر"),
                    ],
                },
                required: false,
                show_if: Some(Condition {
                    question: "nps".into(),
                    test: ConditionTest::ScoreAtMost(6),
                }),
            },
            question(
                "csat",
                text(
                    "How satisfied are you with the service?",
                    "چقدر از خدمت دریافتی راضی هستید؟",
                ),
                QuestionKind::Csat,
                true,
            ),
            question(
                "ces",
                text(
                    "The branch made it easy to get what I came for.",
                    "شعبه کار من را آسان کرد.",
                ),
                QuestionKind::Ces {
                    direction: CesDirection::HighIsEasy,
                },
                false,
            ),
            question(
                "comment",
                text(
                    "Anything you would like to tell us?",
                    "نکته‌ای هست که بخواهید بگویید؟",
                ),
                QuestionKind::FreeText { max_chars: 1000 },
                false,
            ),
        ],
        triggers: Triggers {
            after_service: Some(AfterService {
                branches: Vec::new(),
                services: Vec::new(),
                classes: Vec::new(),
                sample_rate: 0.5,
                cooldown_days: 30,
                valid_hours: 48,
            }),
            link: true,
            kiosk: true,
        },
        active: true,
        created_at: at,
    }
}

/// A visit read back from the history: what a response is linked to.
#[derive(Default)]
struct Visit {
    visit: VisitRef,
    issued_at: Option<DateTime<Utc>>,
    called_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    branch: Option<cem_core::BranchId>,
}

/// Writes the demo survey and the answers of a share of the visits finished in `events`
/// before `now`; returns how many responses were written.
///
/// # Errors
/// A store failed.
pub(super) async fn load(
    store: &dyn SurveyStore,
    events: &dyn QueueEventStore,
    organization: OrganizationId,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut visits: HashMap<cem_core::TicketId, Visit> = HashMap::new();
    let mut after = 0;
    let mut first_at = now;
    loop {
        let page = events
            .read_all(after, 5_000)
            .await
            .context("reading the history")?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for recorded in &page {
            first_at = first_at.min(recorded.at);
            match decode(recorded) {
                Ok(QueueEvent::TicketIssued {
                    ticket,
                    service,
                    class,
                    at,
                    ..
                }) => {
                    let v = visits.entry(ticket).or_default();
                    v.visit.ticket = Some(ticket);
                    v.visit.service = Some(service);
                    v.visit.class = Some(class);
                    v.issued_at = Some(at);
                    v.branch = Some(recorded.branch);
                }
                Ok(QueueEvent::TicketCalled {
                    ticket,
                    counter,
                    agent,
                    at,
                    ..
                }) => {
                    let v = visits.entry(ticket).or_default();
                    v.visit.counter = Some(counter);
                    v.visit.agent = agent;
                    v.called_at = Some(at);
                }
                Ok(QueueEvent::ServiceFinished { ticket, at, .. }) => {
                    visits.entry(ticket).or_default().finished_at = Some(at);
                }
                _ => {}
            }
        }
    }
    let survey = survey(organization, first_at);
    store
        .put_survey(&survey)
        .await
        .context("writing the demo survey")?;

    let analyzer = LexiconAnalyzer::default();
    let rules = CaseRules::default();
    let mut finished: Vec<(&cem_core::TicketId, &Visit)> = visits
        .iter()
        .filter(|(_, v)| v.finished_at.is_some() && v.issued_at.is_some())
        .collect();
    finished.sort_by_key(|(t, _)| **t);
    let mut rng = StdRng::seed_from_u64(0x0005_EED5);
    let mut written = 0;
    for (n, (_, v)) in finished.into_iter().enumerate() {
        if !rng.random_bool(INVITED) {
            continue;
        }
        let (Some(issued), Some(called), Some(done), Some(branch)) =
            (v.issued_at, v.called_at, v.finished_at, v.branch)
        else {
            continue;
        };
        let fa = rng.random_bool(0.4);
        let language = if fa { Language::fa() } else { Language::en() };
        let id = demo_id(Kind::Survey, 0, n as u64 + 1);
        let invitation = cem_core::Invitation {
            id: InvitationId::from_u128(id),
            // Answered or expired, so a guessable token opens nothing.
            token: format!("{id:032x}"),
            organization,
            survey: survey.id,
            branch,
            source: InvitationSource::AfterService,
            visit: v.visit.clone(),
            recipient_key: None,
            language: language.clone(),
            created_at: done,
            expires_at: done + TimeDelta::hours(48),
            answered_at: None,
        };
        let submitted_at = done + TimeDelta::minutes(rng.random_range(5..=180));
        let answers = rng.random_bool(ANSWERED) && submitted_at < now;
        if !answers && invitation.expires_at > now {
            // Still open: a customer could answer it, with a token anyone could guess.
            continue;
        }
        store
            .insert_invitation(&invitation, None, &[])
            .await
            .context("writing a demo invitation")?;
        if !answers {
            continue;
        }
        let waited = (called - issued).num_minutes();
        let (nps, band) = match waited {
            ..=5 => (rng.random_range(8..=10), GOOD),
            6..=15 => (rng.random_range(6..=9), MIXED),
            _ => (rng.random_range(2..=7), BAD),
        };
        let band = if nps >= 9 { GOOD } else { band };
        let csat = match nps {
            9.. => rng.random_range(4..=5),
            7..=8 => rng.random_range(3..=5),
            _ => rng.random_range(1..=3),
        };
        let mut answers = vec![
            Answer {
                question: "nps".into(),
                value: AnswerValue::Score(nps),
            },
            Answer {
                question: "csat".into(),
                value: AnswerValue::Score(csat),
            },
            Answer {
                question: "ces".into(),
                value: AnswerValue::Score((csat + 2).min(7)),
            },
        ];
        if nps <= 6 {
            answers.insert(
                1,
                Answer {
                    question: "reason".into(),
                    value: AnswerValue::Choices(vec!["waiting_time".into()]),
                },
            );
        }
        if rng.random_bool(0.5) {
            let (en, fa_text) = band[rng.random_range(0..band.len())];
            answers.push(Answer {
                question: "comment".into(),
                value: AnswerValue::Text(if fa { fa_text } else { en }.into()),
            });
        }
        let text = free_text(&survey, &answers);
        let response = Response {
            id: ResponseId::from_u128(id),
            organization,
            survey: survey.id,
            version: survey.version,
            invitation: invitation.id,
            branch,
            source: InvitationSource::AfterService,
            visit: v.visit.clone(),
            language: language.clone(),
            answers,
            analysis: (!text.is_empty()).then(|| analyzer.analyze(&text, Some(&language))),
            reply_to: None::<ReplyTo>,
            submitted_at,
        };
        let case = case_for(
            &response,
            &survey,
            &rules,
            CaseId::from_u128(id),
            submitted_at,
        );
        store
            .submit_response(&response, case.as_ref())
            .await
            .context("writing a demo response")?;
        // Cases older than two days were looked into; the recent ones wait for a manager.
        if let Some(case) = case.filter(|c| now - c.created_at > TimeDelta::days(2)) {
            let resolved = resolve(
                &case,
                "Too few counters open at the busiest hour".into(),
                "A second counter now opens from 11:00 to 14:00".into(),
                case.created_at + TimeDelta::hours(20),
            )?;
            store
                .update_case(&resolved, &[])
                .await
                .context("resolving a demo case")?;
        }
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cem_core::{CaseFilter, CaseStatus, ResponseFilter};
    use cem_store_memory::MemoryStore;
    use cem_survey::{GroupBy, GroupKey, group};

    use super::*;

    /// Answers from a share of the invited in every branch, some with analyzed comments, and
    /// cases both open and resolved.
    #[tokio::test]
    async fn the_demo_survey_has_answers_in_every_branch_and_cases_open_and_resolved() {
        let now: DateTime<Utc> = "2026-11-25T11:00:00Z".parse().unwrap();
        let store = Arc::new(MemoryStore::new());
        let summary = crate::demo::load(
            &*store,
            &*store,
            &*store,
            &*store,
            &|p| format!("t${p}"),
            now,
        )
        .await
        .unwrap();
        assert!(summary.responses > 200, "{summary:?}");
        let organization = summary.organization;
        let responses = store
            .responses(&ResponseFilter {
                organization,
                survey: Some(survey_id()),
                branches: None,
                from: now - TimeDelta::days(30),
                to: now,
            })
            .await
            .unwrap();
        assert_eq!(responses.len(), summary.responses);
        let invited = store
            .invitations_made(&ResponseFilter {
                organization,
                survey: Some(survey_id()),
                branches: None,
                from: now - TimeDelta::days(30),
                to: now,
            })
            .await
            .unwrap();
        let rate = cem_survey::response_rate(responses.len() as u64, invited).unwrap();
        assert!((20.0..60.0).contains(&rate), "{rate}% of {invited}");
        let surveys = vec![store.survey(survey_id(), Some(1)).await.unwrap()];
        cem_survey::validate(&surveys[0]).unwrap();
        let by_branch = group(&responses, &surveys, GroupBy::Branch, 5);
        assert_eq!(by_branch.len(), summary.branches.len());
        for g in &by_branch {
            let figures = g
                .scores
                .as_ref()
                .expect("branches are never hidden")
                .summary();
            let nps = figures.nps.unwrap();
            assert!((-100.0..=100.0).contains(&nps), "{:?}: {nps}", g.key);
            assert!(matches!(g.key, GroupKey::Branch(_)));
        }
        assert!(
            responses.iter().any(|r| r.analysis.is_some()),
            "some answers have a comment, analyzed"
        );
        let cases = |status| {
            let store = store.clone();
            async move {
                store
                    .cases(&CaseFilter {
                        organization,
                        branches: None,
                        status: Some(status),
                        overdue_at: None,
                    })
                    .await
                    .unwrap()
                    .len()
            }
        };
        assert!(cases(CaseStatus::Open).await > 0);
        assert!(cases(CaseStatus::Resolved).await > 0);
    }
}
