//! [`case_messages`]: the follow-up a customer gets when the case their feedback opened is
//! resolved.

use cem_core::{Case, LocalizedText, OutboundMessage};

use crate::address::{Recipient, addressed};
use crate::messenger::name;
use crate::{MessageKind, RenderError};

/// The follow-up of a resolved case: `reply` (what the branch tells the customer) to the
/// contact the respondent left, in their language, one message per channel; none when they
/// left none (or it was erased). The ids derive from the case and its revision, so a retried
/// request enqueues nothing new.
///
/// # Errors
/// A catalogue fault.
pub fn case_messages(
    case: &Case,
    branch: &LocalizedText,
    reply: &str,
) -> Result<Vec<OutboundMessage>, RenderError> {
    let Some(to) = &case.reply_to else {
        return Ok(Vec::new());
    };
    let kind = MessageKind::CaseResolved {
        branch: name(branch, &to.language),
        reply: reply.trim().to_owned(),
    };
    let recipient = Recipient {
        organization: case.organization,
        phone: to.phone.as_deref(),
        email: to.email.as_deref(),
        language: &to.language,
    };
    let (id, revision) = (case.id.to_string(), case.revision.to_string());
    addressed(
        &kind,
        &recipient,
        &[&id, kind.kind(), &revision],
        case.updated_at,
    )
}

#[cfg(test)]
mod tests {
    use cem_core::chrono::{TimeZone, Utc};
    use cem_core::{
        BranchId, CaseId, CaseReason, CaseStatus, Channel, Language, OrganizationId, ReplyTo,
        ResponseId, SurveyId,
    };

    use super::*;

    fn case(reply_to: Option<ReplyTo>) -> Case {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap();
        Case {
            id: CaseId::from_u128(1),
            organization: OrganizationId::from_u128(2),
            branch: BranchId::from_u128(3),
            response: ResponseId::from_u128(4),
            survey: SurveyId::from_u128(5),
            reason: CaseReason::Detractor(3),
            status: CaseStatus::Resolved,
            owner: None,
            deadline: at,
            escalations: 0,
            root_cause: Some("one counter open at noon".into()),
            resolution: Some("a second counter opens at noon".into()),
            reply_to,
            created_at: at,
            updated_at: at,
            resolved_at: Some(at),
            revision: 3,
        }
    }

    #[test]
    fn the_customer_who_left_a_contact_hears_the_reply_in_their_language() {
        let branch = LocalizedText::single(Language::en(), "Central").with(Language::fa(), "مرکزی");
        let to = ReplyTo {
            phone: Some("+989121234567".into()),
            email: Some("sara@example.org".into()),
            language: Language::fa(),
        };
        let sent = case_messages(
            &case(Some(to.clone())),
            &branch,
            "  از ظهر دو باجه باز است. ",
        )
        .unwrap();
        assert_eq!(
            sent.iter().map(|m| m.channel).collect::<Vec<_>>(),
            [Channel::Sms, Channel::Email]
        );
        assert_eq!(sent[0].kind, "case_resolved");
        assert_eq!(
            sent[0].body,
            "مرکزی: از بازخورد شما سپاسگزاریم. از ظهر دو باجه باز است."
        );
        // Written again (a retried request), the same messages: the outbox keeps each once.
        let again = case_messages(&case(Some(to)), &branch, "از ظهر دو باجه باز است.").unwrap();
        assert_eq!(
            again.iter().map(|m| m.id).collect::<Vec<_>>(),
            sent.iter().map(|m| m.id).collect::<Vec<_>>()
        );
    }

    #[test]
    fn without_a_contact_nobody_is_told() {
        let branch = LocalizedText::single(Language::en(), "Central");
        assert!(
            case_messages(&case(None), &branch, "done")
                .unwrap()
                .is_empty()
        );
    }
}
