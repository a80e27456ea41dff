//! [`RetryPolicy`]: when to try a failed message again, and when to give up.

use std::time::Duration;

use cem_core::MessageId;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Exponential backoff with deterministic jitter.
///
/// After `n ≥ 1` attempts the next one waits `first × factor^(n−1)`, at most `max_delay`, then
/// moved by a jitter of ±20 % drawn from the message's id and `n`: messages that failed
/// together spread out instead of retrying in a herd, and the same message always gets the
/// same schedule (a restarted outbox computes what the stopped one would have). After
/// `max_attempts` attempts there is no next one: the message is dead.
///
/// Durations are [`std::time::Duration`]s; the policy reads no clock, `now` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// The wait after the first attempt, before jitter.
    pub first: Duration,
    /// What each further wait is multiplied by; a factor of 0 counts as 1.
    pub factor: u32,
    /// The longest wait, before jitter.
    pub max_delay: Duration,
    /// The number of attempts, the first included, after which a message is given up.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 10 s, doubling, at most 1 h, 12 attempts (the last about 3 h 25 min after the first, before jitter).
    fn default() -> Self {
        Self {
            first: Duration::from_secs(10),
            factor: 2,
            max_delay: Duration::from_secs(3600),
            max_attempts: 12,
        }
    }
}

/// The jitter's half-width, in thousandths.
const JITTER_PERMILLE: u64 = 200;

impl RetryPolicy {
    /// The wait before the attempt after `attempts_so_far`, without jitter: zero before the
    /// first attempt, `None` once `max_attempts` attempts were made.
    pub fn base_delay(&self, attempts_so_far: u32) -> Option<Duration> {
        if attempts_so_far >= self.max_attempts {
            return None;
        }
        if attempts_so_far == 0 {
            return Some(Duration::ZERO);
        }
        let factor = self.factor.max(1);
        let mut delay = self.first.min(self.max_delay);
        for _ in 1..attempts_so_far {
            if delay >= self.max_delay {
                break;
            }
            delay = delay.saturating_mul(factor).min(self.max_delay);
        }
        Some(delay)
    }

    /// The wait before the attempt after `attempts_so_far` for message `key`, jitter included;
    /// `None` once `max_attempts` attempts were made.
    pub fn delay(&self, attempts_so_far: u32, key: MessageId) -> Option<Duration> {
        let base = self.base_delay(attempts_so_far)?;
        // A multiplier of 800‰ to 1200‰, the same for the same message and attempt.
        let permille =
            1000 - JITTER_PERMILLE + mix(key, attempts_so_far) % (2 * JITTER_PERMILLE + 1);
        let nanos = base.as_nanos() * u128::from(permille) / 1000;
        let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
        // The remainder is below 10⁹, so it fits.
        let sub = u32::try_from(nanos % 1_000_000_000).unwrap_or_default();
        Some(Duration::new(secs, sub))
    }

    /// When to try message `key` again after `attempts_so_far` attempts, or `None` once
    /// `max_attempts` were made (the message is dead). An instant beyond the calendar's end is
    /// read as its last instant.
    pub fn next_attempt(
        &self,
        attempts_so_far: u32,
        key: MessageId,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let delay = self.delay(attempts_so_far, key)?;
        let delta = TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX);
        Some(
            now.checked_add_signed(delta)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    }
}

/// A well-spread, stable hash of a message id and an attempt number (the SplitMix64
/// finalizer): stable across platforms and releases, unlike the standard library's hasher.
fn mix(key: MessageId, attempt: u32) -> u64 {
    let id = key.as_uuid().as_u128();
    // Truncations are the point: fold the id's two halves into one word.
    let mut x = (id as u64) ^ ((id >> 64) as u64).rotate_left(29) ^ u64::from(attempt);
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()
    }

    #[test]
    fn default_schedule_doubles_from_ten_seconds_up_to_an_hour_then_gives_up() {
        let policy = RetryPolicy::default();
        let bases: Vec<_> = (0..=12)
            .map(|n| policy.base_delay(n).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            bases,
            [
                Some(0),
                Some(10),
                Some(20),
                Some(40),
                Some(80),
                Some(160),
                Some(320),
                Some(640),
                Some(1280),
                Some(2560),
                Some(3600),
                Some(3600),
                None
            ]
        );
        assert_eq!(
            policy.next_attempt(12, MessageId::from_u128(1), now()),
            None
        );
        assert_eq!(
            policy.next_attempt(0, MessageId::from_u128(1), now()),
            Some(now())
        );
    }

    #[test]
    fn the_same_message_gets_the_same_time_and_different_messages_spread_out() {
        let policy = RetryPolicy::default();
        let key = MessageId::from_u128(0x1234_5678);
        assert_eq!(
            policy.next_attempt(3, key, now()),
            policy.next_attempt(3, key, now())
        );
        let mut times: Vec<_> = (0..100u128)
            .map(|n| {
                policy
                    .next_attempt(3, MessageId::from_u128(n), now())
                    .unwrap()
            })
            .collect();
        times.sort_unstable();
        times.dedup();
        assert!(times.len() > 50, "only {} distinct times", times.len());
        let earliest = times.first().unwrap();
        let latest = times.last().unwrap();
        // 40 s ± 20 %: a hundred messages should cover most of 32–48 s.
        assert!((*latest - *earliest) > TimeDelta::seconds(10));
    }

    #[test]
    fn huge_delays_saturate() {
        let policy = RetryPolicy {
            first: Duration::from_secs(u64::MAX / 2),
            factor: u32::MAX,
            max_delay: Duration::MAX,
            max_attempts: 100,
        };
        let next = policy.next_attempt(50, MessageId::from_u128(9), now());
        assert_eq!(next, Some(DateTime::<Utc>::MAX_UTC));
    }

    proptest! {
        #[test]
        fn jitter_stays_within_twenty_percent_and_attempts_end_at_the_limit(
            first_ms in 1u64..3_600_000,
            factor in 0u32..6,
            max_ms in 1u64..86_400_000,
            max_attempts in 0u32..20,
            attempts in 0u32..30,
            key in any::<u128>(),
        ) {
            let policy = RetryPolicy {
                first: Duration::from_millis(first_ms),
                factor,
                max_delay: Duration::from_millis(max_ms),
                max_attempts,
            };
            let next = policy.next_attempt(attempts, MessageId::from_u128(key), now());
            prop_assert_eq!(next.is_none(), attempts >= max_attempts);
            let Some(next) = next else { return Ok(()) };
            let delay = (next - now()).to_std().unwrap().as_nanos();
            // The un-jittered delay, computed independently.
            let unjittered = if attempts == 0 {
                0
            } else {
                let mut d = u128::from(first_ms) * 1_000_000;
                for _ in 1..attempts {
                    d = (d * u128::from(factor.max(1))).min(u128::from(max_ms) * 1_000_000);
                }
                d.min(u128::from(max_ms) * 1_000_000)
            };
            prop_assert!(delay * 1000 <= u128::from(max_ms) * 1_000_000 * 1200);
            prop_assert!(delay * 1000 >= unjittered * 800);
            prop_assert!(delay * 1000 <= unjittered * 1200);
        }
    }
}
