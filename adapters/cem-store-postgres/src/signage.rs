//! [`SignageStore`] for [`PgStore`]: the tables `cem_layouts`, `cem_screens`,
//! `cem_playlists`, `cem_news` and `cem_branch_info` (migration 0011), each record a JSONB
//! document beside its key columns.
//!
//! Every method is one statement. A put is an upsert on the id whose update applies only to
//! a row of the same organization (no row changed: the id is another organization's). The
//! rules of screens are the schema's, which PostgreSQL keeps under concurrency: the foreign
//! key `(layout, organization)` refuses a screen whose layout is not its organization's and
//! the deletion of a layout a screen shows (of a client doing each at once, the second waits
//! for the first's row lock and then fails), and `UNIQUE (device)` refuses a device bound
//! twice.

use async_trait::async_trait;
use cem_core::{
    BranchId, BranchInfo, DEVICE_TAKEN, DeviceId, GeoPoint, LAYOUT_IN_USE, Layout, LayoutId, News,
    NewsId, OrganizationId, Playlist, PlaylistId, Screen, ScreenId, SignageStore, StoreError,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::error::ErrorKind;
use sqlx::postgres::{PgQueryResult, PgRow};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::PgStore;
use crate::error::map_sqlx;

/// A table of documents and what its rows are called in errors.
#[derive(Clone, Copy)]
struct Table {
    name: &'static str,
    what: &'static str,
}

const LAYOUTS: Table = Table {
    name: "cem_layouts",
    what: "layout",
};
const SCREENS: Table = Table {
    name: "cem_screens",
    what: "screen",
};
const PLAYLISTS: Table = Table {
    name: "cem_playlists",
    what: "playlist",
};
const NEWS: Table = Table {
    name: "cem_news",
    what: "news",
};

impl Table {
    /// The document of `id`, if any.
    async fn find<T: DeserializeOwned>(
        self,
        pool: &PgPool,
        id: &Uuid,
    ) -> Result<Option<T>, StoreError> {
        let sql = format!("SELECT doc::text FROM {} WHERE id = $1", self.name);
        let doc: Option<String> = sqlx::query_scalar(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(map_sqlx)?;
        doc.as_deref().map(decode).transpose()
    }

    /// Creates or replaces the record `id` of `organization` kept by name and document (a
    /// layout, a playlist); `Conflict` when the id is another organization's.
    async fn put_named<T: Serialize>(
        self,
        pool: &PgPool,
        (id, organization): (&Uuid, &Uuid),
        name: &str,
        record: &T,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {0} (id, organization, name, doc) VALUES ($1, $2, $3, $4::jsonb) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc \
             WHERE {0}.organization = excluded.organization",
            self.name
        );
        let done = sqlx::query(&sql)
            .bind(id)
            .bind(organization)
            .bind(name)
            .bind(to_json(record)?)
            .execute(pool)
            .await
            .map_err(map_sqlx)?;
        self.owned(done, id)
    }

    async fn get<T: DeserializeOwned>(self, pool: &PgPool, id: &Uuid) -> Result<T, StoreError> {
        self.find(pool, id).await?.ok_or_else(|| self.not_found(id))
    }

    /// The documents whose `column` is `value`, in `order`.
    async fn list<T: DeserializeOwned>(
        self,
        pool: &PgPool,
        column: &str,
        value: &Uuid,
        order: &str,
    ) -> Result<Vec<T>, StoreError> {
        let sql = format!(
            "SELECT doc::text FROM {} WHERE {column} = $1 ORDER BY {order}",
            self.name
        );
        let docs: Vec<String> = sqlx::query_scalar(&sql)
            .bind(value)
            .fetch_all(pool)
            .await
            .map_err(map_sqlx)?;
        docs.iter().map(|d| decode(d)).collect()
    }

    async fn delete(self, pool: &PgPool, id: &Uuid) -> Result<(), StoreError> {
        let sql = format!("DELETE FROM {} WHERE id = $1", self.name);
        let done = sqlx::query(&sql)
            .bind(id)
            .execute(pool)
            .await
            .map_err(map_sqlx)?;
        self.found(done, id)
    }

    /// `NotFound` when a write of `id` changed no row.
    fn found(self, done: PgQueryResult, id: &Uuid) -> Result<(), StoreError> {
        if done.rows_affected() == 0 {
            return Err(self.not_found(id));
        }
        Ok(())
    }

    /// `Conflict` when an upsert of `id` changed no row: the stored one is another
    /// organization's.
    fn owned(self, done: PgQueryResult, id: &Uuid) -> Result<(), StoreError> {
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                what: format!("{} {id} belongs to another organization", self.what),
            });
        }
        Ok(())
    }

    fn not_found(self, id: &Uuid) -> StoreError {
        StoreError::NotFound {
            what: format!("{} {id}", self.what),
        }
    }
}

fn backend(message: impl ToString) -> StoreError {
    StoreError::Backend {
        message: message.to_string(),
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(backend)
}

fn decode<T: DeserializeOwned>(doc: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| backend(format!("unreadable record: {e}")))
}

/// `at` cut to the microsecond, as the store keeps instants (sqlx alone would round instants
/// before 2000 toward that year).
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// Whether the driver refused a statement for a constraint of `kind`.
fn is(error: &sqlx::Error, kind: ErrorKind) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.kind() == kind)
}

/// Reads a branch's information: the document and the location beside it.
fn decode_info(row: &PgRow) -> Result<BranchInfo, StoreError> {
    let doc: String = row.try_get("doc").map_err(map_sqlx)?;
    let lat: Option<f64> = row.try_get("lat").map_err(map_sqlx)?;
    let lon: Option<f64> = row.try_get("lon").map_err(map_sqlx)?;
    let mut info: BranchInfo = decode(&doc)?;
    info.location = lat.zip(lon).map(|(lat, lon)| GeoPoint { lat, lon });
    Ok(info)
}

#[async_trait]
impl SignageStore for PgStore {
    async fn put_layout(&self, layout: &Layout) -> Result<(), StoreError> {
        LAYOUTS
            .put_named(
                self.pool(),
                (&layout.id.0, &layout.organization.0),
                &layout.name,
                layout,
            )
            .await
    }

    async fn layout(&self, id: LayoutId) -> Result<Layout, StoreError> {
        LAYOUTS.get(self.pool(), &id.0).await
    }

    async fn layouts(&self, organization: OrganizationId) -> Result<Vec<Layout>, StoreError> {
        LAYOUTS
            .list(
                self.pool(),
                "organization",
                &organization.0,
                "name COLLATE \"C\", id",
            )
            .await
    }

    async fn delete_layout(&self, id: LayoutId) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM cem_layouts WHERE id = $1")
            .bind(id.0)
            .execute(self.pool())
            .await
            .map_err(|e| {
                if is(&e, ErrorKind::ForeignKeyViolation) {
                    StoreError::Conflict {
                        what: LAYOUT_IN_USE.to_owned(),
                    }
                } else {
                    map_sqlx(e)
                }
            })?;
        LAYOUTS.found(done, &id.0)
    }

    async fn put_screen(&self, screen: &Screen) -> Result<(), StoreError> {
        // The only unique key an upsert on `id` can still break is the device's.
        let done = sqlx::query(
            "INSERT INTO cem_screens (id, organization, branch, name, layout, device, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) \
             ON CONFLICT (id) DO UPDATE SET branch = excluded.branch, name = excluded.name, \
             layout = excluded.layout, device = excluded.device, doc = excluded.doc \
             WHERE cem_screens.organization = excluded.organization",
        )
        .bind(screen.id.0)
        .bind(screen.organization.0)
        .bind(screen.branch.0)
        .bind(&screen.name)
        .bind(screen.layout.0)
        .bind(screen.device.map(|d| d.0))
        .bind(to_json(screen)?)
        .execute(self.pool())
        .await
        .map_err(|e| {
            if is(&e, ErrorKind::ForeignKeyViolation) {
                StoreError::NotFound {
                    what: format!(
                        "layout {} of organization {}",
                        screen.layout, screen.organization
                    ),
                }
            } else if is(&e, ErrorKind::UniqueViolation) {
                StoreError::Conflict {
                    what: DEVICE_TAKEN.to_owned(),
                }
            } else {
                map_sqlx(e)
            }
        })?;
        SCREENS.owned(done, &screen.id.0)
    }

    async fn screen(&self, id: ScreenId) -> Result<Screen, StoreError> {
        SCREENS.get(self.pool(), &id.0).await
    }

    async fn screen_of_device(&self, device: DeviceId) -> Result<Option<Screen>, StoreError> {
        let doc: Option<String> =
            sqlx::query_scalar("SELECT doc::text FROM cem_screens WHERE device = $1")
                .bind(device.0)
                .fetch_optional(self.pool())
                .await
                .map_err(map_sqlx)?;
        doc.as_deref().map(decode).transpose()
    }

    async fn screens(&self, branch: BranchId) -> Result<Vec<Screen>, StoreError> {
        SCREENS
            .list(self.pool(), "branch", &branch.0, "name COLLATE \"C\", id")
            .await
    }

    async fn delete_screen(&self, id: ScreenId) -> Result<(), StoreError> {
        SCREENS.delete(self.pool(), &id.0).await
    }

    async fn put_playlist(&self, playlist: &Playlist) -> Result<(), StoreError> {
        PLAYLISTS
            .put_named(
                self.pool(),
                (&playlist.id.0, &playlist.organization.0),
                &playlist.name,
                playlist,
            )
            .await
    }

    async fn playlist(&self, id: PlaylistId) -> Result<Playlist, StoreError> {
        PLAYLISTS.get(self.pool(), &id.0).await
    }

    async fn playlists(&self, organization: OrganizationId) -> Result<Vec<Playlist>, StoreError> {
        PLAYLISTS
            .list(
                self.pool(),
                "organization",
                &organization.0,
                "name COLLATE \"C\", id",
            )
            .await
    }

    async fn delete_playlist(&self, id: PlaylistId) -> Result<(), StoreError> {
        PLAYLISTS.delete(self.pool(), &id.0).await
    }

    async fn put_news(&self, news: &News) -> Result<(), StoreError> {
        // The document and the column hold the same instants, cut to the microsecond.
        let news = News {
            publish_from: micros(news.publish_from),
            publish_until: news.publish_until.map(micros),
            ..news.clone()
        };
        let done = sqlx::query(
            "INSERT INTO cem_news (id, organization, publish_from, doc) \
             VALUES ($1, $2, $3, $4::jsonb) \
             ON CONFLICT (id) DO UPDATE SET publish_from = excluded.publish_from, \
             doc = excluded.doc WHERE cem_news.organization = excluded.organization",
        )
        .bind(news.id.0)
        .bind(news.organization.0)
        .bind(news.publish_from)
        .bind(to_json(&news)?)
        .execute(self.pool())
        .await
        .map_err(map_sqlx)?;
        NEWS.owned(done, &news.id.0)
    }

    async fn news_item(&self, id: NewsId) -> Result<News, StoreError> {
        NEWS.get(self.pool(), &id.0).await
    }

    async fn news(&self, organization: OrganizationId) -> Result<Vec<News>, StoreError> {
        NEWS.list(
            self.pool(),
            "organization",
            &organization.0,
            "publish_from, id",
        )
        .await
    }

    async fn delete_news(&self, id: NewsId) -> Result<(), StoreError> {
        NEWS.delete(self.pool(), &id.0).await
    }

    async fn put_branch_info(&self, info: &BranchInfo) -> Result<(), StoreError> {
        // The location lives in its columns only.
        let doc = to_json(&BranchInfo {
            location: None,
            ..info.clone()
        })?;
        let done = sqlx::query(
            "INSERT INTO cem_branch_info (branch, organization, lat, lon, doc) \
             VALUES ($1, $2, $3, $4, $5::jsonb) \
             ON CONFLICT (branch) DO UPDATE SET lat = excluded.lat, lon = excluded.lon, \
             doc = excluded.doc WHERE cem_branch_info.organization = excluded.organization",
        )
        .bind(info.branch.0)
        .bind(info.organization.0)
        .bind(info.location.map(|p| p.lat))
        .bind(info.location.map(|p| p.lon))
        .bind(doc)
        .execute(self.pool())
        .await
        .map_err(map_sqlx)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                what: format!(
                    "the information of branch {} belongs to another organization",
                    info.branch
                ),
            });
        }
        Ok(())
    }

    async fn branch_info(&self, branch: BranchId) -> Result<Option<BranchInfo>, StoreError> {
        let row =
            sqlx::query("SELECT doc::text AS doc, lat, lon FROM cem_branch_info WHERE branch = $1")
                .bind(branch.0)
                .fetch_optional(self.pool())
                .await
                .map_err(map_sqlx)?;
        row.as_ref().map(decode_info).transpose()
    }

    async fn branch_infos(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<BranchInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT doc::text AS doc, lat, lon FROM cem_branch_info WHERE organization = $1 \
             ORDER BY branch",
        )
        .bind(organization.0)
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        rows.iter().map(decode_info).collect()
    }
}
