//! Who is invited and when an invitation may be answered.
//!
//! After a service ends, a survey with an [`AfterService`] rule invites the customer when
//! their ticket is [`eligible`] (branch, service and class filters) and [`sampled`]; the
//! caller then stores the invitation with [`cooldown_since`] so the store refuses a customer
//! invited too recently, and with [`expires_at`] as its deadline. [`invitation_id`] derives
//! the invitation's id from the ticket and survey, so a second pass over the same ticket
//! finds the invitation stored rather than making another. [`accepts`] tells whether an
//! invitation may still be answered.
//!
//! # Sampling
//! Sampling is a deterministic function of a key (by default [`sample_key`]: the ticket id
//! then the survey id), so a retried pass decides the same way and the decision can be
//! reproduced in a report. The key is hashed with [`sample_point`]: 64-bit FNV-1a over its
//! bytes, then the SplitMix64 finalizer so that keys differing in one byte (sequential
//! ids) land far apart. The key is sampled when that point is below `rate × 2⁶⁴`. A rate of
//! 0 never samples, 1 always does, and raising the rate keeps every key sampled before.
//! **The function is part of the stored behaviour**: changing it re-samples every customer.

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::{
    AfterService, BranchId, ClassId, Invitation, InvitationId, InvitationSource, ServiceId, Survey,
    SurveyId, TicketId,
};
use uuid::Uuid;

use crate::error::SurveyError;

/// The name space of the version-5 UUIDs [`invitation_id`] derives.
pub const INVITATION_NAMESPACE: Uuid = Uuid::from_u128(0xa1f6_2388_1523_440e_9f5a_4fc7_69e6_ae03);

/// Whether a ticket of this branch, service and class falls under the rule's filters (an
/// empty filter lets every value through).
pub fn eligible(rule: &AfterService, branch: BranchId, service: ServiceId, class: ClassId) -> bool {
    (rule.branches.is_empty() || rule.branches.contains(&branch))
        && (rule.services.is_empty() || rule.services.contains(&service))
        && (rule.classes.is_empty() || rule.classes.contains(&class))
}

/// The sampling key of a ticket for a survey: the ticket id's 16 bytes then the survey id's.
pub fn sample_key(ticket: TicketId, survey: SurveyId) -> [u8; 32] {
    let mut key = [0; 32];
    key[..16].copy_from_slice(ticket.as_uuid().as_bytes());
    key[16..].copy_from_slice(survey.as_uuid().as_bytes());
    key
}

/// The point of a key in `0..2⁶⁴`: SplitMix64's finalizer over 64-bit FNV-1a (see
/// [sampling](self#sampling)).
pub fn sample_point(key: &[u8]) -> u64 {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = FNV_OFFSET;
    for &b in key {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Whether the key is in the sample at this rate (see [sampling](self#sampling)). A rate at
/// or below 0, or not a number, never samples; at or above 1 always does.
pub fn sampled(sample_rate: f64, key: &[u8]) -> bool {
    if sample_rate.is_nan() || sample_rate <= 0.0 {
        return false;
    }
    if sample_rate >= 1.0 {
        return true;
    }
    // 2^64 as a float; the cast saturates, so a rate a hair below 1 keeps all but the top key.
    let threshold = (sample_rate * 18_446_744_073_709_551_616.0) as u64;
    sample_point(key) < threshold
}

/// The earliest instant an earlier invitation of the customer keeps them in their cooldown:
/// `now` minus `cooldown_days` days; `None` when the rule has no cooldown.
pub fn cooldown_since(rule: &AfterService, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if rule.cooldown_days == 0 {
        return None;
    }
    Some(
        now.checked_sub_signed(Duration::days(i64::from(rule.cooldown_days)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    )
}

/// When an invitation made `now` under the rule expires: `valid_hours` later.
pub fn expires_at(rule: &AfterService, now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_signed(Duration::hours(i64::from(rule.valid_hours)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A new unguessable invitation token: 128 bits from `entropy` in 32 hexadecimal digits. Every
/// invitation, after a service or walk-up, is named this way.
pub fn invitation_token(entropy: &dyn cem_core::Entropy) -> String {
    let mut bytes = [0_u8; 16];
    entropy.fill(&mut bytes);
    Uuid::from_bytes(bytes).simple().to_string()
}

/// The id of the invitation a ticket gets to a survey: the version-5 UUID of the ticket and
/// survey ids in [`INVITATION_NAMESPACE`], the same on every pass.
pub fn invitation_id(ticket: TicketId, survey: SurveyId) -> InvitationId {
    InvitationId::new(Uuid::new_v5(
        &INVITATION_NAMESPACE,
        &sample_key(ticket, survey),
    ))
}

/// Whether the survey is offered this way now: it is active and its triggers include the
/// source (an after-service rule, the link, the kiosk).
pub fn offered(survey: &Survey, source: InvitationSource) -> bool {
    survey.active
        && match source {
            InvitationSource::AfterService => survey.triggers.after_service.is_some(),
            InvitationSource::Link => survey.triggers.link,
            InvitationSource::Kiosk => survey.triggers.kiosk,
        }
}

/// Whether the survey invites the customer of a ticket whose service ended: it is active,
/// has an after-service rule, the ticket is [`eligible`] and [`sampled`] with
/// [`sample_key`]. The cooldown is the store's to enforce (see [`cooldown_since`]).
pub fn invites_after_service(
    survey: &Survey,
    ticket: TicketId,
    branch: BranchId,
    service: ServiceId,
    class: ClassId,
) -> bool {
    let Some(rule) = survey
        .triggers
        .after_service
        .as_ref()
        .filter(|_| survey.active)
    else {
        return false;
    };
    eligible(rule, branch, service, class)
        && sampled(rule.sample_rate, &sample_key(ticket, survey.id))
}

/// Whether the invitation may be answered `now` against this survey (the version the
/// customer is shown).
///
/// # Errors
/// [`WrongSurvey`](SurveyError::WrongSurvey) when the invitation is for another survey or
/// organization; [`AlreadyAnswered`](SurveyError::AlreadyAnswered);
/// [`InvitationExpired`](SurveyError::InvitationExpired) after `expires_at` (it may be
/// answered up to that instant included); [`SurveyInactive`](SurveyError::SurveyInactive).
pub fn accepts(
    invitation: &Invitation,
    survey: &Survey,
    now: DateTime<Utc>,
) -> Result<(), SurveyError> {
    if invitation.survey != survey.id || invitation.organization != survey.organization {
        return Err(SurveyError::WrongSurvey {
            invitation: invitation.id,
            survey: survey.id,
        });
    }
    if let Some(answered_at) = invitation.answered_at {
        return Err(SurveyError::AlreadyAnswered { answered_at });
    }
    if now > invitation.expires_at {
        return Err(SurveyError::InvitationExpired {
            expired_at: invitation.expires_at,
        });
    }
    if !survey.active {
        return Err(SurveyError::SurveyInactive { survey: survey.id });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use cem_core::OrganizationId;
    use proptest::prelude::*;

    use super::*;
    use crate::testing::{invitation, survey, utc};

    fn rule() -> AfterService {
        survey().triggers.after_service.unwrap()
    }

    #[test]
    fn empty_filters_let_everyone_through() {
        let (b, s, c) = (
            BranchId::from_u128(1),
            ServiceId::from_u128(2),
            ClassId::from_u128(3),
        );
        assert!(eligible(&rule(), b, s, c));
        let mut r = rule();
        r.branches = vec![BranchId::from_u128(9)];
        assert!(!eligible(&r, b, s, c));
        r.branches.push(b);
        assert!(eligible(&r, b, s, c));
        r.services = vec![ServiceId::from_u128(9)];
        assert!(!eligible(&r, b, s, c));
        r.services = vec![s];
        r.classes = vec![ClassId::from_u128(9)];
        assert!(!eligible(&r, b, s, c));
        r.classes = vec![c, ClassId::from_u128(9)];
        assert!(eligible(&r, b, s, c));
    }

    #[test]
    fn sample_point_is_pinned() {
        // Regression: these values are stored behaviour (who was sampled); they must never
        // change. FNV-1a of "" is its offset basis, of "a" 0xaf63dc4c8601ec8c, each then mixed
        // (values computed independently of this code).
        assert_eq!(sample_point(b""), 0xf52a_15e9_a9b5_e89b);
        assert_eq!(sample_point(b"a"), 0x02c0_bdbf_4814_20f8);
        let key = sample_key(TicketId::from_u128(1), SurveyId::from_u128(2));
        assert_eq!(&key[15..17], &[1, 0]);
        assert_eq!(key[31], 2);
    }

    #[test]
    fn rate_zero_never_one_always() {
        for n in 0..1000u128 {
            let key = sample_key(TicketId::from_u128(n), SurveyId::from_u128(1));
            assert!(!sampled(0.0, &key));
            assert!(!sampled(-1.0, &key));
            assert!(!sampled(f64::NAN, &key));
            assert!(sampled(1.0, &key));
            assert!(sampled(2.0, &key));
        }
    }

    #[test]
    fn sequential_tickets_are_sampled_at_the_rate() {
        // Simulations and fixtures number tickets 1, 2, 3…: the mixing must spread them.
        let n = 20_000;
        let hits = (0..n)
            .filter(|&i| {
                sampled(
                    0.3,
                    &sample_key(TicketId::from_u128(i), SurveyId::from_u128(7)),
                )
            })
            .count();
        let share = hits as f64 / n as f64;
        assert!((share - 0.3).abs() < 0.02, "{share}");
    }

    #[test]
    fn cooldown_and_expiry() {
        let now = utc("2026-11-30T10:00:00Z");
        let mut r = rule();
        assert_eq!(cooldown_since(&r, now), Some(utc("2026-10-31T10:00:00Z")));
        assert_eq!(expires_at(&r, now), utc("2026-12-03T10:00:00Z"));
        r.cooldown_days = 0;
        assert_eq!(cooldown_since(&r, now), None);
        r.cooldown_days = u32::MAX;
        r.valid_hours = u32::MAX;
        assert!(cooldown_since(&r, now).unwrap() < now);
        assert!(expires_at(&r, now) > now);
    }

    #[test]
    fn invitation_ids_are_derived_again_the_same() {
        let (t, s) = (TicketId::from_u128(5), SurveyId::from_u128(6));
        assert_eq!(invitation_id(t, s), invitation_id(t, s));
        assert_ne!(
            invitation_id(t, s),
            invitation_id(t, SurveyId::from_u128(7))
        );
        assert_ne!(
            invitation_id(t, s),
            invitation_id(TicketId::from_u128(6), s)
        );
        assert_eq!(invitation_id(t, s).as_uuid().get_version_num(), 5);
    }

    #[test]
    fn offered_by_the_triggers_of_an_active_survey() {
        let mut s = survey();
        assert!(offered(&s, InvitationSource::AfterService));
        assert!(offered(&s, InvitationSource::Link));
        assert!(!offered(&s, InvitationSource::Kiosk));
        s.active = false;
        assert!(!offered(&s, InvitationSource::Link));
    }

    #[test]
    fn invites_after_service_when_active_eligible_and_sampled() {
        let (t, b, sv, c) = (
            TicketId::from_u128(1),
            BranchId::from_u128(1),
            ServiceId::from_u128(1),
            ClassId::from_u128(1),
        );
        let mut s = survey();
        assert!(invites_after_service(&s, t, b, sv, c));
        s.triggers.after_service.as_mut().unwrap().sample_rate = 0.0;
        assert!(!invites_after_service(&s, t, b, sv, c));
        let mut s = survey();
        s.triggers.after_service.as_mut().unwrap().services = vec![ServiceId::from_u128(2)];
        assert!(!invites_after_service(&s, t, b, sv, c));
        let mut s = survey();
        s.active = false;
        assert!(!invites_after_service(&s, t, b, sv, c));
        s.active = true;
        s.triggers.after_service = None;
        assert!(!invites_after_service(&s, t, b, sv, c));
    }

    #[test]
    fn accepts_an_open_invitation_until_it_expires() {
        let made = utc("2026-11-30T10:00:00Z");
        let inv = invitation(1, made);
        let s = survey();
        assert_eq!(accepts(&inv, &s, made), Ok(()));
        assert_eq!(accepts(&inv, &s, inv.expires_at), Ok(()));
        let later = inv.expires_at + Duration::seconds(1);
        assert_eq!(
            accepts(&inv, &s, later),
            Err(SurveyError::InvitationExpired {
                expired_at: inv.expires_at
            })
        );
        let mut answered = inv.clone();
        answered.answered_at = Some(made);
        assert_eq!(
            accepts(&answered, &s, made).unwrap_err().code(),
            "already_answered"
        );
        let mut inactive = s.clone();
        inactive.active = false;
        assert_eq!(
            accepts(&inv, &inactive, made).unwrap_err().code(),
            "survey_inactive"
        );
        let mut other = s.clone();
        other.id = SurveyId::from_u128(2);
        assert_eq!(
            accepts(&inv, &other, made).unwrap_err().code(),
            "wrong_survey"
        );
        let mut foreign = s;
        foreign.organization = OrganizationId::from_u128(2);
        assert_eq!(
            accepts(&inv, &foreign, made).unwrap_err().code(),
            "wrong_survey"
        );
    }

    /// A stream of UUID bytes from a seed (SplitMix64), standing in for random ticket ids.
    fn uuids(seed: u64, n: usize) -> impl Iterator<Item = u128> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        (0..n).map(move |_| (u128::from(next()) << 64) | u128::from(next()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn realized_share_is_close_to_the_rate(rate in 0.0..=1.0f64, seed in any::<u64>()) {
            // 20 000 keys: the standard deviation of the share is at most 0.0036, so ±0.02
            // is more than five of them.
            let n = 20_000;
            let survey = SurveyId::from_u128(42);
            let hits = uuids(seed, n)
                .filter(|&u| sampled(rate, &sample_key(TicketId::from_u128(u), survey)))
                .count();
            let share = hits as f64 / n as f64;
            prop_assert!((share - rate).abs() < 0.02, "rate {rate}, share {share}");
        }

        #[test]
        fn raising_the_rate_keeps_those_sampled(a in 0.0..=1.0f64, b in 0.0..=1.0f64, key in any::<[u8; 32]>()) {
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(!sampled(low, &key) || sampled(high, &key));
        }
    }
}
