//! Signage records: the [`Screen`]s of a branch and their [`Layout`]s, media [`Playlist`]s,
//! [`News`], and the public [`BranchInfo`] of a branch (address, coordinates, holidays), as a
//! store keeps them.
//!
//! These are plain data. Every rule (what a screen shows at an instant, the announcement of a
//! call in the screen's language, which news is current, whether a branch is open and when
//! it opens next, the best branch to go to) lives in the `cem-signage` crate. Times of day and
//! dates are local to the branch's time zone; instants are UTC.

use chrono::{DateTime, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::ids::{BranchId, DeviceId, LayoutId, NewsId, OrganizationId, PlaylistId, ScreenId};
use crate::reservation::LocalTimeRange;
use crate::text::{Language, LocalizedText};

/// A screen of a branch: a TV or monitor showing a layout in one language. It signs in with
/// the token of its display [`Device`](crate::Device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screen {
    /// Id.
    pub id: ScreenId,
    /// The organization.
    pub organization: OrganizationId,
    /// The branch it stands in.
    pub branch: BranchId,
    /// Name shown to administrators ("Hall, left").
    pub name: String,
    /// The language it speaks and writes.
    pub language: Language,
    /// The layout it shows.
    pub layout: LayoutId,
    /// The display device signed in as this screen, when one is.
    #[serde(default)]
    pub device: Option<DeviceId>,
}

/// How a screen's area is divided into zones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Id.
    pub id: LayoutId,
    /// The organization.
    pub organization: OrganizationId,
    /// Name shown to administrators.
    pub name: String,
    /// The zones, drawn in order (a later zone over an earlier one).
    pub zones: Vec<Zone>,
}

/// A rectangle of a layout showing one kind of content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// Key, unique in the layout (`board`, `media`).
    pub key: String,
    /// What it shows.
    pub kind: ZoneKind,
    /// Where, in percent of the screen.
    pub area: Area,
}

/// A rectangle in percent of the screen: left, top, width, height, each 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    /// Left edge.
    pub x: u8,
    /// Top edge.
    pub y: u8,
    /// Width.
    pub w: u8,
    /// Height.
    pub h: u8,
}

/// What a zone shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ZoneKind {
    /// The tickets being served now, with their counters.
    NowServing {
        /// Rows shown at most.
        rows: u8,
    },
    /// The last calls.
    RecentCalls {
        /// Calls shown at most.
        count: u8,
    },
    /// Items of the playlists that target the screen.
    Media,
    /// The current news, one after the other.
    NewsTicker,
    /// The local date and time.
    Clock,
    /// Customers waiting and the estimated wait, per service.
    WaitingSummary,
    /// A QR code to join the branch's queue from a phone.
    JoinQr,
}

/// Whom a playlist or a piece of news is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "ids", rename_all = "snake_case")]
pub enum Targets {
    /// Every screen of the organization.
    All,
    /// The screens of these branches.
    Branches(Vec<BranchId>),
    /// These screens.
    Screens(Vec<ScreenId>),
}

/// When an item may be shown, in the branch's time zone. Every given part must hold; an
/// empty list of weekdays or times means every day or all day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// First local date (inclusive).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last local date (inclusive).
    #[serde(default)]
    pub until: Option<NaiveDate>,
    /// The weekdays.
    #[serde(default)]
    pub weekdays: Vec<Weekday>,
    /// The local times of day.
    #[serde(default)]
    pub times: Vec<LocalTimeRange>,
}

/// A piece of media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    /// An image at a URL.
    Image {
        /// Where it is.
        url: String,
    },
    /// A video at a URL, played muted.
    Video {
        /// Where it is.
        url: String,
    },
    /// A web page at a URL.
    WebPage {
        /// Where it is.
        url: String,
    },
    /// A text, in each language.
    Text {
        /// The text.
        text: LocalizedText,
    },
}

/// An item of a playlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaylistItem {
    /// Key, unique in the playlist.
    pub key: String,
    /// What it shows.
    pub content: Content,
    /// How long it shows each time, in seconds (at least 1).
    pub duration_secs: u32,
    /// When it may show.
    #[serde(default)]
    pub schedule: Schedule,
}

/// Media items shown in turn on the media zones of the screens it targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Playlist {
    /// Id.
    pub id: PlaylistId,
    /// The organization.
    pub organization: OrganizationId,
    /// Name shown to administrators.
    pub name: String,
    /// The items, in the order shown.
    pub items: Vec<PlaylistItem>,
    /// The screens it is for.
    pub targets: Targets,
}

/// How urgent a piece of news is: more urgent news shows first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Ordinary.
    Normal,
    /// Important.
    High,
    /// Urgent (a closure, an outage).
    Urgent,
}

/// News or an announcement, on screens and in the public branch information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct News {
    /// Id.
    pub id: NewsId,
    /// The organization.
    pub organization: OrganizationId,
    /// The headline, in each language.
    pub title: LocalizedText,
    /// The text, in each language.
    #[serde(default)]
    pub body: LocalizedText,
    /// Shown from this instant.
    pub publish_from: DateTime<Utc>,
    /// Shown until this instant (exclusive); `None` until withdrawn.
    #[serde(default)]
    pub publish_until: Option<DateTime<Utc>>,
    /// Where it shows.
    pub targets: Targets,
    /// How urgent it is.
    pub priority: Priority,
}

/// A point on the Earth in degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Latitude, −90 to 90.
    pub lat: f64,
    /// Longitude, −180 to 180.
    pub lon: f64,
}

/// A local date a branch is closed, with its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    /// The local date.
    pub date: NaiveDate,
    /// Its name, in each language.
    #[serde(default)]
    pub name: LocalizedText,
}

/// What the public learns of a branch before coming: where it is and when it is closed
/// beyond its weekly hours (those are the [`Branch`](crate::Branch)'s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchInfo {
    /// The branch.
    pub branch: BranchId,
    /// The organization.
    pub organization: OrganizationId,
    /// The postal address, in each language.
    #[serde(default)]
    pub address: LocalizedText,
    /// Where it is.
    #[serde(default)]
    pub location: Option<GeoPoint>,
    /// A phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Dates it is closed.
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}
