//! The conformance cases of [`SignageStore`], one per contract clause.

use std::collections::BTreeSet;
use std::sync::Arc;

use cem_core::chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use cem_core::{
    Area, BranchId, BranchInfo, Content, DEVICE_TAKEN, DeviceId, GeoPoint, Holiday, LAYOUT_IN_USE,
    Language, Layout, LayoutId, LocalTimeRange, LocalizedText, News, NewsId, OrganizationId,
    Playlist, PlaylistId, PlaylistItem, Priority, Schedule, Screen, ScreenId, SignageStore,
    StoreError, Targets, Zone, ZoneKind,
};

use crate::SignageHarness;
use crate::fixtures::{secs, t0};

const ORG: OrganizationId = OrganizationId::from_u128(0x5160);
const OTHER_ORG: OrganizationId = OrganizationId::from_u128(0x5161);
const BRANCH: BranchId = BranchId::from_u128(0x51601);
const OTHER_BRANCH: BranchId = BranchId::from_u128(0x51602);
const THIRD_BRANCH: BranchId = BranchId::from_u128(0x51603);

fn text(en: &str, fa: &str) -> LocalizedText {
    LocalizedText::single(Language::en(), en).with(Language::fa(), fa)
}

fn layout_id(n: u128) -> LayoutId {
    LayoutId::from_u128(0x1A70_0000 + n)
}

fn screen_id(n: u128) -> ScreenId {
    ScreenId::from_u128(0x5C00_0000 + n)
}

fn device_id(n: u128) -> DeviceId {
    DeviceId::from_u128(0xDE00_0000 + n)
}

fn playlist_id(n: u128) -> PlaylistId {
    PlaylistId::from_u128(0x9100_0000 + n)
}

fn news_id(n: u128) -> NewsId {
    NewsId::from_u128(0x4E00_0000 + n)
}

fn area(x: u8, y: u8, w: u8, h: u8) -> Area {
    Area { x, y, w, h }
}

/// Layout `n` of the organization, with a zone of every kind.
fn layout(n: u128, name: &str) -> Layout {
    let zone = |key: &str, kind, area| Zone {
        key: key.to_owned(),
        kind,
        area,
    };
    Layout {
        id: layout_id(n),
        organization: ORG,
        name: name.to_owned(),
        zones: vec![
            zone(
                "board",
                ZoneKind::NowServing { rows: 6 },
                area(0, 0, 60, 80),
            ),
            zone(
                "recent",
                ZoneKind::RecentCalls { count: 4 },
                area(60, 0, 40, 40),
            ),
            zone("media", ZoneKind::Media, area(60, 40, 40, 40)),
            zone("ticker", ZoneKind::NewsTicker, area(0, 90, 100, 10)),
            zone("clock", ZoneKind::Clock, area(90, 0, 10, 10)),
            zone("waiting", ZoneKind::WaitingSummary, area(0, 80, 80, 10)),
            zone("qr", ZoneKind::JoinQr, area(80, 80, 20, 10)),
        ],
    }
}

/// Screen `n` of the organization's branch, showing `layout`, without a device.
fn screen(n: u128, layout: LayoutId, name: &str) -> Screen {
    Screen {
        id: screen_id(n),
        organization: ORG,
        branch: BRANCH,
        name: name.to_owned(),
        language: Language::fa(),
        layout,
        device: None,
    }
}

/// `screen` signed in as device `device`.
fn on_device(screen: Screen, device: u128) -> Screen {
    Screen {
        device: Some(device_id(device)),
        ..screen
    }
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("a valid time")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

/// Playlist `n` of the organization, with content of every kind and a full schedule.
fn playlist(n: u128, name: &str) -> Playlist {
    let item = |key: &str, content, duration_secs, schedule| PlaylistItem {
        key: key.to_owned(),
        content,
        duration_secs,
        schedule,
    };
    Playlist {
        id: playlist_id(n),
        organization: ORG,
        name: name.to_owned(),
        items: vec![
            item(
                "welcome",
                Content::Image {
                    url: "https://cdn.example.org/welcome.png?v=2&lang=fa".to_owned(),
                },
                8,
                Schedule::default(),
            ),
            item(
                "ad",
                Content::Video {
                    url: "https://cdn.example.org/ad.mp4".to_owned(),
                },
                30,
                Schedule {
                    from: Some(date(2026, 12, 1)),
                    until: Some(date(2026, 12, 31)),
                    weekdays: vec![Weekday::Sat, Weekday::Sun, Weekday::Mon],
                    times: vec![LocalTimeRange {
                        start: time(8, 0),
                        end: time(12, 30),
                    }],
                },
            ),
            item(
                "rates",
                Content::WebPage {
                    url: "https://example.org/rates".to_owned(),
                },
                20,
                Schedule {
                    from: None,
                    until: Some(date(2027, 1, 15)),
                    weekdays: Vec::new(),
                    times: vec![
                        LocalTimeRange {
                            start: time(9, 0),
                            end: time(10, 0),
                        },
                        LocalTimeRange {
                            start: time(14, 0),
                            end: time(16, 45),
                        },
                    ],
                },
            ),
            item(
                "notice",
                Content::Text {
                    text: text("Masks \"please\"\nthank you", "لطفاً ماسک بزنید"),
                },
                1,
                Schedule::default(),
            ),
        ],
        targets: Targets::Branches(vec![BRANCH, OTHER_BRANCH]),
    }
}

/// News `n` of the organization, published from `from`.
fn news(n: u128, from: DateTime<Utc>) -> News {
    News {
        id: news_id(n),
        organization: ORG,
        title: text(&format!("News {n}"), "خبر"),
        body: text("The branch closes early today.", "شعبه امروز زودتر می‌بندد."),
        publish_from: from,
        publish_until: Some(from + secs(86_400)),
        targets: Targets::Screens(vec![screen_id(1), screen_id(2)]),
        priority: Priority::High,
    }
}

/// The information of `branch`, at the point given.
fn info(branch: BranchId, lat: f64, lon: f64) -> BranchInfo {
    BranchInfo {
        branch,
        organization: ORG,
        address: text("12 Vali-e Asr St., Tehran", "تهران، خیابان ولیعصر، پلاک ۱۲"),
        location: Some(GeoPoint { lat, lon }),
        phone: Some("+982112345678".to_owned()),
        holidays: vec![
            Holiday {
                date: date(2027, 3, 21),
                name: text("Nowruz", "نوروز"),
            },
            Holiday {
                date: date(2027, 4, 1),
                name: LocalizedText::new(),
            },
        ],
    }
}

fn conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) -> String {
    match r {
        Err(StoreError::Conflict { what }) => what,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn is_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::NotFound { .. }))
}

async fn one(h: &dyn SignageHarness) -> Arc<dyn SignageStore> {
    h.open_signage(1).await.remove(0)
}

/// A layout reads back field for field; putting its id again replaces it.
pub async fn layouts_round_trip_and_putting_replaces(h: &dyn SignageHarness) {
    let s = one(h).await;
    let first = layout(1, "Hall");
    s.put_layout(&first).await.unwrap();
    assert_eq!(s.layout(first.id).await.unwrap(), first);

    let replaced = Layout {
        name: "Hall — big screen".to_owned(),
        zones: vec![Zone {
            key: "board".to_owned(),
            kind: ZoneKind::NowServing { rows: 12 },
            area: area(0, 0, 100, 100),
        }],
        ..first.clone()
    };
    s.put_layout(&replaced).await.unwrap();
    assert_eq!(s.layout(first.id).await.unwrap(), replaced);
    assert_eq!(s.layouts(ORG).await.unwrap(), [replaced]);
}

/// A screen reads back by id, by its device and among its branch's; replacing it may free or
/// move its device.
pub async fn screens_round_trip_by_id_branch_and_device(h: &dyn SignageHarness) {
    let s = one(h).await;
    s.put_layout(&layout(1, "Hall")).await.unwrap();
    s.put_layout(&layout(2, "Counter")).await.unwrap();
    let signed_in = on_device(screen(1, layout_id(1), "Hall, left"), 1);
    let bare = Screen {
        branch: OTHER_BRANCH,
        language: Language::new("ar"),
        ..screen(2, layout_id(2), "Counter 3")
    };
    s.put_screen(&signed_in).await.unwrap();
    s.put_screen(&bare).await.unwrap();
    assert_eq!(s.screen(signed_in.id).await.unwrap(), signed_in);
    assert_eq!(s.screen(bare.id).await.unwrap(), bare);
    assert_eq!(
        s.screen_of_device(device_id(1)).await.unwrap(),
        Some(signed_in.clone())
    );
    assert_eq!(s.screen_of_device(device_id(9)).await.unwrap(), None);
    assert_eq!(
        s.screens(BRANCH).await.unwrap(),
        std::slice::from_ref(&signed_in)
    );
    assert_eq!(
        s.screens(OTHER_BRANCH).await.unwrap(),
        std::slice::from_ref(&bare)
    );
    assert_eq!(s.screens(THIRD_BRANCH).await.unwrap(), []);

    // Replaced: another layout, branch, name and device; the old device is free.
    let moved = Screen {
        branch: THIRD_BRANCH,
        name: "Entrance".to_owned(),
        layout: layout_id(2),
        ..on_device(signed_in.clone(), 2)
    };
    s.put_screen(&moved).await.unwrap();
    assert_eq!(s.screen(moved.id).await.unwrap(), moved);
    assert_eq!(s.screen_of_device(device_id(1)).await.unwrap(), None);
    assert_eq!(
        s.screen_of_device(device_id(2)).await.unwrap(),
        Some(moved.clone())
    );
    assert_eq!(s.screens(BRANCH).await.unwrap(), []);
    assert_eq!(
        s.screens(THIRD_BRANCH).await.unwrap(),
        std::slice::from_ref(&moved)
    );

    // Signed out.
    let signed_out = Screen {
        device: None,
        ..moved
    };
    s.put_screen(&signed_out).await.unwrap();
    assert_eq!(s.screen_of_device(device_id(2)).await.unwrap(), None);
    assert_eq!(s.screen(signed_out.id).await.unwrap(), signed_out);

    s.delete_screen(bare.id).await.unwrap();
    assert!(is_not_found(s.screen(bare.id).await));
    assert_eq!(s.screens(OTHER_BRANCH).await.unwrap(), []);
}

/// A playlist with content of every kind, schedules and localized text reads back field for
/// field; putting its id again replaces it; deleting removes it.
pub async fn playlists_round_trip_and_putting_replaces(h: &dyn SignageHarness) {
    let s = one(h).await;
    let first = playlist(1, "Winter");
    s.put_playlist(&first).await.unwrap();
    assert_eq!(s.playlist(first.id).await.unwrap(), first);

    for targets in [
        Targets::All,
        Targets::Screens(vec![screen_id(3)]),
        Targets::Branches(Vec::new()),
    ] {
        let replaced = Playlist {
            name: "Winter, shorter".to_owned(),
            items: first.items[1..].to_vec(),
            targets,
            ..first.clone()
        };
        s.put_playlist(&replaced).await.unwrap();
        assert_eq!(s.playlist(first.id).await.unwrap(), replaced);
        assert_eq!(s.playlists(ORG).await.unwrap(), [replaced]);
    }

    s.delete_playlist(first.id).await.unwrap();
    assert!(is_not_found(s.playlist(first.id).await));
    assert_eq!(s.playlists(ORG).await.unwrap(), []);
}

/// News reads back field for field, with and without an end; putting its id again replaces
/// it; the organization's news come by `publish_from` then id.
pub async fn news_round_trip_and_list_by_publication_then_id(h: &dyn SignageHarness) {
    let s = one(h).await;
    let later = news(1, t0() + secs(3600));
    let open_ended = News {
        publish_until: None,
        targets: Targets::All,
        priority: Priority::Urgent,
        body: LocalizedText::new(),
        ..news(2, t0())
    };
    // Published at the same instant as the first: the id decides.
    let tied = News {
        targets: Targets::Branches(vec![BRANCH]),
        priority: Priority::Normal,
        ..news(3, t0())
    };
    for n in [&later, &tied, &open_ended] {
        s.put_news(n).await.unwrap();
    }
    assert_eq!(s.news_item(open_ended.id).await.unwrap(), open_ended);
    assert_eq!(s.news_item(later.id).await.unwrap(), later);
    assert_eq!(
        s.news(ORG).await.unwrap(),
        [open_ended.clone(), tied.clone(), later.clone()]
    );

    // Moved before the others, and withdrawn.
    let moved = News {
        publish_from: t0() - secs(60),
        publish_until: Some(t0()),
        ..later
    };
    s.put_news(&moved).await.unwrap();
    assert_eq!(s.news_item(moved.id).await.unwrap(), moved);
    assert_eq!(
        s.news(ORG).await.unwrap(),
        [moved.clone(), open_ended.clone(), tied.clone()]
    );

    s.delete_news(tied.id).await.unwrap();
    assert!(is_not_found(s.news_item(tied.id).await));
    assert_eq!(s.news(ORG).await.unwrap(), [moved, open_ended]);
}

/// A branch's information reads back field for field, its coordinates exactly to the bit;
/// `None` before any was stored; putting it again replaces it; the organization's come by
/// branch id.
pub async fn branch_info_round_trips_with_exact_coordinates(h: &dyn SignageHarness) {
    let s = one(h).await;
    assert_eq!(s.branch_info(BRANCH).await.unwrap(), None);
    assert_eq!(s.branch_infos(ORG).await.unwrap(), []);

    // Coordinates whose shortest decimal form has 17 digits, and extremes: a store that
    // rounds them through text loses bits.
    let points = [
        (35.699_739_202_218_4, 51.338_097_200_000_01),
        (-56.637_342_654_637_244, 0.1 + 0.2),
        (-90.0, 180.0),
        (f64::MIN_POSITIVE, -f64::EPSILON),
        (89.999_999_999_999_99, -179.999_999_999_999_97),
    ];
    for (lat, lon) in points {
        let stored = info(BRANCH, lat, lon);
        s.put_branch_info(&stored).await.unwrap();
        let read = s.branch_info(BRANCH).await.unwrap().expect("stored");
        let point = read.location.expect("a location");
        assert_eq!(
            (point.lat.to_bits(), point.lon.to_bits()),
            (lat.to_bits(), lon.to_bits()),
            "{lat} {lon}"
        );
        assert_eq!(read, stored);
    }

    // Nothing but the branch and its organization.
    let bare = BranchInfo {
        branch: OTHER_BRANCH,
        organization: ORG,
        address: LocalizedText::new(),
        location: None,
        phone: None,
        holidays: Vec::new(),
    };
    s.put_branch_info(&bare).await.unwrap();
    assert_eq!(
        s.branch_info(OTHER_BRANCH).await.unwrap(),
        Some(bare.clone())
    );

    // Replaced, without a location now.
    let replaced = BranchInfo {
        location: None,
        phone: None,
        ..info(BRANCH, 0.0, 0.0)
    };
    s.put_branch_info(&replaced).await.unwrap();
    assert_eq!(s.branch_info(BRANCH).await.unwrap(), Some(replaced.clone()));
    assert_eq!(s.branch_info(THIRD_BRANCH).await.unwrap(), None);
    // By branch id: BRANCH < OTHER_BRANCH.
    assert_eq!(s.branch_infos(ORG).await.unwrap(), [replaced, bare]);
}

/// Layouts, playlists and a branch's screens come by name (compared as bytes) then id.
pub async fn lists_come_by_name_then_id(h: &dyn SignageHarness) {
    let s = one(h).await;
    // Put in an order that is none of the expected ones; ids and names disagree.
    let names = [(5, "b"), (1, "b"), (4, "B"), (2, "ä"), (3, "a"), (6, "Z")];
    for (n, name) in names {
        s.put_layout(&layout(n, name)).await.unwrap();
        s.put_playlist(&playlist(n, name)).await.unwrap();
    }
    for (n, name) in names {
        s.put_screen(&screen(n, layout_id(1), name)).await.unwrap();
    }
    // "B" < "Z" < "a" < "b" < "ä" in bytes; the two "b" by id.
    let expected = [4, 6, 3, 1, 5, 2];
    let layouts: Vec<LayoutId> = s.layouts(ORG).await.unwrap().iter().map(|l| l.id).collect();
    assert_eq!(layouts, expected.map(layout_id));
    let playlists: Vec<PlaylistId> = s
        .playlists(ORG)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(playlists, expected.map(playlist_id));
    let screens: Vec<ScreenId> = s
        .screens(BRANCH)
        .await
        .unwrap()
        .iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(screens, expected.map(screen_id));
}

/// Each list holds its organization's records only, and a record never changes organization:
/// putting another organization's id conflicts and leaves the record as it was.
pub async fn records_stay_in_their_organization(h: &dyn SignageHarness) {
    let s = one(h).await;
    let ours = layout(1, "Ours");
    let theirs = Layout {
        organization: OTHER_ORG,
        ..layout(2, "Theirs")
    };
    s.put_layout(&ours).await.unwrap();
    s.put_layout(&theirs).await.unwrap();
    let our_screen = screen(1, ours.id, "Ours");
    let their_screen = Screen {
        organization: OTHER_ORG,
        branch: OTHER_BRANCH,
        ..screen(2, theirs.id, "Theirs")
    };
    s.put_screen(&our_screen).await.unwrap();
    s.put_screen(&their_screen).await.unwrap();
    let our_playlist = playlist(1, "Ours");
    let their_playlist = Playlist {
        organization: OTHER_ORG,
        ..playlist(2, "Theirs")
    };
    s.put_playlist(&our_playlist).await.unwrap();
    s.put_playlist(&their_playlist).await.unwrap();
    let our_news = news(1, t0());
    let their_news = News {
        organization: OTHER_ORG,
        ..news(2, t0())
    };
    s.put_news(&our_news).await.unwrap();
    s.put_news(&their_news).await.unwrap();
    let our_info = info(BRANCH, 35.7, 51.4);
    let their_info = BranchInfo {
        organization: OTHER_ORG,
        ..info(OTHER_BRANCH, 29.6, 52.5)
    };
    s.put_branch_info(&our_info).await.unwrap();
    s.put_branch_info(&their_info).await.unwrap();

    assert_eq!(s.layouts(ORG).await.unwrap(), std::slice::from_ref(&ours));
    assert_eq!(
        s.layouts(OTHER_ORG).await.unwrap(),
        std::slice::from_ref(&theirs)
    );
    assert_eq!(
        s.playlists(ORG).await.unwrap(),
        std::slice::from_ref(&our_playlist)
    );
    assert_eq!(
        s.playlists(OTHER_ORG).await.unwrap(),
        std::slice::from_ref(&their_playlist)
    );
    assert_eq!(s.news(ORG).await.unwrap(), std::slice::from_ref(&our_news));
    assert_eq!(
        s.news(OTHER_ORG).await.unwrap(),
        std::slice::from_ref(&their_news)
    );
    assert_eq!(
        s.branch_infos(ORG).await.unwrap(),
        std::slice::from_ref(&our_info)
    );
    assert_eq!(
        s.branch_infos(OTHER_ORG).await.unwrap(),
        std::slice::from_ref(&their_info)
    );

    // The other organization's ids, put as ours.
    conflict(
        s.put_layout(&Layout {
            organization: ORG,
            ..theirs.clone()
        })
        .await,
    );
    // With our layout, so only the screen's owner stands in the way.
    conflict(
        s.put_screen(&Screen {
            organization: ORG,
            layout: ours.id,
            ..their_screen.clone()
        })
        .await,
    );
    conflict(
        s.put_playlist(&Playlist {
            organization: ORG,
            ..their_playlist.clone()
        })
        .await,
    );
    conflict(
        s.put_news(&News {
            organization: ORG,
            ..their_news.clone()
        })
        .await,
    );
    conflict(
        s.put_branch_info(&BranchInfo {
            organization: ORG,
            ..their_info.clone()
        })
        .await,
    );

    assert_eq!(s.layout(theirs.id).await.unwrap(), theirs);
    assert_eq!(s.screen(their_screen.id).await.unwrap(), their_screen);
    assert_eq!(s.playlist(their_playlist.id).await.unwrap(), their_playlist);
    assert_eq!(s.news_item(their_news.id).await.unwrap(), their_news);
    assert_eq!(s.branch_info(OTHER_BRANCH).await.unwrap(), Some(their_info));
    assert_eq!(s.layouts(ORG).await.unwrap(), [ours]);
    assert_eq!(s.screens(BRANCH).await.unwrap(), [our_screen]);
    assert_eq!(s.screens(OTHER_BRANCH).await.unwrap(), [their_screen]);
}

/// Reading or deleting what is not stored is `NotFound`; so is deleting twice.
pub async fn unknown_records_are_not_found(h: &dyn SignageHarness) {
    let s = one(h).await;
    assert!(is_not_found(s.layout(layout_id(1)).await));
    assert!(is_not_found(s.screen(screen_id(1)).await));
    assert!(is_not_found(s.playlist(playlist_id(1)).await));
    assert!(is_not_found(s.news_item(news_id(1)).await));
    assert!(is_not_found(s.delete_layout(layout_id(1)).await));
    assert!(is_not_found(s.delete_screen(screen_id(1)).await));
    assert!(is_not_found(s.delete_playlist(playlist_id(1)).await));
    assert!(is_not_found(s.delete_news(news_id(1)).await));

    s.put_layout(&layout(1, "Hall")).await.unwrap();
    s.put_screen(&screen(1, layout_id(1), "Hall"))
        .await
        .unwrap();
    s.put_playlist(&playlist(1, "Winter")).await.unwrap();
    s.put_news(&news(1, t0())).await.unwrap();
    s.delete_screen(screen_id(1)).await.unwrap();
    s.delete_layout(layout_id(1)).await.unwrap();
    s.delete_playlist(playlist_id(1)).await.unwrap();
    s.delete_news(news_id(1)).await.unwrap();
    assert!(is_not_found(s.delete_screen(screen_id(1)).await));
    assert!(is_not_found(s.delete_layout(layout_id(1)).await));
    assert!(is_not_found(s.delete_playlist(playlist_id(1)).await));
    assert!(is_not_found(s.delete_news(news_id(1)).await));
    assert_eq!(s.layouts(ORG).await.unwrap(), []);
    assert_eq!(s.screens(BRANCH).await.unwrap(), []);
    assert_eq!(s.playlists(ORG).await.unwrap(), []);
    assert_eq!(s.news(ORG).await.unwrap(), []);
}

/// A device is one screen's at most: another screen taking it is `device_taken` and changes
/// nothing; the screen itself may be put again with it; once freed, it may move.
pub async fn a_device_is_one_screens_at_most(h: &dyn SignageHarness) {
    let s = one(h).await;
    s.put_layout(&layout(1, "Hall")).await.unwrap();
    let first = on_device(screen(1, layout_id(1), "First"), 1);
    s.put_screen(&first).await.unwrap();

    let second = on_device(screen(2, layout_id(1), "Second"), 1);
    assert_eq!(conflict(s.put_screen(&second).await), DEVICE_TAKEN);
    assert!(is_not_found(s.screen(second.id).await));
    // An existing screen may not take it either.
    let bare = screen(3, layout_id(1), "Third");
    s.put_screen(&bare).await.unwrap();
    assert_eq!(
        conflict(s.put_screen(&on_device(bare.clone(), 1)).await),
        DEVICE_TAKEN
    );
    assert_eq!(s.screen(bare.id).await.unwrap(), bare);
    // Screens without a device are many.
    s.put_screen(&screen(4, layout_id(1), "Fourth"))
        .await
        .unwrap();

    let renamed = Screen {
        name: "First, renamed".to_owned(),
        ..first.clone()
    };
    s.put_screen(&renamed).await.unwrap();
    assert_eq!(
        s.screen_of_device(device_id(1)).await.unwrap(),
        Some(renamed.clone())
    );

    // Freed by signing out, the device moves.
    s.put_screen(&Screen {
        device: None,
        ..renamed.clone()
    })
    .await
    .unwrap();
    s.put_screen(&second).await.unwrap();
    assert_eq!(
        s.screen_of_device(device_id(1)).await.unwrap(),
        Some(second.clone())
    );
    // Freed by deleting its screen, it moves again.
    s.delete_screen(second.id).await.unwrap();
    s.put_screen(&on_device(bare.clone(), 1)).await.unwrap();
    assert_eq!(
        s.screen_of_device(device_id(1)).await.unwrap(),
        Some(on_device(bare, 1))
    );
}

/// A screen's layout must exist in the screen's organization: an unknown layout, or another
/// organization's, is `NotFound` and stores nothing.
pub async fn a_screen_needs_a_layout_of_its_organization(h: &dyn SignageHarness) {
    let s = one(h).await;
    s.put_layout(&layout(1, "Ours")).await.unwrap();
    let theirs = Layout {
        organization: OTHER_ORG,
        ..layout(2, "Theirs")
    };
    s.put_layout(&theirs).await.unwrap();

    assert!(is_not_found(
        s.put_screen(&screen(1, layout_id(9), "Unknown")).await
    ));
    assert!(is_not_found(
        s.put_screen(&screen(1, theirs.id, "Theirs")).await
    ));
    assert!(is_not_found(s.screen(screen_id(1)).await));

    let stored = screen(1, layout_id(1), "Ours");
    s.put_screen(&stored).await.unwrap();
    // Replacing is held to the same rule, and keeps the screen as it was.
    assert!(is_not_found(
        s.put_screen(&screen(1, layout_id(9), "Unknown")).await
    ));
    assert!(is_not_found(
        s.put_screen(&screen(1, theirs.id, "Theirs")).await
    ));
    assert_eq!(s.screen(stored.id).await.unwrap(), stored);
    assert_eq!(s.screens(BRANCH).await.unwrap(), [stored]);
}

/// A layout a screen shows is not deleted (`layout_in_use`); once no screen shows it, it is.
pub async fn a_layout_in_use_is_not_deleted(h: &dyn SignageHarness) {
    let s = one(h).await;
    let hall = layout(1, "Hall");
    s.put_layout(&hall).await.unwrap();
    s.put_layout(&layout(2, "Other")).await.unwrap();
    let first = screen(1, hall.id, "First");
    let second = screen(2, hall.id, "Second");
    s.put_screen(&first).await.unwrap();
    s.put_screen(&second).await.unwrap();

    assert_eq!(conflict(s.delete_layout(hall.id).await), LAYOUT_IN_USE);
    assert_eq!(s.layout(hall.id).await.unwrap(), hall);
    // One screen shows another layout now; the other still shows it.
    s.put_screen(&screen(1, layout_id(2), "First"))
        .await
        .unwrap();
    assert_eq!(conflict(s.delete_layout(hall.id).await), LAYOUT_IN_USE);
    s.delete_screen(second.id).await.unwrap();
    s.delete_layout(hall.id).await.unwrap();
    assert!(is_not_found(s.layout(hall.id).await));
    assert_eq!(s.layouts(ORG).await.unwrap(), [layout(2, "Other")]);
}

/// Of clients storing screens that show a layout and clients deleting it, across handles,
/// either the layout stays and every screen stored shows it, or it is gone and no screen
/// shows it: never a screen showing a deleted layout.
pub async fn concurrent_screens_and_deletes_of_one_layout_never_orphan_a_screen(
    h: &dyn SignageHarness,
) {
    const ROUNDS: u128 = 6;
    const CLIENTS: u128 = 8;
    let handles = h.open_signage(4).await;
    let s = Arc::clone(&handles[0]);
    for round in 0..ROUNDS {
        let base = round * 100;
        let target = layout(base + 1, "Target");
        let elsewhere = layout(base + 2, "Elsewhere");
        s.put_layout(&target).await.unwrap();
        s.put_layout(&elsewhere).await.unwrap();
        // Half the clients move a stored screen onto the layout, half store a new one.
        for n in 0..CLIENTS / 2 {
            let id = base + n;
            s.put_screen(&screen(id, elsewhere.id, "Moved"))
                .await
                .unwrap();
        }

        let mut puts = Vec::new();
        let mut deletes = Vec::new();
        for n in 0..CLIENTS {
            let id = base + n;
            let putter = Arc::clone(&handles[n as usize % handles.len()]);
            let shown = Screen {
                device: Some(device_id(id)),
                ..screen(id, target.id, "Shows the target")
            };
            puts.push(tokio::spawn(async move {
                let result = putter.put_screen(&shown).await;
                (shown.id, result)
            }));
            let deleter = Arc::clone(&handles[(n as usize + 1) % handles.len()]);
            let doomed = target.id;
            deletes.push(tokio::spawn(
                async move { deleter.delete_layout(doomed).await },
            ));
        }
        let mut stored = BTreeSet::new();
        for t in puts {
            match t.await.unwrap() {
                (id, Ok(())) => {
                    stored.insert(id);
                }
                (_, Err(StoreError::NotFound { .. })) => {}
                (id, other) => panic!("screen {id}: {other:?}"),
            }
        }
        let mut deleted = 0;
        for t in deletes {
            match t.await.unwrap() {
                Ok(()) => deleted += 1,
                Err(StoreError::NotFound { .. }) => {}
                Err(StoreError::Conflict { what }) if what == LAYOUT_IN_USE => {}
                other => panic!("deleting layout {}: {other:?}", target.id),
            }
        }

        let reader = &handles[3];
        let exists = match reader.layout(target.id).await {
            Ok(read) => {
                assert_eq!(read, target);
                true
            }
            Err(StoreError::NotFound { .. }) => false,
            Err(e) => panic!("reading layout {}: {e:?}", target.id),
        };
        let showing: BTreeSet<ScreenId> = reader
            .screens(BRANCH)
            .await
            .unwrap()
            .iter()
            .filter(|x| x.layout == target.id)
            .map(|x| x.id)
            .collect();
        // What a client was told is what is stored.
        assert_eq!(showing, stored, "round {round}");
        if exists {
            assert_eq!(deleted, 0, "round {round}: a delete succeeded");
        } else {
            assert_eq!(deleted, 1, "round {round}: one delete wins");
            assert!(showing.is_empty(), "round {round}: {showing:?} orphaned");
        }

        // Clean up for the next round's branch listing.
        for x in reader.screens(BRANCH).await.unwrap() {
            reader.delete_screen(x.id).await.unwrap();
        }
    }
}

/// Of clients giving one device to different screens at once, across handles, exactly one
/// succeeds; the others are `device_taken`.
pub async fn concurrent_puts_of_one_device_have_one_winner(h: &dyn SignageHarness) {
    const CLIENTS: u128 = 8;
    let handles = h.open_signage(4).await;
    handles[0].put_layout(&layout(1, "Hall")).await.unwrap();
    let mut tasks = Vec::new();
    for n in 1..=CLIENTS {
        let s = Arc::clone(&handles[n as usize % handles.len()]);
        let claimed = on_device(screen(n, layout_id(1), "Claims"), 1);
        tasks.push(tokio::spawn(async move {
            let result = s.put_screen(&claimed).await;
            (claimed, result)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (x, Ok(())) => winners.push(x),
            (_, Err(StoreError::Conflict { what })) if what == DEVICE_TAKEN => {}
            (x, other) => panic!("screen {}: {other:?}", x.id),
        }
    }
    assert_eq!(winners.len(), 1, "one winner");
    let s = &handles[2];
    assert_eq!(
        s.screen_of_device(device_id(1)).await.unwrap(),
        Some(winners[0].clone())
    );
    assert_eq!(s.screens(BRANCH).await.unwrap(), winners);
}

/// A piece of news keeps its instants to the microsecond (finer digits are cut), and the
/// list orders by the instants kept.
pub async fn news_instants_are_kept_to_the_microsecond(h: &dyn SignageHarness) {
    let s = one(h).await;
    let fine = |t: DateTime<Utc>| t + Duration::nanoseconds(999);
    let cut = |t: DateTime<Utc>| {
        DateTime::from_timestamp_micros(t.timestamp_micros()).expect("a valid instant")
    };
    // Before the epoch too, where cutting and rounding toward zero differ.
    let early = News {
        publish_from: fine(DateTime::from_timestamp_micros(-1_500_001).expect("valid")),
        publish_until: Some(fine(t0())),
        ..news(1, t0())
    };
    let a = News {
        publish_from: fine(t0() + Duration::microseconds(1)),
        ..news(2, t0())
    };
    // Apart by nanoseconds from `a` only: the same instant once cut, so the id decides.
    let b = News {
        publish_from: t0() + Duration::microseconds(1),
        publish_until: None,
        ..news(3, t0())
    };
    for n in [&b, &a, &early] {
        s.put_news(n).await.unwrap();
    }
    let kept = |n: &News| News {
        publish_from: cut(n.publish_from),
        publish_until: n.publish_until.map(cut),
        ..n.clone()
    };
    assert_eq!(s.news_item(early.id).await.unwrap(), kept(&early));
    assert_eq!(s.news_item(a.id).await.unwrap(), kept(&a));
    assert_eq!(s.news_item(b.id).await.unwrap(), b);
    assert_eq!(
        s.news(ORG).await.unwrap(),
        [kept(&early), kept(&a), b.clone()]
    );
    // Put again as read, nothing changes.
    s.put_news(&kept(&a)).await.unwrap();
    assert_eq!(s.news_item(a.id).await.unwrap(), kept(&a));
}
