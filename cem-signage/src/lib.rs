//! # cem-signage
//!
//! CEM signage: what the screens of a branch show and say, and what the public learns of a
//! branch. The records ([`Screen`](cem_core::Screen), [`Layout`](cem_core::Layout),
//! [`Playlist`](cem_core::Playlist), [`News`](cem_core::News),
//! [`BranchInfo`](cem_core::BranchInfo)) live in [`cem_core::signage`] with the
//! [`SignageStore`](cem_core::SignageStore) port; this crate holds their rules. It is a pure
//! core: it does no IO and never reads the clock (every rule takes the instant it is asked
//! about), so a screen that lost the server and a server that answers for it reach the same
//! answer.
//!
//! - [`validate`](mod@validate): the shape of layouts, playlists, news, screens and branch
//!   information ([`validate_layout`], [`validate_playlist`], [`validate_news`],
//!   [`validate_screen`], [`validate_branch_info`]).
//! - [`schedule`]: whether an item's schedule [`applies`] at an instant in the branch's time
//!   zone, when it [`next_change`]s, and whom a record [`targets`].
//! - [`show`]: the media item a screen shows at an instant, in a cycle fixed by the UNIX
//!   epoch ([`media_at`]), the current news ([`news_at`], [`branch_news`]), the files to fetch
//!   ahead ([`manifest`]) and an [`etag`] for cacheable content.
//! - [`announce`]: the [`ScreenCall`] — all a screen learns of a call, nothing personal —,
//!   its [`announcement`] in the screen's language with numbers in [`words`] (English and
//!   Persian), and the [`AnnouncementQueue`] that plays them one at a time, never overlapping.
//! - [`branch`](mod@branch): whether a branch is [`open_now`], its [`next_opening`] and
//!   [`next_closing`] with holidays, [`distance_m`] and the [`best_branches`] to go to.
//! - [`SignageError`]: why a record was refused, with a stable [`code`](SignageError::code).
//! - [`testing`]: a screen, a layout, playlists, news and a branch for tests and examples.
//!
//! ```
//! use cem_core::chrono::Duration;
//! use cem_core::{Language, Targets};
//! use cem_signage::testing::{berlin, image, layout, playlist, screen, utc};
//! use cem_signage::{AnnouncementQueue, announcement, media_at, validate_layout, validate_playlist};
//!
//! // Two images, 10 s and 20 s, for every screen; a screen of the branch in Berlin.
//! let playlists = [playlist(1, vec![image("welcome", 10), image("rates", 20)], Targets::All)];
//! validate_playlist(&playlists[0])?;
//! validate_layout(&layout())?;
//! let screen = screen();
//!
//! // The cycle of 30 s starts at every multiple of 30 s since the epoch: at 2026-01-01
//! // 00:00:15 UTC the second image shows, until 00:00:30.
//! let now = media_at(&playlists, &screen, berlin(), utc("2026-01-01T00:00:15Z")).unwrap();
//! assert_eq!(now.item, "rates");
//! assert_eq!(now.ends_at, utc("2026-01-01T00:00:30Z"));
//!
//! // A call, shown and spoken in the screen's language, one announcement at a time.
//! let call = announcement("A-042", 3, &Language::en());
//! assert_eq!(call.speech, "Ticket A forty-two, please go to counter three.");
//! let mut queue = AnnouncementQueue::new();
//! let first = queue.push(call.clone(), utc("2026-01-01T09:00:00Z"), 4.0);
//! let second = queue.push(call, utc("2026-01-01T09:00:01Z"), 4.0);
//! assert_eq!(second.starts_at, first.ends_at);
//! assert_eq!(second.ends_at - first.starts_at, Duration::seconds(8));
//! # Ok::<(), cem_signage::SignageError>(())
//! ```

pub mod announce;
pub mod branch;
pub mod error;
pub mod schedule;
pub mod show;
pub mod testing;
pub mod validate;

pub use announce::{
    Announcement, AnnouncementQueue, CHIME_SECS, MAX_ANNOUNCEMENT_SECS, Queued,
    SPEECH_CHARS_PER_SEC, Scheduled, ScreenCall, announcement, letter_name, speech_secs, words,
};
pub use branch::{
    Candidate, EARTH_RADIUS_M, LOOKAHEAD_DAYS, Ranked, best_branches, distance_m, next_closing,
    next_opening, open_now,
};
pub use error::SignageError;
pub use schedule::{applies, next_change, targets};
pub use show::{Manifest, MediaNow, branch_news, etag, is_published, manifest, media_at, news_at};
pub use validate::{
    MAX_ITEM_SECS, MAX_KEY_LEN, MAX_ROWS, MAX_URL_LEN, validate_branch_info, validate_layout,
    validate_news, validate_playlist, validate_screen,
};

pub use cem_core;
