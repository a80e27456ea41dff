//! A screen of a Berlin branch through a week that crosses the change to summer time
//! (2026-03-29, 02:00 CET → 03:00 CEST): what it shows and which news, instant by instant,
//! as a script of expectations.
//!
//! The expected items were worked out by hand from the rule "a cycle of the active items
//! starting at every multiple of its length since the epoch": outside weekday mornings the
//! cycle is `welcome` (10 s) then `rates` (25 s), 35 s; on weekday mornings (07:00–11:00
//! local) `welcome`, `breakfast` (20 s), `rates`, 55 s.

use cem_core::chrono::{DateTime, Duration, Utc, Weekday};
use cem_core::{
    Content, Language, LocalTimeRange, LocalizedText, News, Playlist, PlaylistItem, Priority,
    Schedule, Screen, ScreenId, Targets,
};
use cem_signage::testing::{
    BRANCH, OTHER_BRANCH, berlin, branch, image, layout, news, playlist, screen, t, utc,
};
use cem_signage::{
    branch_news, manifest, media_at, news_at, next_opening, open_now, validate_layout,
    validate_news, validate_playlist,
};

fn playlists() -> Vec<Playlist> {
    let breakfast = PlaylistItem {
        schedule: Schedule {
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
        },
        ..image("breakfast", 20)
    };
    let rates = PlaylistItem {
        key: "rates".into(),
        content: Content::Text {
            text: LocalizedText::single(Language::en(), "Savings: 2.5 %"),
        },
        duration_secs: 25,
        schedule: Schedule::default(),
    };
    vec![
        playlist(
            1,
            vec![image("welcome", 10), breakfast, rates],
            Targets::Branches(vec![BRANCH]),
        ),
        playlist(
            2,
            vec![image("other", 15)],
            Targets::Branches(vec![OTHER_BRANCH]),
        ),
    ]
}

fn all_news() -> Vec<News> {
    let mut other = news(
        5,
        "Other branch closed",
        Priority::Urgent,
        utc("2026-03-01T00:00:00Z"),
        None,
    );
    other.targets = Targets::Branches(vec![OTHER_BRANCH]);
    // As old as the welcome, so after it by id.
    let mut lobby = news(
        7,
        "Lobby screen test",
        Priority::Normal,
        utc("2026-01-01T00:00:00Z"),
        None,
    );
    lobby.targets = Targets::Screens(vec![cem_signage::testing::SCREEN]);
    vec![
        news(
            1,
            "Closed on Easter Monday",
            Priority::Urgent,
            utc("2026-03-25T00:00:00Z"),
            Some(utc("2026-04-07T00:00:00Z")),
        ),
        news(
            2,
            "New savings rates",
            Priority::High,
            utc("2026-03-01T00:00:00Z"),
            None,
        ),
        news(
            3,
            "Welcome to Mitte",
            Priority::Normal,
            utc("2026-01-01T00:00:00Z"),
            None,
        ),
        news(
            4,
            "Spring offer",
            Priority::Normal,
            utc("2026-03-28T00:00:00Z"),
            Some(utc("2026-03-30T00:00:00Z")),
        ),
        other,
        // Across the night of the change: 01:30 CET to 03:30 CEST.
        news(
            6,
            "Maintenance tonight",
            Priority::High,
            utc("2026-03-29T00:30:00Z"),
            Some(utc("2026-03-29T01:30:00Z")),
        ),
        lobby,
    ]
}

/// One line of the script: at this instant, this item in this slot, and these news.
struct Expect {
    at: &'static str,
    /// Item key, `started_at`, `ends_at`.
    media: (&'static str, &'static str, &'static str),
    news: &'static [&'static str],
}

const SCRIPT: &[Expect] = &[
    // Friday 06:59:50 CET, before the mornings item: `rates` would run to 06:00:10 UTC,
    // but the set changes at 07:00 CET (06:00 UTC), so the page asks again then.
    Expect {
        at: "2026-03-27T05:59:50Z",
        media: ("rates", "2026-03-27T05:59:45Z", "2026-03-27T06:00:00Z"),
        news: &[
            "Closed on Easter Monday",
            "New savings rates",
            "Welcome to Mitte",
            "Lobby screen test",
        ],
    },
    // 07:00:15 CET: the morning cycle of 55 s.
    Expect {
        at: "2026-03-27T06:00:15Z",
        media: ("rates", "2026-03-27T06:00:00Z", "2026-03-27T06:00:25Z"),
        news: &[
            "Closed on Easter Monday",
            "New savings rates",
            "Welcome to Mitte",
            "Lobby screen test",
        ],
    },
    // 10:59:55 CET: `breakfast`, cut at 11:00 CET when it leaves the cycle.
    Expect {
        at: "2026-03-27T09:59:55Z",
        media: ("breakfast", "2026-03-27T09:59:50Z", "2026-03-27T10:00:00Z"),
        news: &[
            "Closed on Easter Monday",
            "New savings rates",
            "Welcome to Mitte",
            "Lobby screen test",
        ],
    },
    Expect {
        at: "2026-03-27T10:00:00Z",
        media: ("welcome", "2026-03-27T09:59:55Z", "2026-03-27T10:00:05Z"),
        news: &[
            "Closed on Easter Monday",
            "New savings rates",
            "Welcome to Mitte",
            "Lobby screen test",
        ],
    },
    // Saturday 07:30 CET: no weekday morning.
    Expect {
        at: "2026-03-28T06:30:00Z",
        media: ("rates", "2026-03-28T06:29:45Z", "2026-03-28T06:30:10Z"),
        news: &[
            "Closed on Easter Monday",
            "New savings rates",
            "Spring offer",
            "Welcome to Mitte",
            "Lobby screen test",
        ],
    },
    // Sunday, the last second of winter time (01:59:59 CET) and the first of summer time
    // (03:00:00 CEST): the cycle runs in UTC, so one slot spans the jump.
    Expect {
        at: "2026-03-29T00:59:59Z",
        media: ("rates", "2026-03-29T00:59:50Z", "2026-03-29T01:00:15Z"),
        news: &[
            "Closed on Easter Monday",
            "Maintenance tonight",
            "New savings rates",
            "Spring offer",
            "Welcome to Mitte",
            "Lobby screen test",
        ],
    },
    Expect {
        at: "2026-03-29T01:00:00Z",
        media: ("rates", "2026-03-29T00:59:50Z", "2026-03-29T01:00:15Z"),
        news: &[
            "Closed on Easter Monday",
            "Maintenance tonight",
            "New savings rates",
            "Spring offer",
            "Welcome to Mitte",
            "Lobby screen test",
        ],
    },
    // Monday 06:59:55 CEST: mornings start at 07:00 CEST, which is now 05:00 UTC.
    Expect {
        at: "2026-03-30T04:59:55Z",
        media: ("rates", "2026-03-30T04:59:50Z", "2026-03-30T05:00:00Z"),
        news: &[
            "Closed on Easter Monday",
            "New savings rates",
            "Welcome to Mitte",
            "Lobby screen test",
        ],
    },
    Expect {
        at: "2026-03-30T05:00:00Z",
        media: ("rates", "2026-03-30T04:59:45Z", "2026-03-30T05:00:10Z"),
        news: &[
            "Closed on Easter Monday",
            "New savings rates",
            "Welcome to Mitte",
            "Lobby screen test",
        ],
    },
    Expect {
        at: "2026-03-30T06:00:05Z",
        media: ("breakfast", "2026-03-30T05:59:55Z", "2026-03-30T06:00:15Z"),
        news: &[
            "Closed on Easter Monday",
            "New savings rates",
            "Welcome to Mitte",
            "Lobby screen test",
        ],
    },
    // The closure notice ends at its `publish_until`, excluded.
    Expect {
        at: "2026-04-07T00:00:00Z",
        media: ("rates", "2026-04-06T23:59:40Z", "2026-04-07T00:00:05Z"),
        news: &["New savings rates", "Welcome to Mitte", "Lobby screen test"],
    },
];

fn titles(news: &[&News]) -> Vec<String> {
    news.iter()
        .map(|n| {
            n.title
                .exact(&Language::en())
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn the_records_are_valid() {
    validate_layout(&layout()).unwrap();
    for p in playlists() {
        validate_playlist(&p).unwrap();
    }
    for n in all_news() {
        validate_news(&n).unwrap();
    }
}

#[test]
fn the_screen_follows_the_script() {
    let (screen, playlists, news) = (screen(), playlists(), all_news());
    for line in SCRIPT {
        let at = utc(line.at);
        let now = media_at(&playlists, &screen, berlin(), at)
            .unwrap_or_else(|| panic!("nothing shows at {}", line.at));
        let (item, started, ends) = line.media;
        assert_eq!(
            (now.item.as_str(), now.started_at, now.ends_at),
            (item, utc(started), utc(ends)),
            "media at {}",
            line.at
        );
        assert_eq!(now.playlist, playlists[0].id, "at {}", line.at);
        assert_eq!(
            titles(&news_at(&news, &screen, at)),
            line.news,
            "news at {}",
            line.at
        );
        // The public branch page: the same news, less what is only for a screen.
        let public: Vec<&str> = line
            .news
            .iter()
            .copied()
            .filter(|t| *t != "Lobby screen test")
            .collect();
        assert_eq!(titles(&branch_news(&news, &branch(), at)), public);
    }
}

#[test]
fn a_screen_of_the_other_branch_shows_its_own_playlist() {
    let other = Screen {
        id: ScreenId::from_u128(2),
        branch: OTHER_BRANCH,
        ..screen()
    };
    let news = all_news();
    for line in SCRIPT {
        let at = utc(line.at);
        let now = media_at(&playlists(), &other, berlin(), at).unwrap();
        assert_eq!(now.item, "other");
        let shown = titles(&news_at(&news, &other, at));
        assert!(shown.iter().any(|t| t == "Other branch closed"));
        assert!(!shown.iter().any(|t| t == "Lobby screen test"));
    }
}

#[test]
fn following_ends_at_never_skips_or_overlaps_through_the_night_of_the_change() {
    // A page that asks again at each `ends_at`, from Saturday evening to Monday noon.
    let (screen, playlists) = (screen(), playlists());
    let mut at = utc("2026-03-28T18:00:00Z");
    let end = utc("2026-03-30T10:00:00Z");
    let mut breakfast_from: Option<DateTime<Utc>> = None;
    while at < end {
        let now = media_at(&playlists, &screen, berlin(), at).unwrap();
        assert!(now.started_at <= at && at < now.ends_at);
        assert!(now.ends_at - at <= Duration::seconds(25));
        if now.item == "breakfast" && breakfast_from.is_none() {
            breakfast_from = Some(at);
        }
        at = now.ends_at;
    }
    // The first breakfast slot is on Monday morning, in summer time.
    let first = breakfast_from.unwrap();
    assert!(first >= utc("2026-03-30T05:00:00Z"));
    assert!(first < utc("2026-03-30T05:01:00Z"));
}

#[test]
fn the_manifest_for_the_weekend_and_for_monday() {
    let (screen, playlists) = (screen(), playlists());
    let weekend = manifest(
        &screen,
        &layout(),
        &playlists,
        berlin(),
        utc("2026-03-27T10:00:00Z"),
        utc("2026-03-30T05:00:00Z"),
    );
    assert_eq!(weekend.media, ["/media/welcome.jpg"]);
    let monday = manifest(
        &screen,
        &layout(),
        &playlists,
        berlin(),
        utc("2026-03-27T10:00:00Z"),
        utc("2026-03-30T06:00:00Z"),
    );
    assert_eq!(monday.media, ["/media/breakfast.jpg", "/media/welcome.jpg"]);
    assert!(monday.pages.is_empty());
}

#[test]
fn the_branch_opens_on_monday_in_summer_time() {
    let b = branch();
    assert!(!open_now(&b, None, utc("2026-03-28T10:00:00Z")));
    assert_eq!(
        next_opening(&b, None, utc("2026-03-28T10:00:00Z")),
        Some(utc("2026-03-30T07:00:00Z"))
    );
    assert!(open_now(&b, None, utc("2026-03-30T07:00:00Z")));
    assert!(!open_now(&b, None, utc("2026-03-30T06:59:59Z")));
}
