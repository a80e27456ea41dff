//! [`SignageStore`] for [`MemoryStore`]: layouts, screens, playlists, news and branch
//! information under the store's one lock, so a screen's checks (its owner, its device, its
//! layout) and its write are one step, and a layout is deleted only while no screen shows it.
//!
//! A refused put checks in the order the databases do: the record's owner, then (screens)
//! the device, then the layout.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;

use async_trait::async_trait;
use cem_core::{
    BranchId, BranchInfo, DEVICE_TAKEN, DeviceId, LAYOUT_IN_USE, Layout, LayoutId, News, NewsId,
    OrganizationId, Playlist, PlaylistId, Screen, ScreenId, SignageStore, StoreError,
};

use crate::{MemoryStore, to_micros};

/// Layouts, screens, playlists, news and branch information.
#[derive(Debug, Default)]
pub(crate) struct SignageTables {
    layouts: HashMap<LayoutId, Layout>,
    screens: HashMap<ScreenId, Screen>,
    playlists: HashMap<PlaylistId, Playlist>,
    news: HashMap<NewsId, News>,
    /// By branch: the order `branch_infos` lists them in.
    branch_infos: BTreeMap<BranchId, BranchInfo>,
}

fn conflict(what: impl Into<String>) -> StoreError {
    StoreError::Conflict { what: what.into() }
}

fn not_found(what: String) -> StoreError {
    StoreError::NotFound { what }
}

/// Refuses to put a record over one of another organization: a record never changes owner.
fn check_owner(
    stored: Option<OrganizationId>,
    organization: OrganizationId,
    what: impl fmt::Display,
) -> Result<(), StoreError> {
    match stored {
        Some(owner) if owner != organization => {
            Err(conflict(format!("{what} belongs to another organization")))
        }
        _ => Ok(()),
    }
}

/// The record `id` of `table`, or `NotFound` naming it `what`.
fn get<K: Eq + Hash + fmt::Display, T: Clone>(
    table: &HashMap<K, T>,
    id: &K,
    what: &str,
) -> Result<T, StoreError> {
    table
        .get(id)
        .cloned()
        .ok_or_else(|| not_found(format!("{what} {id}")))
}

/// Removes the record `id` of `table`, or says `NotFound` naming it `what`.
fn remove<K: Eq + Hash + fmt::Display, T>(
    table: &mut HashMap<K, T>,
    id: &K,
    what: &str,
) -> Result<(), StoreError> {
    table
        .remove(id)
        .map(drop)
        .ok_or_else(|| not_found(format!("{what} {id}")))
}

/// The records of `organization`, sorted by `order`.
fn list<'a, T: Clone + 'a>(
    records: impl Iterator<Item = &'a T>,
    organization: OrganizationId,
    owner: impl Fn(&T) -> OrganizationId,
    order: impl Fn(&T, &T) -> Ordering,
) -> Vec<T> {
    let mut found: Vec<T> = records
        .filter(|r| owner(r) == organization)
        .cloned()
        .collect();
    found.sort_by(order);
    found
}

/// A piece of news as the databases keep it: its instants to the microsecond.
fn stored_news(news: &News) -> News {
    News {
        publish_from: to_micros(news.publish_from),
        publish_until: news.publish_until.map(to_micros),
        ..news.clone()
    }
}

#[async_trait]
impl SignageStore for MemoryStore {
    async fn put_layout(&self, layout: &Layout) -> Result<(), StoreError> {
        let tables = &mut self.inner().signage;
        let stored = tables.layouts.get(&layout.id).map(|l| l.organization);
        check_owner(
            stored,
            layout.organization,
            format_args!("layout {}", layout.id),
        )?;
        tables.layouts.insert(layout.id, layout.clone());
        Ok(())
    }

    async fn layout(&self, id: LayoutId) -> Result<Layout, StoreError> {
        get(&self.inner().signage.layouts, &id, "layout")
    }

    async fn layouts(&self, organization: OrganizationId) -> Result<Vec<Layout>, StoreError> {
        let inner = self.inner();
        Ok(list(
            inner.signage.layouts.values(),
            organization,
            |l| l.organization,
            |a, b| (&a.name, a.id).cmp(&(&b.name, b.id)),
        ))
    }

    async fn delete_layout(&self, id: LayoutId) -> Result<(), StoreError> {
        let tables = &mut self.inner().signage;
        if !tables.layouts.contains_key(&id) {
            return Err(not_found(format!("layout {id}")));
        }
        if tables.screens.values().any(|s| s.layout == id) {
            return Err(conflict(LAYOUT_IN_USE));
        }
        tables.layouts.remove(&id);
        Ok(())
    }

    async fn put_screen(&self, screen: &Screen) -> Result<(), StoreError> {
        let tables = &mut self.inner().signage;
        let stored = tables.screens.get(&screen.id).map(|s| s.organization);
        check_owner(
            stored,
            screen.organization,
            format_args!("screen {}", screen.id),
        )?;
        if let Some(device) = screen.device
            && tables
                .screens
                .values()
                .any(|s| s.id != screen.id && s.device == Some(device))
        {
            return Err(conflict(DEVICE_TAKEN));
        }
        let layout_is_ours = tables
            .layouts
            .get(&screen.layout)
            .is_some_and(|l| l.organization == screen.organization);
        if !layout_is_ours {
            return Err(not_found(format!(
                "layout {} of organization {}",
                screen.layout, screen.organization
            )));
        }
        tables.screens.insert(screen.id, screen.clone());
        Ok(())
    }

    async fn screen(&self, id: ScreenId) -> Result<Screen, StoreError> {
        get(&self.inner().signage.screens, &id, "screen")
    }

    async fn screen_of_device(&self, device: DeviceId) -> Result<Option<Screen>, StoreError> {
        let inner = self.inner();
        Ok(inner
            .signage
            .screens
            .values()
            .find(|s| s.device == Some(device))
            .cloned())
    }

    async fn screens(&self, branch: BranchId) -> Result<Vec<Screen>, StoreError> {
        let inner = self.inner();
        let mut found: Vec<Screen> = inner
            .signage
            .screens
            .values()
            .filter(|s| s.branch == branch)
            .cloned()
            .collect();
        found.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        Ok(found)
    }

    async fn delete_screen(&self, id: ScreenId) -> Result<(), StoreError> {
        remove(&mut self.inner().signage.screens, &id, "screen")
    }

    async fn put_playlist(&self, playlist: &Playlist) -> Result<(), StoreError> {
        let tables = &mut self.inner().signage;
        let stored = tables.playlists.get(&playlist.id).map(|p| p.organization);
        check_owner(
            stored,
            playlist.organization,
            format_args!("playlist {}", playlist.id),
        )?;
        tables.playlists.insert(playlist.id, playlist.clone());
        Ok(())
    }

    async fn playlist(&self, id: PlaylistId) -> Result<Playlist, StoreError> {
        get(&self.inner().signage.playlists, &id, "playlist")
    }

    async fn playlists(&self, organization: OrganizationId) -> Result<Vec<Playlist>, StoreError> {
        let inner = self.inner();
        Ok(list(
            inner.signage.playlists.values(),
            organization,
            |p| p.organization,
            |a, b| (&a.name, a.id).cmp(&(&b.name, b.id)),
        ))
    }

    async fn delete_playlist(&self, id: PlaylistId) -> Result<(), StoreError> {
        remove(&mut self.inner().signage.playlists, &id, "playlist")
    }

    async fn put_news(&self, news: &News) -> Result<(), StoreError> {
        let news = stored_news(news);
        let tables = &mut self.inner().signage;
        let stored = tables.news.get(&news.id).map(|n| n.organization);
        check_owner(stored, news.organization, format_args!("news {}", news.id))?;
        tables.news.insert(news.id, news);
        Ok(())
    }

    async fn news_item(&self, id: NewsId) -> Result<News, StoreError> {
        get(&self.inner().signage.news, &id, "news")
    }

    async fn news(&self, organization: OrganizationId) -> Result<Vec<News>, StoreError> {
        let inner = self.inner();
        Ok(list(
            inner.signage.news.values(),
            organization,
            |n| n.organization,
            |a, b| (a.publish_from, a.id).cmp(&(b.publish_from, b.id)),
        ))
    }

    async fn delete_news(&self, id: NewsId) -> Result<(), StoreError> {
        remove(&mut self.inner().signage.news, &id, "news")
    }

    async fn put_branch_info(&self, info: &BranchInfo) -> Result<(), StoreError> {
        let tables = &mut self.inner().signage;
        let stored = tables
            .branch_infos
            .get(&info.branch)
            .map(|i| i.organization);
        check_owner(
            stored,
            info.organization,
            format_args!("the information of branch {}", info.branch),
        )?;
        tables.branch_infos.insert(info.branch, info.clone());
        Ok(())
    }

    async fn branch_info(&self, branch: BranchId) -> Result<Option<BranchInfo>, StoreError> {
        Ok(self.inner().signage.branch_infos.get(&branch).cloned())
    }

    async fn branch_infos(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<BranchInfo>, StoreError> {
        let inner = self.inner();
        Ok(inner
            .signage
            .branch_infos
            .values()
            .filter(|i| i.organization == organization)
            .cloned()
            .collect())
    }
}
