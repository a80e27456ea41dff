//! Ready-made screens, layouts, playlists, news and a branch for tests, examples and
//! documentation.

use cem_core::chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use cem_core::chrono_tz::Tz;
use cem_core::{
    Area, Branch, BranchId, Content, Language, Layout, LayoutId, LocalizedText, News, NewsId,
    OpeningHours, OrganizationId, Playlist, PlaylistId, PlaylistItem, Priority, QueueSettings,
    Schedule, Screen, ScreenId, Targets, Zone, ZoneKind,
};

/// The organization of every record here.
pub const ORGANIZATION: OrganizationId = OrganizationId::from_u128(1);
/// The branch of [`screen`] and [`branch`].
pub const BRANCH: BranchId = BranchId::from_u128(1);
/// Another branch of the organization.
pub const OTHER_BRANCH: BranchId = BranchId::from_u128(2);
/// The screen of [`screen`].
pub const SCREEN: ScreenId = ScreenId::from_u128(1);
/// The layout of [`layout`].
pub const LAYOUT: LayoutId = LayoutId::from_u128(1);

/// Europe/Berlin: UTC+1, UTC+2 from the last Sunday of March to the last Sunday of October.
pub fn berlin() -> Tz {
    cem_core::chrono_tz::Europe::Berlin
}

/// Asia/Tehran: UTC+3:30, no daylight-saving time since 2022.
pub fn tehran() -> Tz {
    cem_core::chrono_tz::Asia::Tehran
}

/// A local time of day.
///
/// # Panics
/// On an hour or minute out of range.
pub fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid time of day")
}

/// A local date.
///
/// # Panics
/// On a date that does not exist.
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// An instant in RFC 3339 form (`2026-03-27T06:00:00Z`).
///
/// # Panics
/// On text that is not one.
pub fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("an RFC 3339 instant")
}

/// The screen [`SCREEN`] in [`BRANCH`], speaking English, showing [`LAYOUT`].
pub fn screen() -> Screen {
    Screen {
        id: SCREEN,
        organization: ORGANIZATION,
        branch: BRANCH,
        name: "Hall, left".into(),
        language: Language::en(),
        layout: LAYOUT,
        device: None,
    }
}

/// The layout [`LAYOUT`]: the now-serving board on the left, media on the right above a news
/// ticker.
pub fn layout() -> Layout {
    let zone = |key: &str, kind, x, y, w, h| Zone {
        key: key.into(),
        kind,
        area: Area { x, y, w, h },
    };
    Layout {
        id: LAYOUT,
        organization: ORGANIZATION,
        name: "Board and media".into(),
        zones: vec![
            zone("board", ZoneKind::NowServing { rows: 6 }, 0, 0, 40, 100),
            zone("media", ZoneKind::Media, 40, 0, 60, 85),
            zone("news", ZoneKind::NewsTicker, 40, 85, 60, 15),
        ],
    }
}

/// An image item `key` at `/media/{key}.jpg`, shown `secs` seconds, at any time.
pub fn image(key: &str, secs: u32) -> PlaylistItem {
    PlaylistItem {
        key: key.into(),
        content: Content::Image {
            url: format!("/media/{key}.jpg"),
        },
        duration_secs: secs,
        schedule: Schedule::default(),
    }
}

/// The playlist `PlaylistId::from_u128(n)` of [`ORGANIZATION`].
pub fn playlist(n: u128, items: Vec<PlaylistItem>, targets: Targets) -> Playlist {
    Playlist {
        id: PlaylistId::from_u128(n),
        organization: ORGANIZATION,
        name: format!("Playlist {n}"),
        items,
        targets,
    }
}

/// The news `NewsId::from_u128(n)` of [`ORGANIZATION`] for every screen, titled `title` in
/// English.
pub fn news(
    n: u128,
    title: &str,
    priority: Priority,
    publish_from: DateTime<Utc>,
    publish_until: Option<DateTime<Utc>>,
) -> News {
    News {
        id: NewsId::from_u128(n),
        organization: ORGANIZATION,
        title: LocalizedText::single(Language::en(), title),
        body: LocalizedText::new(),
        publish_from,
        publish_until,
        targets: Targets::All,
        priority,
    }
}

/// The branch [`BRANCH`] in Berlin, open Monday to Friday 09:00–17:00.
pub fn branch() -> Branch {
    Branch {
        id: BRANCH,
        organization: ORGANIZATION,
        name: LocalizedText::single(Language::en(), "Mitte"),
        time_zone: berlin(),
        opening_hours: OpeningHours::weekly(
            &[
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            t(9, 0),
            t(17, 0),
        ),
        queue: QueueSettings::default(),
    }
}
