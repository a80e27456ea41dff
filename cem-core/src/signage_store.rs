//! [`SignageStore`]: screens, layouts, playlists, news and the public information of branches.
//!
//! Two rules are the store's own, because only it can keep them under concurrency: a screen
//! always shows a layout that exists (a layout in use cannot be deleted, and a screen cannot
//! be stored with a layout that does not exist, whatever the order of two clients doing
//! both), and a display device is the device of one screen at most.

use std::fmt;

use async_trait::async_trait;

use crate::signage::{BranchInfo, Layout, News, Playlist, Screen};
use crate::{
    BranchId, DeviceId, LayoutId, NewsId, OrganizationId, PlaylistId, ScreenId, StoreError,
};

/// The `what` of the [`StoreError::Conflict`] deleting a layout that screens show gives.
pub const LAYOUT_IN_USE: &str = "layout_in_use";
/// The `what` of the [`StoreError::Conflict`] a device already bound to another screen gives.
pub const DEVICE_TAKEN: &str = "device_taken";

/// Screens, layouts, playlists, news and branch information.
///
/// Every method is atomic. Instants are kept to the microsecond (finer digits are cut). Lists
/// come in a stable order: by name then id (screens, layouts, playlists), by `publish_from`
/// then id (news).
#[async_trait]
pub trait SignageStore: Send + Sync + fmt::Debug + 'static {
    /// Creates or replaces a layout.
    ///
    /// # Errors
    /// `Conflict` when the id exists in another organization; `Unavailable` or `Backend`.
    async fn put_layout(&self, layout: &Layout) -> Result<(), StoreError>;

    /// One layout.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn layout(&self, id: LayoutId) -> Result<Layout, StoreError>;

    /// The layouts of an organization.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn layouts(&self, organization: OrganizationId) -> Result<Vec<Layout>, StoreError>;

    /// Deletes a layout no screen shows.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` with [`LAYOUT_IN_USE`] while a screen shows it; `Unavailable` or
    /// `Backend`.
    async fn delete_layout(&self, id: LayoutId) -> Result<(), StoreError>;

    /// Creates or replaces a screen.
    ///
    /// # Behavior
    /// Its layout must exist in its organization at the moment of the write: of a client
    /// deleting the layout and one storing a screen that shows it, one fails.
    ///
    /// # Errors
    /// `NotFound` for a layout that does not exist in the organization; `Conflict` with
    /// [`DEVICE_TAKEN`] when its device is another screen's; `Conflict` when the id exists in
    /// another organization; `Unavailable` or `Backend`.
    async fn put_screen(&self, screen: &Screen) -> Result<(), StoreError>;

    /// One screen.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn screen(&self, id: ScreenId) -> Result<Screen, StoreError>;

    /// The screen a display device is, if any.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn screen_of_device(&self, device: DeviceId) -> Result<Option<Screen>, StoreError>;

    /// The screens of a branch.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn screens(&self, branch: BranchId) -> Result<Vec<Screen>, StoreError>;

    /// Deletes a screen.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn delete_screen(&self, id: ScreenId) -> Result<(), StoreError>;

    /// Creates or replaces a playlist.
    ///
    /// # Errors
    /// `Conflict` when the id exists in another organization; `Unavailable` or `Backend`.
    async fn put_playlist(&self, playlist: &Playlist) -> Result<(), StoreError>;

    /// One playlist.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn playlist(&self, id: PlaylistId) -> Result<Playlist, StoreError>;

    /// The playlists of an organization.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn playlists(&self, organization: OrganizationId) -> Result<Vec<Playlist>, StoreError>;

    /// Deletes a playlist.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn delete_playlist(&self, id: PlaylistId) -> Result<(), StoreError>;

    /// Creates or replaces a piece of news.
    ///
    /// # Errors
    /// `Conflict` when the id exists in another organization; `Unavailable` or `Backend`.
    async fn put_news(&self, news: &News) -> Result<(), StoreError>;

    /// One piece of news.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn news_item(&self, id: NewsId) -> Result<News, StoreError>;

    /// The news of an organization, published or not.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn news(&self, organization: OrganizationId) -> Result<Vec<News>, StoreError>;

    /// Deletes a piece of news.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn delete_news(&self, id: NewsId) -> Result<(), StoreError>;

    /// Creates or replaces the information of a branch.
    ///
    /// # Errors
    /// `Conflict` when the branch's information exists under another organization;
    /// `Unavailable` or `Backend`.
    async fn put_branch_info(&self, info: &BranchInfo) -> Result<(), StoreError>;

    /// The information of a branch; `None` when none was stored.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn branch_info(&self, branch: BranchId) -> Result<Option<BranchInfo>, StoreError>;

    /// The information of every branch of an organization that has some, by branch id.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn branch_infos(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<BranchInfo>, StoreError>;
}
