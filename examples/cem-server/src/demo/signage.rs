//! The demo's screens: one hall layout, a screen per branch in the branch's language, a
//! playlist of welcome texts, news, and each branch's address, location and holidays, so the
//! display board, the branch finder and the best-branch query have something to show.

use anyhow::Context as _;
use cem_core::chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use cem_core::{
    Area, BranchInfo, Content, GeoPoint, Holiday, Language, Layout, LayoutId, LocalTimeRange,
    LocalizedText, News, NewsId, OrganizationId, Playlist, PlaylistId, PlaylistItem, Priority,
    Schedule, Screen, ScreenId, SignageStore, Targets, Zone, ZoneKind,
};

use super::{BRANCHES, Kind, branch_id, demo_id};

fn text(en: &str, fa: &str) -> LocalizedText {
    LocalizedText::single(Language::en(), en).with(Language::fa(), fa)
}

fn zone(key: &str, kind: ZoneKind, (x, y, w, h): (u8, u8, u8, u8)) -> Zone {
    Zone {
        key: key.into(),
        kind,
        area: Area { x, y, w, h },
    }
}

/// The hall layout every demo screen shows.
pub(super) fn layout(organization: OrganizationId) -> Layout {
    Layout {
        id: LayoutId::from_u128(demo_id(Kind::Signage, 0, 1)),
        organization,
        name: "Hall".into(),
        zones: vec![
            zone("board", ZoneKind::NowServing { rows: 6 }, (0, 0, 40, 75)),
            zone(
                "recent",
                ZoneKind::RecentCalls { count: 5 },
                (40, 0, 20, 75),
            ),
            zone("media", ZoneKind::Media, (60, 0, 40, 60)),
            zone("waiting", ZoneKind::WaitingSummary, (60, 60, 25, 15)),
            zone("join", ZoneKind::JoinQr, (85, 60, 15, 15)),
            zone("news", ZoneKind::NewsTicker, (0, 75, 85, 25)),
            zone("clock", ZoneKind::Clock, (85, 75, 15, 25)),
        ],
    }
}

/// Writes the demo's layout, screens, playlist, news and branch information; `now` places the
/// news around the present.
///
/// # Errors
/// A store failed.
pub(super) async fn load(
    store: &dyn SignageStore,
    organization: OrganizationId,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let layout = layout(organization);
    store.put_layout(&layout).await.context("the demo layout")?;
    for (no, spec) in BRANCHES.iter().enumerate() {
        store
            .put_screen(&Screen {
                id: ScreenId::from_u128(demo_id(Kind::Signage, no + 1, 1)),
                organization,
                branch: branch_id(no),
                name: "Hall".into(),
                language: Language::new(spec.language),
                layout: layout.id,
                device: None,
            })
            .await
            .context("a demo screen")?;
    }
    let mornings = Schedule {
        times: vec![LocalTimeRange {
            start: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default(),
        }],
        ..Schedule::default()
    };
    let item = |key: &str, en: &str, fa: &str, schedule: Schedule| PlaylistItem {
        key: key.into(),
        content: Content::Text { text: text(en, fa) },
        duration_secs: 12,
        schedule,
    };
    store
        .put_playlist(&Playlist {
            id: PlaylistId::from_u128(demo_id(Kind::Signage, 0, 2)),
            organization,
            name: "Welcome".into(),
            items: vec![
                item(
                    "welcome",
                    "Welcome to Demo Bank",
                    "به بانک نمونه خوش آمدید",
                    Schedule::default(),
                ),
                item(
                    "app",
                    "Skip the line: take your ticket from your phone",
                    "بدون صف: نوبت خود را با تلفن همراه بگیرید",
                    Schedule::default(),
                ),
                item(
                    "coffee",
                    "Good morning! Coffee is on us until noon",
                    "صبح بخیر! تا ظهر مهمان ما باشید",
                    mornings,
                ),
            ],
            targets: Targets::All,
        })
        .await
        .context("the demo playlist")?;
    let news = |n: u64, title: LocalizedText, from: TimeDelta, days: i64, priority| News {
        id: NewsId::from_u128(demo_id(Kind::Signage, 0, 10 + n)),
        organization,
        title,
        body: LocalizedText::default(),
        publish_from: now - from,
        publish_until: Some(now + TimeDelta::days(days)),
        targets: Targets::All,
        priority,
    };
    for n in [
        news(
            1,
            text(
                "New: book your appointment online",
                "تازه: نوبت خود را آنلاین رزرو کنید",
            ),
            TimeDelta::days(3),
            30,
            Priority::Normal,
        ),
        news(
            2,
            text(
                "Card payments may be slow on Sunday night for maintenance",
                "پرداخت با کارت شب یکشنبه به‌دلیل به‌روزرسانی ممکن است کند باشد",
            ),
            TimeDelta::hours(2),
            3,
            Priority::High,
        ),
    ] {
        store.put_news(&n).await.context("demo news")?;
    }
    let places = [
        (
            text(
                "Unter den Linden 1, 10117 Berlin",
                "برلین، اونتر دن لیندن ۱",
            ),
            GeoPoint {
                lat: 52.5170,
                lon: 13.3889,
            },
            "+49301234567",
            [
                (12, 25, "Christmas Day", "کریسمس"),
                (12, 26, "Boxing Day", "روز دوم کریسمس"),
            ],
        ),
        (
            text(
                "200 Park Avenue, New York, NY 10166",
                "نیویورک، خیابان پارک ۲۰۰",
            ),
            GeoPoint {
                lat: 40.7536,
                lon: -73.9763,
            },
            "+12125550100",
            [
                (12, 25, "Christmas Day", "کریسمس"),
                (1, 1, "New Year's Day", "سال نو میلادی"),
            ],
        ),
        (
            text(
                "Valiasr Street 100, Tehran",
                "تهران، خیابان ولیعصر، پلاک ۱۰۰",
            ),
            GeoPoint {
                lat: 35.7219,
                lon: 51.4086,
            },
            "+982188001234",
            [(3, 21, "Nowruz", "نوروز"), (3, 22, "Nowruz", "نوروز")],
        ),
    ];
    let year = now
        .date_naive()
        .format("%Y")
        .to_string()
        .parse()
        .unwrap_or(2026);
    for (no, (address, location, phone, holidays)) in places.into_iter().enumerate() {
        let mut dates: Vec<Holiday> = Vec::new();
        for (month, day, en, fa) in holidays {
            for y in [year, year + 1] {
                if let Some(date) = NaiveDate::from_ymd_opt(y, month, day) {
                    dates.push(Holiday {
                        date,
                        name: text(en, fa),
                    });
                }
            }
        }
        store
            .put_branch_info(&BranchInfo {
                branch: branch_id(no),
                organization,
                address,
                location: Some(location),
                phone: Some(phone.into()),
                holidays: dates,
            })
            .await
            .context("a demo branch's information")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cem_store_memory::MemoryStore;

    use super::*;

    /// Every record validates, each branch has a screen in its language and a location.
    #[tokio::test]
    async fn the_demo_screens_news_and_branches_are_valid() {
        let now: DateTime<Utc> = "2026-11-25T11:00:00Z".parse().unwrap();
        let store = Arc::new(MemoryStore::new());
        let organization = OrganizationId::from_u128(demo_id(Kind::Organization, 0, 1));
        load(&*store, organization, now).await.unwrap();
        let layout = layout(organization);
        cem_signage::validate_layout(&layout).unwrap();
        for playlist in store.playlists(organization).await.unwrap() {
            cem_signage::validate_playlist(&playlist).unwrap();
        }
        let news = store.news(organization).await.unwrap();
        assert_eq!(news.len(), 2);
        for n in &news {
            cem_signage::validate_news(n).unwrap();
        }
        for (no, spec) in BRANCHES.iter().enumerate() {
            let screens = store.screens(branch_id(no)).await.unwrap();
            assert_eq!(screens.len(), 1);
            assert_eq!(screens[0].language, Language::new(spec.language));
            cem_signage::validate_screen(&screens[0]).unwrap();
            let info = store.branch_info(branch_id(no)).await.unwrap().unwrap();
            cem_signage::validate_branch_info(&info).unwrap();
            assert!(info.location.is_some());
        }
    }
}
