//! The shape of signage records: check them before storing.
//!
//! # Rules
//! - Keys (of zones and of playlist items) are unique in their record and hold 1 to
//!   [`MAX_KEY_LEN`] characters of `[a-z0-9_]`: pages and caches name things by them.
//! - Names shown to administrators are not blank.
//! - A layout has at least one zone; a zone's area lies within the screen (`x + w ≤ 100`,
//!   `y + h ≤ 100`) and is at least 1 % wide and high; a board shows 1 to [`MAX_ROWS`] rows.
//! - A playlist item shows 1 s to [`MAX_ITEM_SECS`] each time. Its URL is `http(s)://host…`
//!   or a path on the server (`/media/x.jpg`), at most [`MAX_URL_LEN`] bytes, without spaces
//!   or control characters: anything else (`javascript:`, `data:`, `//host`) is refused, as a
//!   screen loads it without a person looking. A text has a translation.
//! - A schedule's `from` is not after its `until`, and each time range ends after it starts
//!   (a range never spans midnight).
//! - A list of target branches or screens names at least one: an empty list would show to
//!   nobody, which is almost always a mistake (withdraw news with `publish_until` instead).
//! - News has a title; `publish_until`, when given, is after `publish_from`.
//! - A screen's language is a tag like `en` or `fa-IR`.
//! - Branch information: coordinates finite, latitude −90..=90, longitude −180..=180;
//!   one holiday per date; a phone number, when given, is not blank.

use std::collections::HashSet;

use cem_core::{
    BranchInfo, Content, Layout, News, Playlist, Schedule, Screen, Targets, ValidationError,
    ZoneKind,
};

use crate::error::SignageError;

/// The longest key of a zone or a playlist item.
pub const MAX_KEY_LEN: usize = 64;
/// The most rows a now-serving board or a list of recent calls shows.
pub const MAX_ROWS: u8 = 20;
/// The longest an item shows at a time: a day.
pub const MAX_ITEM_SECS: u32 = 86_400;
/// The longest URL of a media item.
pub const MAX_URL_LEN: usize = 2048;

/// Checks a layout against the [rules](self#rules).
///
/// # Errors
/// [`SignageError::InvalidLayout`] naming the first field that breaks a rule.
pub fn validate_layout(layout: &Layout) -> Result<(), SignageError> {
    let fail = SignageError::InvalidLayout;
    not_blank(&layout.name, "name").map_err(fail)?;
    if layout.zones.is_empty() {
        return Err(fail(invalid("zones", "a layout has at least one zone")));
    }
    let mut keys = HashSet::new();
    for (i, zone) in layout.zones.iter().enumerate() {
        check_key(&zone.key, format!("zones[{i}].key")).map_err(fail)?;
        if !keys.insert(zone.key.as_str()) {
            return Err(fail(ValidationError::DuplicateId {
                kind: "zone",
                id: zone.key.clone(),
            }));
        }
        let field = |f: &str| format!("zones.{}.{f}", zone.key);
        let a = zone.area;
        if a.w == 0 || a.h == 0 {
            return Err(fail(invalid(
                field("area"),
                "must be at least 1 % wide and high",
            )));
        }
        if u16::from(a.x) + u16::from(a.w) > 100 || u16::from(a.y) + u16::from(a.h) > 100 {
            return Err(fail(invalid(
                field("area"),
                "must lie within the screen (x + w and y + h at most 100)",
            )));
        }
        let rows = match zone.kind {
            ZoneKind::NowServing { rows } => Some(("rows", rows)),
            ZoneKind::RecentCalls { count } => Some(("count", count)),
            _ => None,
        };
        if let Some((name, n)) = rows
            && !(1..=MAX_ROWS).contains(&n)
        {
            return Err(fail(invalid(
                field(name),
                format!("must be 1 to {MAX_ROWS}"),
            )));
        }
    }
    Ok(())
}

/// Checks a playlist against the [rules](self#rules). A playlist without items is valid: it
/// shows nothing.
///
/// # Errors
/// [`SignageError::InvalidPlaylist`] naming the first field that breaks a rule.
pub fn validate_playlist(playlist: &Playlist) -> Result<(), SignageError> {
    let fail = SignageError::InvalidPlaylist;
    not_blank(&playlist.name, "name").map_err(fail)?;
    check_targets(&playlist.targets).map_err(fail)?;
    let mut keys = HashSet::new();
    for (i, item) in playlist.items.iter().enumerate() {
        check_key(&item.key, format!("items[{i}].key")).map_err(fail)?;
        if !keys.insert(item.key.as_str()) {
            return Err(fail(ValidationError::DuplicateId {
                kind: "item",
                id: item.key.clone(),
            }));
        }
        let field = |f: &str| format!("items.{}.{f}", item.key);
        if !(1..=MAX_ITEM_SECS).contains(&item.duration_secs) {
            return Err(fail(invalid(
                field("duration_secs"),
                format!("must be 1 to {MAX_ITEM_SECS}"),
            )));
        }
        match &item.content {
            Content::Image { url } | Content::Video { url } | Content::WebPage { url } => {
                check_url(url).map_err(|reason| fail(invalid(field("content.url"), reason)))?;
            }
            Content::Text { text } => {
                if text.is_empty() {
                    return Err(fail(invalid(field("content.text"), "is empty")));
                }
            }
        }
        check_schedule(&item.schedule, &field("schedule")).map_err(fail)?;
    }
    Ok(())
}

/// Checks a piece of news against the [rules](self#rules).
///
/// # Errors
/// [`SignageError::InvalidNews`] naming the first field that breaks a rule.
pub fn validate_news(news: &News) -> Result<(), SignageError> {
    let fail = SignageError::InvalidNews;
    if news.title.is_empty() {
        return Err(fail(invalid("title", "is empty")));
    }
    if news
        .publish_until
        .is_some_and(|until| until <= news.publish_from)
    {
        return Err(fail(invalid("publish_until", "must be after publish_from")));
    }
    check_targets(&news.targets).map_err(fail)
}

/// Checks a screen against the [rules](self#rules). That its layout exists is the store's to
/// keep (see [`SignageStore::put_screen`](cem_core::SignageStore::put_screen)).
///
/// # Errors
/// [`SignageError::InvalidScreen`] naming the first field that breaks a rule.
pub fn validate_screen(screen: &Screen) -> Result<(), SignageError> {
    let fail = SignageError::InvalidScreen;
    not_blank(&screen.name, "name").map_err(fail)?;
    let tag = screen.language.as_str();
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    let primary_ok =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !primary_ok || !rest_ok {
        return Err(fail(invalid(
            "language",
            format!("{tag:?} is not a language tag like \"en\" or \"fa-ir\""),
        )));
    }
    Ok(())
}

/// Checks the information of a branch against the [rules](self#rules).
///
/// # Errors
/// [`SignageError::InvalidBranchInfo`] naming the first field that breaks a rule.
pub fn validate_branch_info(info: &BranchInfo) -> Result<(), SignageError> {
    let fail = SignageError::InvalidBranchInfo;
    if let Some(p) = info.location {
        if !(p.lat.is_finite() && (-90.0..=90.0).contains(&p.lat)) {
            return Err(fail(invalid("location.lat", "must be −90 to 90")));
        }
        if !(p.lon.is_finite() && (-180.0..=180.0).contains(&p.lon)) {
            return Err(fail(invalid("location.lon", "must be −180 to 180")));
        }
    }
    if let Some(phone) = &info.phone {
        not_blank(phone, "phone").map_err(fail)?;
    }
    let mut dates = HashSet::new();
    for h in &info.holidays {
        if !dates.insert(h.date) {
            return Err(fail(ValidationError::DuplicateId {
                kind: "holiday",
                id: h.date.to_string(),
            }));
        }
    }
    Ok(())
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ValidationError {
    ValidationError::InvalidField {
        field: field.into(),
        reason: reason.into(),
    }
}

fn not_blank(value: &str, field: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(invalid(field, "is empty"));
    }
    Ok(())
}

fn check_key(key: &str, field: String) -> Result<(), ValidationError> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(invalid(
            field,
            format!("must have 1 to {MAX_KEY_LEN} characters"),
        ));
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(invalid(
            field,
            format!("{key:?} may hold only a-z, 0-9 and _"),
        ));
    }
    Ok(())
}

fn check_targets(targets: &Targets) -> Result<(), ValidationError> {
    match targets {
        Targets::Branches(b) if b.is_empty() => Err(invalid("targets", "names no branch")),
        Targets::Screens(s) if s.is_empty() => Err(invalid("targets", "names no screen")),
        _ => Ok(()),
    }
}

fn check_schedule(schedule: &Schedule, field: &str) -> Result<(), ValidationError> {
    if let (Some(from), Some(until)) = (schedule.from, schedule.until)
        && from > until
    {
        return Err(invalid(format!("{field}.until"), "must not be before from"));
    }
    for (i, r) in schedule.times.iter().enumerate() {
        if r.start >= r.end {
            return Err(invalid(
                format!("{field}.times[{i}]"),
                "must end after it starts (split a range across midnight in two)",
            ));
        }
    }
    Ok(())
}

/// Whether a URL may be loaded by a screen: `http://` or `https://` with a host, or a path on
/// the server; nothing else.
fn check_url(url: &str) -> Result<(), String> {
    if url.is_empty() || url.len() > MAX_URL_LEN {
        return Err(format!("must have 1 to {MAX_URL_LEN} bytes"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not hold spaces or control characters".into());
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let ok = match rest {
        Some(rest) => !rest.is_empty() && !rest.starts_with(['/', '?', '#']),
        // A path on the server; `//host` would be another host.
        None => url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\"),
    };
    if ok {
        Ok(())
    } else {
        Err("must be an http(s) URL or a path starting with /".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{date, image, layout, playlist, screen, t, utc};
    use cem_core::{GeoPoint, Holiday, Language, LocalTimeRange, LocalizedText, Priority};

    fn field(e: SignageError) -> String {
        match e.validation() {
            ValidationError::InvalidField { field, .. } => field.clone(),
            ValidationError::DuplicateId { kind, id } => format!("duplicate {kind} {id}"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_sample_layout_is_valid() {
        validate_layout(&layout()).unwrap();
    }

    #[test]
    fn a_layout_names_what_to_fix() {
        let mut l = layout();
        l.zones.clear();
        assert_eq!(field(validate_layout(&l).unwrap_err()), "zones");
        let mut l = layout();
        l.zones[1].key = "board".into();
        let e = validate_layout(&l).unwrap_err();
        assert_eq!(e.code(), "invalid_layout");
        assert_eq!(field(e), "duplicate zone board");
        for bad in ["", "Board", "new board", "tafel-1", &"x".repeat(65)] {
            let mut l = layout();
            l.zones[0].key = bad.into();
            assert_eq!(
                field(validate_layout(&l).unwrap_err()),
                "zones[0].key",
                "{bad:?}"
            );
        }
        let mut l = layout();
        l.zones[1].area.x = 41; // 41 + 60 > 100
        assert_eq!(field(validate_layout(&l).unwrap_err()), "zones.media.area");
        let mut l = layout();
        l.zones[1].area.h = 0;
        assert_eq!(field(validate_layout(&l).unwrap_err()), "zones.media.area");
        let mut l = layout();
        l.zones[1].area = cem_core::Area {
            x: 200,
            y: 0,
            w: 200,
            h: 10,
        };
        assert_eq!(field(validate_layout(&l).unwrap_err()), "zones.media.area");
        for rows in [0, 21] {
            let mut l = layout();
            l.zones[0].kind = ZoneKind::NowServing { rows };
            assert_eq!(field(validate_layout(&l).unwrap_err()), "zones.board.rows");
            l.zones[0].kind = ZoneKind::RecentCalls { count: rows };
            assert_eq!(field(validate_layout(&l).unwrap_err()), "zones.board.count");
        }
        let mut l = layout();
        l.zones[0].kind = ZoneKind::RecentCalls { count: 20 };
        l.zones[0].area = cem_core::Area {
            x: 0,
            y: 0,
            w: 100,
            h: 100,
        };
        validate_layout(&l).unwrap();
    }

    #[test]
    fn a_playlist_names_what_to_fix() {
        let p = || {
            playlist(
                1,
                vec![image("welcome", 10), image("rates", 15)],
                Targets::All,
            )
        };
        validate_playlist(&p()).unwrap();
        validate_playlist(&playlist(1, vec![], Targets::All)).unwrap();

        let mut bad = p();
        bad.items[1].key = "welcome".into();
        assert_eq!(
            field(validate_playlist(&bad).unwrap_err()),
            "duplicate item welcome"
        );
        for secs in [0, 86_401] {
            let mut bad = p();
            bad.items[0].duration_secs = secs;
            let e = validate_playlist(&bad).unwrap_err();
            assert_eq!(e.code(), "invalid_playlist");
            assert_eq!(field(e), "items.welcome.duration_secs");
        }
        let mut bad = p();
        bad.targets = Targets::Branches(vec![]);
        assert_eq!(field(validate_playlist(&bad).unwrap_err()), "targets");
        let mut bad = p();
        bad.targets = Targets::Screens(vec![]);
        assert_eq!(field(validate_playlist(&bad).unwrap_err()), "targets");
        let mut bad = p();
        bad.name = " ".into();
        assert_eq!(field(validate_playlist(&bad).unwrap_err()), "name");
        let mut bad = p();
        bad.items[0].content = Content::Text {
            text: LocalizedText::single(Language::en(), "  "),
        };
        assert_eq!(
            field(validate_playlist(&bad).unwrap_err()),
            "items.welcome.content.text"
        );
    }

    #[test]
    fn only_web_and_server_urls_are_shown() {
        for good in [
            "https://cdn.example/a.mp4",
            "HTTP://cdn.example:8080/a.jpg?x=1",
            "/media/a.jpg",
            "/",
        ] {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "file:///etc/passwd",
            "//evil.example/a.jpg",
            "/\\evil.example",
            "https://",
            "https:///path",
            "media/a.jpg",
            "https://cdn.example/a b.jpg",
            "https://cdn.example/a\n.jpg",
            "ftp://cdn.example/a.jpg",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?}");
        }
        assert!(check_url(&format!("/{}", "a".repeat(MAX_URL_LEN))).is_err());
        let mut p = playlist(1, vec![image("welcome", 10)], Targets::All);
        p.items[0].content = Content::WebPage {
            url: "javascript:alert(1)".into(),
        };
        assert_eq!(
            field(validate_playlist(&p).unwrap_err()),
            "items.welcome.content.url"
        );
    }

    #[test]
    fn schedules_run_forward() {
        let mut p = playlist(1, vec![image("welcome", 10)], Targets::All);
        p.items[0].schedule = Schedule {
            from: Some(date(2026, 5, 2)),
            until: Some(date(2026, 5, 1)),
            ..Schedule::default()
        };
        assert_eq!(
            field(validate_playlist(&p).unwrap_err()),
            "items.welcome.schedule.until"
        );
        p.items[0].schedule = Schedule {
            from: Some(date(2026, 5, 1)),
            until: Some(date(2026, 5, 1)),
            times: vec![
                LocalTimeRange {
                    start: t(7, 0),
                    end: t(11, 0),
                },
                LocalTimeRange {
                    start: t(22, 0),
                    end: t(2, 0),
                },
            ],
            ..Schedule::default()
        };
        assert_eq!(
            field(validate_playlist(&p).unwrap_err()),
            "items.welcome.schedule.times[1]"
        );
        p.items[0].schedule.times.pop();
        validate_playlist(&p).unwrap();
    }

    #[test]
    fn news_has_a_title_and_a_forward_window() {
        let from = utc("2026-05-01T08:00:00Z");
        let n = crate::testing::news(1, "Closed on Friday", Priority::High, from, None);
        validate_news(&n).unwrap();
        let mut bad = n.clone();
        bad.title = LocalizedText::new();
        let e = validate_news(&bad).unwrap_err();
        assert_eq!(e.code(), "invalid_news");
        assert_eq!(field(e), "title");
        let mut bad = n.clone();
        bad.publish_until = Some(from);
        assert_eq!(field(validate_news(&bad).unwrap_err()), "publish_until");
        let mut bad = n;
        bad.targets = Targets::Branches(vec![]);
        assert_eq!(field(validate_news(&bad).unwrap_err()), "targets");
    }

    #[test]
    fn a_screen_has_a_name_and_a_language_tag() {
        validate_screen(&screen()).unwrap();
        let mut s = screen();
        s.language = Language::new("fa-IR");
        validate_screen(&s).unwrap();
        for bad in ["", "e", "english", "en_us", "en-", "fa-ir-toolongsubtag"] {
            let mut s = screen();
            s.language = Language::new(bad);
            let e = validate_screen(&s).unwrap_err();
            assert_eq!(e.code(), "invalid_screen");
            assert_eq!(field(e), "language", "{bad:?}");
        }
        let mut s = screen();
        s.name = String::new();
        assert_eq!(field(validate_screen(&s).unwrap_err()), "name");
    }

    #[test]
    fn branch_information_has_real_coordinates_and_one_holiday_per_date() {
        let info = || BranchInfo {
            branch: crate::testing::BRANCH,
            organization: crate::testing::ORGANIZATION,
            address: LocalizedText::new(),
            location: Some(GeoPoint {
                lat: 52.52,
                lon: 13.405,
            }),
            phone: Some("+49 30 1234".into()),
            holidays: vec![
                Holiday {
                    date: date(2026, 12, 25),
                    name: LocalizedText::new(),
                },
                Holiday {
                    date: date(2026, 12, 26),
                    name: LocalizedText::new(),
                },
            ],
        };
        validate_branch_info(&info()).unwrap();
        for (lat, lon, f) in [
            (90.5, 0.0, "location.lat"),
            (f64::NAN, 0.0, "location.lat"),
            (0.0, -180.5, "location.lon"),
            (0.0, f64::INFINITY, "location.lon"),
        ] {
            let mut i = info();
            i.location = Some(GeoPoint { lat, lon });
            let e = validate_branch_info(&i).unwrap_err();
            assert_eq!(e.code(), "invalid_branch_info");
            assert_eq!(field(e), f);
        }
        let mut i = info();
        i.holidays[1].date = date(2026, 12, 25);
        assert_eq!(
            field(validate_branch_info(&i).unwrap_err()),
            "duplicate holiday 2026-12-25"
        );
        let mut i = info();
        i.phone = Some(" ".into());
        assert_eq!(field(validate_branch_info(&i).unwrap_err()), "phone");
    }
}
