//! A customer's path through the pure rules, as the service layer will drive it: invited after
//! their service, answering, a case opened for the manager, taken and resolved.

use cem_survey::cem_core::chrono::Duration;
use cem_survey::cem_core::{
    BranchId, CaseId, CaseReason, CaseStatus, ClassId, ServiceId, TicketId, UserId,
};
use cem_survey::testing::{chose, invitation, response, score, survey, text, utc};
use cem_survey::{
    CaseRules, Scores, accepts, case_for, check_answers, cooldown_since, escalate, expires_at,
    free_text, invitation_id, invites_after_service, resolve, take, validate,
};

#[test]
fn from_invitation_to_resolved_case() {
    let survey = survey();
    validate(&survey).unwrap();
    let served = utc("2026-11-30T09:40:00Z");
    let ticket = TicketId::from_u128(42);

    // Invited: everyone is sampled at rate 1, with a 30-day cooldown and 72 hours to answer.
    assert!(invites_after_service(
        &survey,
        ticket,
        BranchId::from_u128(1),
        ServiceId::from_u128(1),
        ClassId::from_u128(1),
    ));
    let rule = survey.triggers.after_service.as_ref().unwrap();
    assert_eq!(
        cooldown_since(rule, served),
        Some(served - Duration::days(30))
    );
    let mut inv = invitation(1, served);
    inv.id = invitation_id(ticket, survey.id);
    inv.expires_at = expires_at(rule, served);
    assert_eq!(
        inv.id,
        invitation_id(ticket, survey.id),
        "derived again the same"
    );

    // Answered the same evening.
    let answered = utc("2026-11-30T18:00:00Z");
    accepts(&inv, &survey, answered).unwrap();
    let answers = check_answers(
        &survey,
        vec![
            score("nps", 2),
            text("reason", "waiting_time"),
            score("csat", 1),
            text("comment", "  An hour for a signature.  "),
        ],
    )
    .unwrap();
    assert_eq!(answers[1], chose("reason", &["waiting_time"]));
    assert_eq!(free_text(&survey, &answers), "An hour for a signature.");
    let mut r = response(1, answers);
    r.invitation = inv.id;
    r.submitted_at = answered;

    // A detractor: a case for the branch, due in 48 hours.
    let rules = CaseRules::default();
    let case = case_for(&r, &survey, &rules, CaseId::from_u128(1), answered).unwrap();
    assert_eq!(case.reason, CaseReason::Detractor(2));
    assert_eq!(case.deadline, answered + Duration::hours(48));

    // Nobody took it in time: it escalates once, then is taken and resolved.
    let late = case.deadline + Duration::minutes(5);
    let escalated = escalate(&case, &rules, late).unwrap();
    assert_eq!(escalated.escalations, 1);
    let taken = take(&escalated, UserId::from_u128(9), late).unwrap();
    let done = resolve(
        &taken,
        "one counter open at lunch".into(),
        "lunch breaks staggered; customer called back".into(),
        late + Duration::hours(2),
    )
    .unwrap();
    assert_eq!(done.status, CaseStatus::Resolved);
    assert_eq!(done.revision, 4);

    // The response counts in the branch's scores.
    let scores = Scores::of(&[r], &[survey]);
    assert_eq!((scores.nps(), scores.csat()), (Some(-100.0), Some(0.0)));
}
