//! What a screen shows at an instant: the media item ([`media_at`]), the news ([`news_at`],
//! and [`branch_news`] for the public), the files it may need soon ([`manifest`]) and a digest
//! of cacheable content ([`etag`]).
//!
//! # The media cycle
//! The items a screen may show at `at` come from the playlists of the screen's organization
//! that [target](crate::targets) it, in the order the playlists are given and then in each
//! playlist's order, keeping those whose [schedule](crate::applies) applies at `at`. They play in
//! turn, each for its `duration_secs`, in a cycle whose phase is fixed by the UNIX epoch: a
//! cycle starts at every multiple of the cycle's length (the sum of the durations) since
//! 1970-01-01T00:00:00Z. So every screen with the same items shows the same one at the same
//! instant, and a screen that restarts, or comes back after losing the server, picks up
//! where it should without remembering anything.
//!
//! When an item's schedule starts or ends, the set of items changes, and the cycle is simply
//! computed again over the new set from the same epoch: the item shown may change in the
//! middle of its slot. That is the rule — nothing is remembered across the change — and it
//! keeps every screen in step. [`MediaNow::ends_at`] accounts for it: it is the end of the
//! item's slot or the next change of the set, whichever comes first, so a page that asks again
//! at `ends_at` never shows an item longer than it should.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::chrono_tz::Tz;
use cem_core::{
    Branch, Content, Layout, News, Playlist, PlaylistId, PlaylistItem, Screen, Targets, ZoneKind,
};
use serde::{Deserialize, Serialize};

use crate::schedule::{applies, earliest, next_change_with, offset_changes, targets};

/// The media item a screen shows at an instant, and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaNow {
    /// The playlist of the item.
    pub playlist: PlaylistId,
    /// The item's key in the playlist.
    pub item: String,
    /// What to show.
    pub content: Content,
    /// When the item's slot in the current cycle began: a video plays from `at - started_at`.
    /// It may be before the last change of the set of items (see the
    /// [module docs](self#the-media-cycle)).
    pub started_at: DateTime<Utc>,
    /// When to ask again: the next item's start, or the next change of the set of items if
    /// that comes first. Always after the instant asked.
    pub ends_at: DateTime<Utc>,
}

/// The playlists' items that may show on `screen`, in cycle order (items with a zero duration,
/// which validation refuses, never show).
fn targeted<'a>(
    playlists: &'a [Playlist],
    screen: &'a Screen,
) -> impl Iterator<Item = (&'a Playlist, &'a PlaylistItem)> + 'a {
    playlists
        .iter()
        .filter(|p| p.organization == screen.organization && targets(&p.targets, screen))
        .flat_map(|p| {
            p.items
                .iter()
                .filter(|i| i.duration_secs > 0)
                .map(move |i| (p, i))
        })
}

/// What the media zones of `screen` show at `at`, read in the branch's time zone `tz`; `None`
/// when no item may show. See [the media cycle](self#the-media-cycle).
pub fn media_at(
    playlists: &[Playlist],
    screen: &Screen,
    tz: Tz,
    at: DateTime<Utc>,
) -> Option<MediaNow> {
    let items: Vec<_> = targeted(playlists, screen).collect();
    let active: Vec<_> = items
        .iter()
        .filter(|(_, i)| applies(&i.schedule, tz, at))
        .collect();
    let period: i64 = active.iter().map(|(_, i)| i64::from(i.duration_secs)).sum();
    if period == 0 {
        return None;
    }
    let secs = at.timestamp();
    let position = secs.rem_euclid(period);
    let mut offset = 0;
    let (playlist, item) = active.iter().find(|(_, i)| {
        offset += i64::from(i.duration_secs);
        position < offset
    })?;
    let slot_end = DateTime::from_timestamp(secs - position + offset, 0)?;
    let started_at = slot_end - Duration::seconds(i64::from(item.duration_secs));
    let shifts = offset_changes(tz, at, slot_end);
    let change = items
        .iter()
        .map(|(_, i)| next_change_with(&i.schedule, tz, at, slot_end, &shifts))
        .fold(None, earliest);
    Some(MediaNow {
        playlist: playlist.id,
        item: item.key.clone(),
        content: item.content.clone(),
        started_at,
        ends_at: earliest(Some(slot_end), change).unwrap_or(slot_end),
    })
}

/// Whether `news` is published at `at`: `publish_from <= at < publish_until`.
pub fn is_published(news: &News, at: DateTime<Utc>) -> bool {
    news.publish_from <= at && news.publish_until.is_none_or(|until| at < until)
}

/// The news order: urgent first, then the newest `publish_from`, then by id.
fn by_importance(news: &mut [&News]) {
    news.sort_by_key(|n| (Reverse(n.priority), Reverse(n.publish_from), n.id));
}

/// The news `screen` shows at `at`: published, of its organization, targeted to it, urgent
/// first, then the newest, then by id (so the order never depends on the input's).
pub fn news_at<'a>(news: &'a [News], screen: &Screen, at: DateTime<Utc>) -> Vec<&'a News> {
    let mut shown: Vec<&News> = news
        .iter()
        .filter(|n| {
            n.organization == screen.organization
                && is_published(n, at)
                && targets(&n.targets, screen)
        })
        .collect();
    by_importance(&mut shown);
    shown
}

/// The news of the public information of `branch` at `at`: published, of its organization,
/// for every screen or for the branch's, in the order of [`news_at`]. News targeted to
/// particular screens is for those screens only, never public.
pub fn branch_news<'a>(news: &'a [News], branch: &Branch, at: DateTime<Utc>) -> Vec<&'a News> {
    let mut shown: Vec<&News> = news
        .iter()
        .filter(|n| {
            n.organization == branch.organization
                && is_published(n, at)
                && match &n.targets {
                    Targets::All => true,
                    Targets::Branches(b) => b.contains(&branch.id),
                    Targets::Screens(_) => false,
                }
        })
        .collect();
    by_importance(&mut shown);
    shown
}

/// The files a screen may need over a window, to fetch ahead of time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// URLs of the images and videos, sorted, each once.
    pub media: Vec<String>,
    /// URLs of the web pages, sorted, each once. They are listed apart because a page is live
    /// content: a screen may warm a cache with it but should load it again when it shows.
    pub pages: Vec<String>,
}

/// The URLs `screen`, showing `layout`, may need between `from` (inclusive) and `to`
/// (exclusive): those of the items of the playlists that target it whose schedule applies at
/// some instant of the window, read in the time zone `tz`. Empty when the layout has no media
/// zone or the window is empty.
pub fn manifest(
    screen: &Screen,
    layout: &Layout,
    playlists: &[Playlist],
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Manifest {
    if from >= to || !layout.zones.iter().any(|z| z.kind == ZoneKind::Media) {
        return Manifest::default();
    }
    let shifts = offset_changes(tz, from, to);
    let (mut media, mut pages) = (BTreeSet::new(), BTreeSet::new());
    for (_, item) in targeted(playlists, screen) {
        let shows = applies(&item.schedule, tz, from)
            || next_change_with(&item.schedule, tz, from, to, &shifts).is_some();
        if !shows {
            continue;
        }
        match &item.content {
            Content::Image { url } | Content::Video { url } => {
                media.insert(url.clone());
            }
            Content::WebPage { url } => {
                pages.insert(url.clone());
            }
            Content::Text { .. } => {}
        }
    }
    Manifest {
        media: media.into_iter().collect(),
        pages: pages.into_iter().collect(),
    }
}

/// A strong HTTP entity tag for `bytes`: the 64-bit FNV-1a hash in 16 lowercase hex digits,
/// quoted (`"cbf29ce484222325"`), ready for an `ETag` header.
///
/// It is stable across versions and platforms, and fast. It is not a cryptographic hash: it
/// tells versions of one resource apart, which is all a cache needs, but must not be used
/// where someone could gain by forging a collision.
pub fn etag(bytes: &[u8]) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = bytes
        .iter()
        .fold(OFFSET_BASIS, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME));
    format!("\"{hash:016x}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{
        BRANCH, ORGANIZATION, OTHER_BRANCH, berlin, branch, image, layout, news, playlist, screen,
        t, utc,
    };
    use cem_core::chrono::Weekday;
    use cem_core::{LocalTimeRange, NewsId, OrganizationId, Priority, Schedule, ScreenId};
    use proptest::prelude::*;

    fn mornings(mut item: PlaylistItem) -> PlaylistItem {
        item.schedule = Schedule {
            weekdays: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            times: vec![LocalTimeRange {
                start: t(7, 0),
                end: t(11, 0),
            }],
            ..Schedule::default()
        };
        item
    }

    fn key(m: &Option<MediaNow>) -> Option<&str> {
        m.as_ref().map(|m| m.item.as_str())
    }

    #[test]
    fn items_play_in_turn_from_the_epoch() {
        let p = [playlist(
            1,
            vec![image("a", 10), image("b", 20)],
            Targets::All,
        )];
        let s = screen();
        // 2026-01-01T00:00:00Z is 1_767_225_600 s after the epoch, a multiple of 30.
        let start = utc("2026-01-01T00:00:00Z");
        assert_eq!(start.timestamp() % 30, 0);
        let at = |secs| media_at(&p, &s, berlin(), start + Duration::seconds(secs));
        let m = at(0).unwrap();
        assert_eq!(
            (m.item.as_str(), m.started_at, m.ends_at),
            ("a", start, start + Duration::seconds(10))
        );
        assert_eq!(key(&at(9)), Some("a"));
        let m = at(10).unwrap();
        assert_eq!(m.item, "b");
        assert_eq!(m.started_at, start + Duration::seconds(10));
        assert_eq!(m.ends_at, start + Duration::seconds(30));
        assert_eq!(
            m.content,
            Content::Image {
                url: "/media/b.jpg".into()
            }
        );
        assert_eq!(key(&at(29)), Some("b"));
        assert_eq!(key(&at(30)), Some("a"));
        // Sub-second instants belong to the second they are in.
        let m = media_at(&p, &s, berlin(), start + Duration::milliseconds(9_999)).unwrap();
        assert_eq!(m.item, "a");
        // Before the epoch too.
        let m = media_at(&p, &s, berlin(), utc("1969-12-31T23:59:59Z")).unwrap();
        assert_eq!(
            (m.item.as_str(), m.ends_at),
            ("b", utc("1970-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn only_targeted_playlists_of_the_organization_show() {
        let s = screen();
        let mut foreign = playlist(3, vec![image("foreign", 10)], Targets::All);
        foreign.organization = OrganizationId::from_u128(9);
        let p = [
            playlist(
                1,
                vec![image("other", 10)],
                Targets::Branches(vec![OTHER_BRANCH]),
            ),
            playlist(
                2,
                vec![image("elsewhere", 10)],
                Targets::Screens(vec![ScreenId::from_u128(9)]),
            ),
            foreign,
        ];
        assert_eq!(
            media_at(&p, &s, berlin(), utc("2026-05-01T12:00:00Z")),
            None
        );
        let mut p = p.to_vec();
        p.push(playlist(
            4,
            vec![image("mine", 10)],
            Targets::Screens(vec![s.id]),
        ));
        for secs in 0..40 {
            let m = media_at(
                &p,
                &s,
                berlin(),
                utc("2026-05-01T12:00:00Z") + Duration::seconds(secs),
            );
            assert_eq!(key(&m), Some("mine"));
        }
    }

    #[test]
    fn screens_of_a_branch_show_the_same_item_at_the_same_instant() {
        let p = [playlist(
            1,
            vec![image("a", 7), image("b", 11), image("c", 13)],
            Targets::Branches(vec![BRANCH]),
        )];
        let left = screen();
        let mut right = screen();
        right.id = ScreenId::from_u128(2);
        for secs in (0..600).step_by(7) {
            let at = utc("2026-05-01T12:00:00Z") + Duration::seconds(secs);
            assert_eq!(
                media_at(&p, &left, berlin(), at),
                media_at(&p, &right, berlin(), at)
            );
        }
    }

    #[test]
    fn a_scheduled_item_joins_the_cycle_and_ends_at_is_cut_at_the_change() {
        let p = [playlist(
            1,
            vec![image("a", 600), mornings(image("b", 600))],
            Targets::All,
        )];
        let s = screen();
        // Friday 2026-03-27 06:55 CET (05:55 UTC): only `a`; the set changes at 07:00 (06:00 UTC),
        // before the end of `a`'s 600 s slot.
        let m = media_at(&p, &s, berlin(), utc("2026-03-27T05:55:00Z")).unwrap();
        assert_eq!(m.item, "a");
        assert_eq!(m.ends_at, utc("2026-03-27T06:00:00Z"));
        assert_eq!(m.started_at, utc("2026-03-27T05:50:00Z"));
        // Friday 07:10: both, period 1200 s; 06:10:00 UTC is 1_774_591_800 s, 600 past a
        // multiple of 1200, so `b` (a mornings item) plays 06:10–06:20 UTC.
        let m = media_at(&p, &s, berlin(), utc("2026-03-27T06:10:00Z")).unwrap();
        assert_eq!(
            (m.item.as_str(), m.ends_at),
            ("b", utc("2026-03-27T06:20:00Z"))
        );
        // Saturday: `a` only.
        let m = media_at(&p, &s, berlin(), utc("2026-03-28T06:10:00Z")).unwrap();
        assert_eq!(m.item, "a");
    }

    #[test]
    fn news_is_published_targeted_and_ordered() {
        let s = screen();
        let at = utc("2026-05-01T12:00:00Z");
        let h = Duration::hours;
        let mut other_branch = news(5, "other", Priority::Urgent, at - h(1), None);
        other_branch.targets = Targets::Branches(vec![OTHER_BRANCH]);
        let mut screen_only = news(6, "screen", Priority::Normal, at - h(9), None);
        screen_only.targets = Targets::Screens(vec![s.id]);
        let mut foreign = news(7, "foreign", Priority::Urgent, at - h(1), None);
        foreign.organization = OrganizationId::from_u128(9);
        let all = vec![
            news(1, "old normal", Priority::Normal, at - h(5), None),
            news(
                2,
                "new normal",
                Priority::Normal,
                at - h(2),
                Some(at + h(1)),
            ),
            news(
                3,
                "urgent",
                Priority::Urgent,
                at - h(48),
                Some(at + Duration::seconds(1)),
            ),
            news(4, "expired", Priority::Urgent, at - h(48), Some(at)),
            news(
                8,
                "future",
                Priority::Urgent,
                at + Duration::seconds(1),
                None,
            ),
            news(9, "high", Priority::High, at, None),
            other_branch,
            screen_only,
            foreign,
        ];
        let title = |n: &&News| n.title.exact(&cem_core::Language::en()).unwrap().to_owned();
        let shown: Vec<String> = news_at(&all, &s, at).iter().map(title).collect();
        assert_eq!(
            shown,
            ["urgent", "high", "new normal", "old normal", "screen"]
        );
        let public: Vec<String> = branch_news(&all, &branch(), at).iter().map(title).collect();
        assert_eq!(public, ["urgent", "high", "new normal", "old normal"]);
    }

    #[test]
    fn the_manifest_lists_what_may_show_in_the_window() {
        let s = screen();
        let video = PlaylistItem {
            key: "v".into(),
            content: Content::Video {
                url: "https://cdn.example/v.mp4".into(),
            },
            duration_secs: 30,
            schedule: Schedule::default(),
        };
        let page = PlaylistItem {
            key: "rates".into(),
            content: Content::WebPage {
                url: "/rates".into(),
            },
            duration_secs: 30,
            schedule: Schedule::default(),
        };
        let text = PlaylistItem {
            key: "hello".into(),
            content: Content::Text {
                text: cem_core::LocalizedText::single(cem_core::Language::en(), "Hello"),
            },
            duration_secs: 30,
            schedule: Schedule::default(),
        };
        let p = [
            playlist(
                1,
                vec![
                    image("a", 10),
                    mornings(image("b", 10)),
                    video.clone(),
                    page,
                    text,
                ],
                Targets::All,
            ),
            // The same file twice, and one for another branch.
            playlist(
                2,
                vec![image("a", 10), image("c", 10)],
                Targets::Branches(vec![OTHER_BRANCH]),
            ),
            playlist(3, vec![video], Targets::Branches(vec![BRANCH])),
        ];
        // Saturday and Sunday: no mornings item.
        let weekend = manifest(
            &s,
            &layout(),
            &p,
            berlin(),
            utc("2026-03-28T00:00:00Z"),
            utc("2026-03-29T22:00:00Z"),
        );
        assert_eq!(weekend.media, ["/media/a.jpg", "https://cdn.example/v.mp4"]);
        assert_eq!(weekend.pages, ["/rates"]);
        // Up to Monday 07:00 CEST (05:00 UTC) excluded: still not; one second more: yes.
        let sunday = utc("2026-03-29T12:00:00Z");
        let m = manifest(
            &s,
            &layout(),
            &p,
            berlin(),
            sunday,
            utc("2026-03-30T05:00:00Z"),
        );
        assert!(!m.media.contains(&"/media/b.jpg".to_owned()));
        let m = manifest(
            &s,
            &layout(),
            &p,
            berlin(),
            sunday,
            utc("2026-03-30T05:00:01Z"),
        );
        assert_eq!(
            m.media,
            ["/media/a.jpg", "/media/b.jpg", "https://cdn.example/v.mp4"]
        );
        // No media zone, or an empty window: nothing.
        let mut no_media = layout();
        no_media.zones.retain(|z| z.kind != ZoneKind::Media);
        assert_eq!(
            manifest(
                &s,
                &no_media,
                &p,
                berlin(),
                sunday,
                sunday + Duration::days(1)
            ),
            Manifest::default()
        );
        assert_eq!(
            manifest(&s, &layout(), &p, berlin(), sunday, sunday),
            Manifest::default()
        );
    }

    #[test]
    fn etag_is_fnv1a_64() {
        // Reference values of the FNV-1a 64-bit hash.
        assert_eq!(etag(b""), "\"cbf29ce484222325\"");
        assert_eq!(etag(b"a"), "\"af63dc4c8601ec8c\"");
        assert_eq!(etag(b"foobar"), "\"85944171f73967e8\"");
        assert_ne!(etag(b"ab"), etag(b"ba"));
    }

    // ---- properties ----

    fn weekday(i: u8) -> Weekday {
        Weekday::try_from(i % 7).unwrap()
    }

    prop_compose! {
        fn schedules()(
            kind in 0_u8..4,
            days in proptest::collection::vec(0_u8..7, 1..4),
            start in 0_u32..(24 * 4),
            len in 1_u32..(24 * 4),
            from in 0_i64..20,
        ) -> Schedule {
            match kind {
                0 => Schedule::default(),
                1 => Schedule { weekdays: days.into_iter().map(weekday).collect(), ..Schedule::default() },
                2 => {
                    let start = start * 15;
                    let end = (start + len * 15).min(24 * 60 - 1);
                    Schedule {
                        times: vec![LocalTimeRange { start: t(start / 60, start % 60), end: t(end / 60, end % 60) }]
                            .into_iter()
                            .filter(|r| r.start < r.end)
                            .collect(),
                        ..Schedule::default()
                    }
                }
                _ => {
                    let day = crate::testing::date(2026, 3, 20) + Duration::days(from);
                    Schedule { from: Some(day), until: Some(day + Duration::days(3)), ..Schedule::default() }
                }
            }
        }
    }

    prop_compose! {
        fn items()(specs in proptest::collection::vec((1_u32..900, schedules()), 1..5)) -> Vec<PlaylistItem> {
            specs
                .into_iter()
                .enumerate()
                .map(|(i, (secs, schedule))| PlaylistItem { schedule, ..image(&format!("i{i}"), secs) })
                .collect()
        }
    }

    fn target_strategy() -> impl Strategy<Value = Targets> {
        prop_oneof![
            Just(Targets::All),
            Just(Targets::Branches(vec![BRANCH])),
            Just(Targets::Branches(vec![OTHER_BRANCH])),
            Just(Targets::Screens(vec![crate::testing::SCREEN])),
            Just(Targets::Screens(vec![ScreenId::from_u128(9)])),
        ]
    }

    prop_compose! {
        fn playlists()(lists in proptest::collection::vec((items(), target_strategy()), 0..4)) -> Vec<Playlist> {
            lists
                .into_iter()
                .enumerate()
                .map(|(n, (items, targets))| playlist(n as u128, items, targets))
                .collect()
        }
    }

    /// Instants from 2026-03-20, across the change to summer time in Berlin.
    fn instants() -> impl Strategy<Value = DateTime<Utc>> {
        (0_i64..(20 * 86_400)).prop_map(|s| utc("2026-03-20T00:00:00Z") + Duration::seconds(s))
    }

    fn is_active_and_targeted(p: &[Playlist], s: &Screen, at: DateTime<Utc>, m: &MediaNow) -> bool {
        p.iter().any(|pl| {
            pl.id == m.playlist
                && targets(&pl.targets, s)
                && pl.items.iter().any(|i| {
                    i.key == m.item && i.content == m.content && applies(&i.schedule, berlin(), at)
                })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn what_shows_is_active_targeted_and_steady_until_ends_at(
            p in playlists(),
            at in instants(),
            fractions in proptest::collection::vec(0.0_f64..1.0, 3),
        ) {
            let s = screen();
            let any_active = p.iter().any(|pl| targets(&pl.targets, &s)
                && pl.items.iter().any(|i| applies(&i.schedule, berlin(), at)));
            match media_at(&p, &s, berlin(), at) {
                None => prop_assert!(!any_active),
                Some(m) => {
                    prop_assert!(is_active_and_targeted(&p, &s, at, &m));
                    prop_assert!(m.started_at <= at && at < m.ends_at);
                    let item = p.iter().find(|pl| pl.id == m.playlist).unwrap()
                        .items.iter().find(|i| i.key == m.item).unwrap();
                    prop_assert!(m.ends_at - m.started_at <= Duration::seconds(item.duration_secs.into()));
                    // The same answer at any instant until `ends_at`.
                    let span = (m.ends_at - at).num_milliseconds();
                    for f in fractions {
                        let later = at + Duration::milliseconds((span as f64 * f) as i64);
                        prop_assert_eq!(media_at(&p, &s, berlin(), later), Some(m.clone()));
                    }
                    let last = m.ends_at - Duration::nanoseconds(1);
                    prop_assert_eq!(media_at(&p, &s, berlin(), last), Some(m.clone()));
                }
            }
        }

        #[test]
        fn one_active_item_is_always_the_one_shown(
            secs in 1_u32..86_400,
            at in instants(),
            others in items(),
        ) {
            let s = screen();
            // Other items exist but never apply (they ended long ago).
            let never = Schedule { until: Some(crate::testing::date(2000, 1, 1)), ..Schedule::default() };
            let mut list: Vec<PlaylistItem> = others.into_iter().map(|i| PlaylistItem { schedule: never.clone(), ..i }).collect();
            list.insert(list.len() / 2, image("only", secs));
            let p = [playlist(1, list, Targets::All)];
            let m = media_at(&p, &s, berlin(), at).unwrap();
            prop_assert_eq!(m.item.as_str(), "only");
            prop_assert_eq!(m.ends_at - m.started_at, Duration::seconds(secs.into()));
        }

        #[test]
        fn shown_time_is_proportional_to_durations(
            durations in proptest::collection::vec(1_u32..120, 1..6),
            at in instants(),
            window in 1_i64..20_000,
        ) {
            let s = screen();
            let list: Vec<_> = durations.iter().enumerate().map(|(i, d)| image(&format!("i{i}"), *d)).collect();
            let p = [playlist(1, list, Targets::All)];
            let end = at + Duration::seconds(window);
            let mut shown = vec![0_i64; durations.len()];
            let mut now = at;
            while now < end {
                let m = media_at(&p, &s, berlin(), now).unwrap();
                let i: usize = m.item[1..].parse().unwrap();
                shown[i] += (m.ends_at.min(end) - now).num_seconds();
                now = m.ends_at;
            }
            let period: i64 = durations.iter().map(|d| i64::from(*d)).sum();
            for (i, d) in durations.iter().enumerate() {
                let d = i64::from(*d);
                // Within one slot of its share of the window.
                let fair = window as f64 * d as f64 / period as f64;
                prop_assert!((shown[i] as f64 - fair).abs() <= d as f64, "{i}: {} vs {fair}", shown[i]);
            }
            prop_assert_eq!(shown.iter().sum::<i64>(), window);
        }

        #[test]
        fn news_shown_is_published_targeted_and_in_a_stable_order(
            specs in proptest::collection::vec(
                (0_u8..3, -50_i64..50, proptest::option::of(1_i64..100), 0_u8..3, 0_u128..6),
                0..12,
            ),
            shuffle in proptest::collection::vec(any::<usize>(), 12),
        ) {
            let s = screen();
            let at = utc("2026-05-01T12:00:00Z");
            let all: Vec<News> = specs
                .iter()
                .enumerate()
                .map(|(n, (prio, from, len, target, id))| {
                    let priority = [Priority::Normal, Priority::High, Priority::Urgent][*prio as usize];
                    let from = at + Duration::minutes(*from);
                    let mut item = news(*id * 100 + n as u128, "n", priority, from, len.map(|l| from + Duration::minutes(l)));
                    item.targets = match target {
                        0 => Targets::All,
                        1 => Targets::Branches(vec![OTHER_BRANCH]),
                        _ => Targets::Screens(vec![s.id]),
                    };
                    item
                })
                .collect();
            let shown = news_at(&all, &s, at);
            for n in &shown {
                prop_assert!(is_published(n, at) && targets(&n.targets, &s) && n.organization == ORGANIZATION);
            }
            let expected = all.iter().filter(|n| is_published(n, at) && targets(&n.targets, &s)).count();
            prop_assert_eq!(shown.len(), expected);
            for w in shown.windows(2) {
                let key = |n: &News| (Reverse(n.priority), Reverse(n.publish_from), n.id);
                prop_assert!(key(w[0]) <= key(w[1]));
            }
            // The same answer whatever the input order.
            let mut permuted = all.clone();
            for (i, j) in shuffle.iter().enumerate().take(permuted.len()) {
                let len = permuted.len();
                permuted.swap(i % len, j % len);
            }
            let ids = |v: Vec<&News>| v.iter().map(|n| n.id).collect::<Vec<NewsId>>();
            prop_assert_eq!(ids(news_at(&permuted, &s, at)), ids(shown));
        }
    }
}
