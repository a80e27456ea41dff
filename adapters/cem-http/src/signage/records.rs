//! Layouts, playlists and news: the administrators' records (a branch manager writes the news
//! of their own branches). Every change is checked by `cem-signage`'s rules and audited.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    Layout, LayoutId, LocalizedText, News, NewsId, OrganizationId, Playlist, PlaylistId,
    PlaylistItem, Priority, StoreError, Targets, Zone,
};
use cem_signage::{validate_layout, validate_news, validate_playlist};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{body, check_targets, parse_id, refused, stored};
use crate::audit::record;
use crate::auth::{ApiRole, Principal};
use crate::error::ApiError;
use crate::state::AppState;

// ---- Layouts ------------------------------------------------------------------------------

/// A layout as an administrator writes it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LayoutRequest {
    /// Name shown to administrators.
    pub name: String,
    /// The zones, drawn in order: each a `key` (`[a-z0-9_]`, unique), a `kind`
    /// (`{"type": "now_serving", "rows": 5}`, `{"type": "recent_calls", "count": 5}`, or the
    /// type `media`, `news_ticker`, `clock`, `waiting_summary`, `join_qr`) and an `area`
    /// (`x`, `y`, `w`, `h` in percent of the screen).
    #[schema(value_type = Vec<Object>)]
    pub zones: Vec<Zone>,
}

impl LayoutRequest {
    fn layout(self, id: LayoutId, organization: OrganizationId) -> Layout {
        Layout {
            id,
            organization,
            name: self.name,
            zones: self.zones,
        }
    }
}

/// A layout of the caller's organization; another organization's is not found.
async fn our_layout(
    state: &AppState,
    organization: OrganizationId,
    raw: &str,
) -> Result<Layout, ApiError> {
    let id: LayoutId = parse_id(raw, "layout_not_found", "layout")?;
    match state.stores().signage.layout(id).await {
        Ok(l) if l.organization == organization => Ok(l),
        Ok(_) => Err(ApiError::not_found(
            "layout_not_found",
            format!("no layout {id}"),
        )),
        Err(e) => Err(stored(e, "layout_not_found")),
    }
}

/// The organization's layouts, by name.
#[utoipa::path(get, path = "/api/v1/layouts", tag = "signage",
    responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub(crate) async fn list_layouts(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<Layout>>, ApiError> {
    Ok(Json(
        state.stores().signage.layouts(principal.org()?).await?,
    ))
}

/// Creates a layout; its id is made here.
#[utoipa::path(post, path = "/api/v1/layouts", tag = "signage",
    request_body = LayoutRequest,
    responses((status = 201, body = Object), (status = 400, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`invalid_layout`, naming the field")),
    security(("bearer" = [])))]
pub(crate) async fn create_layout(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    request: Result<Json<LayoutRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Layout>), ApiError> {
    let request = body(request, "invalid_layout")?;
    let layout = request.layout(LayoutId::new(uuid::Uuid::new_v4()), principal.org()?);
    validate_layout(&layout).map_err(refused)?;
    state
        .stores()
        .signage
        .put_layout(&layout)
        .await
        .map_err(|e| stored(e, "layout_not_found"))?;
    record(
        &state,
        &principal,
        "layout.create",
        &layout.id.to_string(),
        &layout,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(layout)))
}

/// A layout.
#[utoipa::path(get, path = "/api/v1/layouts/{layout}", tag = "signage",
    params(("layout" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_layout(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
) -> Result<Json<Layout>, ApiError> {
    Ok(Json(our_layout(&state, principal.org()?, &raw).await?))
}

/// Replaces a layout; the screens showing it show the new one.
#[utoipa::path(put, path = "/api/v1/layouts/{layout}", tag = "signage",
    params(("layout" = String, Path)), request_body = LayoutRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`invalid_layout`, naming the field")),
    security(("bearer" = [])))]
pub(crate) async fn put_layout(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
    request: Result<Json<LayoutRequest>, JsonRejection>,
) -> Result<Json<Layout>, ApiError> {
    let request = body(request, "invalid_layout")?;
    let organization = principal.org()?;
    let previous = our_layout(&state, organization, &raw).await?;
    let layout = request.layout(previous.id, organization);
    validate_layout(&layout).map_err(refused)?;
    state
        .stores()
        .signage
        .put_layout(&layout)
        .await
        .map_err(|e| stored(e, "layout_not_found"))?;
    record(
        &state,
        &principal,
        "layout.change",
        &layout.id.to_string(),
        &layout,
    )
    .await?;
    Ok(Json(layout))
}

/// Deletes a layout no screen shows.
#[utoipa::path(delete, path = "/api/v1/layouts/{layout}", tag = "signage",
    params(("layout" = String, Path)),
    responses((status = 204), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem, description = "`layout_in_use`: screens show it")),
    security(("bearer" = [])))]
pub(crate) async fn delete_layout(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let layout = our_layout(&state, principal.org()?, &raw).await?;
    state
        .stores()
        .signage
        .delete_layout(layout.id)
        .await
        .map_err(|e| stored(e, "layout_not_found"))?;
    record(
        &state,
        &principal,
        "layout.delete",
        &layout.id.to_string(),
        &(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Playlists ----------------------------------------------------------------------------

/// A playlist as an administrator writes it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlaylistRequest {
    /// Name shown to administrators.
    pub name: String,
    /// The items, in the order shown: each a `key` (`[a-z0-9_]`, unique), a `content`
    /// (`{"type": "image", "url": …}`, `video`, `web_page`, or `{"type": "text", "text":
    /// {"en": …}}`), `duration_secs` and an optional `schedule` (`from`, `until`, `weekdays`,
    /// `times` of day in the branch's time zone).
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<PlaylistItem>,
    /// The screens it is for: `{"type": "all"}`, `{"type": "branches", "ids": […]}` or
    /// `{"type": "screens", "ids": […]}`, of the organization.
    #[schema(value_type = Object)]
    pub targets: Targets,
}

impl PlaylistRequest {
    fn playlist(self, id: PlaylistId, organization: OrganizationId) -> Playlist {
        Playlist {
            id,
            organization,
            name: self.name,
            items: self.items,
            targets: self.targets,
        }
    }
}

/// A playlist of the caller's organization; another organization's is not found.
async fn our_playlist(
    state: &AppState,
    organization: OrganizationId,
    raw: &str,
) -> Result<Playlist, ApiError> {
    let id: PlaylistId = parse_id(raw, "playlist_not_found", "playlist")?;
    match state.stores().signage.playlist(id).await {
        Ok(p) if p.organization == organization => Ok(p),
        Ok(_) => Err(ApiError::not_found(
            "playlist_not_found",
            format!("no playlist {id}"),
        )),
        Err(e) => Err(stored(e, "playlist_not_found")),
    }
}

/// Checks a playlist and stores it.
async fn save_playlist(state: &AppState, playlist: &Playlist) -> Result<(), ApiError> {
    validate_playlist(playlist).map_err(refused)?;
    check_targets(
        state,
        playlist.organization,
        &playlist.targets,
        "invalid_playlist",
    )
    .await?;
    state
        .stores()
        .signage
        .put_playlist(playlist)
        .await
        .map_err(|e| stored(e, "playlist_not_found"))
}

/// The organization's playlists, by name.
#[utoipa::path(get, path = "/api/v1/playlists", tag = "signage",
    responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub(crate) async fn list_playlists(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<Playlist>>, ApiError> {
    Ok(Json(
        state.stores().signage.playlists(principal.org()?).await?,
    ))
}

/// Creates a playlist; its id is made here.
#[utoipa::path(post, path = "/api/v1/playlists", tag = "signage",
    request_body = PlaylistRequest,
    responses((status = 201, body = Object), (status = 400, body = crate::Problem),
        (status = 422, body = crate::Problem,
            description = "`invalid_playlist`, naming the field (or a target outside the organization)")),
    security(("bearer" = [])))]
pub(crate) async fn create_playlist(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    request: Result<Json<PlaylistRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Playlist>), ApiError> {
    let request = body(request, "invalid_playlist")?;
    let playlist = request.playlist(PlaylistId::new(uuid::Uuid::new_v4()), principal.org()?);
    save_playlist(&state, &playlist).await?;
    record(
        &state,
        &principal,
        "playlist.create",
        &playlist.id.to_string(),
        &playlist,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(playlist)))
}

/// A playlist.
#[utoipa::path(get, path = "/api/v1/playlists/{playlist}", tag = "signage",
    params(("playlist" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_playlist(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
) -> Result<Json<Playlist>, ApiError> {
    Ok(Json(our_playlist(&state, principal.org()?, &raw).await?))
}

/// Replaces a playlist.
#[utoipa::path(put, path = "/api/v1/playlists/{playlist}", tag = "signage",
    params(("playlist" = String, Path)), request_body = PlaylistRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`invalid_playlist`, naming the field")),
    security(("bearer" = [])))]
pub(crate) async fn put_playlist(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
    request: Result<Json<PlaylistRequest>, JsonRejection>,
) -> Result<Json<Playlist>, ApiError> {
    let request = body(request, "invalid_playlist")?;
    let organization = principal.org()?;
    let previous = our_playlist(&state, organization, &raw).await?;
    let playlist = request.playlist(previous.id, organization);
    save_playlist(&state, &playlist).await?;
    record(
        &state,
        &principal,
        "playlist.change",
        &playlist.id.to_string(),
        &playlist,
    )
    .await?;
    Ok(Json(playlist))
}

/// Deletes a playlist.
#[utoipa::path(delete, path = "/api/v1/playlists/{playlist}", tag = "signage",
    params(("playlist" = String, Path)),
    responses((status = 204), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete_playlist(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let playlist = our_playlist(&state, principal.org()?, &raw).await?;
    state
        .stores()
        .signage
        .delete_playlist(playlist.id)
        .await
        .map_err(|e| stored(e, "playlist_not_found"))?;
    record(
        &state,
        &principal,
        "playlist.delete",
        &playlist.id.to_string(),
        &(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- News ---------------------------------------------------------------------------------

/// A piece of news as an administrator or a branch manager writes it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewsRequest {
    /// The headline, in each language (`{"en": "Closed on Friday", "fa": "…"}`).
    #[schema(value_type = Object)]
    pub title: LocalizedText,
    /// The text, in each language.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub body: LocalizedText,
    /// Shown from this instant; now when absent.
    #[serde(default)]
    pub publish_from: Option<DateTime<Utc>>,
    /// Shown until this instant (exclusive); until withdrawn when absent.
    #[serde(default)]
    pub publish_until: Option<DateTime<Utc>>,
    /// Where it shows: `{"type": "all"}` (administrators only), `{"type": "branches", "ids":
    /// […]}` or `{"type": "screens", "ids": […]}`; a branch manager names only their branches
    /// or their branches' screens.
    #[schema(value_type = Object)]
    pub targets: Targets,
    /// `normal` (default), `high` or `urgent`.
    #[serde(default = "normal")]
    #[schema(value_type = Option<String>, example = "normal")]
    pub priority: Priority,
}

fn normal() -> Priority {
    Priority::Normal
}

impl NewsRequest {
    fn news(self, id: NewsId, organization: OrganizationId, now: DateTime<Utc>) -> News {
        News {
            id,
            organization,
            title: self.title,
            body: self.body,
            publish_from: self.publish_from.unwrap_or(now),
            publish_until: self.publish_until,
            targets: self.targets,
            priority: self.priority,
        }
    }
}

/// A piece of news of the caller's organization; another organization's is not found.
async fn our_news(
    state: &AppState,
    organization: OrganizationId,
    raw: &str,
) -> Result<News, ApiError> {
    let id: NewsId = parse_id(raw, "news_not_found", "news")?;
    match state.stores().signage.news_item(id).await {
        Ok(n) if n.organization == organization => Ok(n),
        Ok(_) => Err(ApiError::not_found(
            "news_not_found",
            format!("no news {id}"),
        )),
        Err(e) => Err(stored(e, "news_not_found")),
    }
}

/// Refuses a branch manager news that reaches beyond their branches: every screen, another
/// branch, or a screen of another branch.
async fn within_reach(
    state: &AppState,
    principal: &Principal,
    targets: &Targets,
) -> Result<(), ApiError> {
    if principal.role == ApiRole::Admin {
        return Ok(());
    }
    let ours = match targets {
        Targets::All => false,
        Targets::Branches(branches) => branches.iter().all(|b| principal.branches.contains(b)),
        Targets::Screens(screens) => {
            let mut all = true;
            for id in screens {
                match state.stores().signage.screen(*id).await {
                    Ok(s) if principal.branches.contains(&s.branch) => {}
                    Ok(_) | Err(StoreError::NotFound { .. }) => all = false,
                    Err(e) => return Err(e.into()),
                }
            }
            all
        }
    };
    if ours {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "a branch manager's news is for their own branches or their screens only",
        ))
    }
}

/// Checks a piece of news (shape, organization, the caller's reach) and stores it.
async fn save_news(state: &AppState, principal: &Principal, news: &News) -> Result<(), ApiError> {
    validate_news(news).map_err(refused)?;
    check_targets(state, news.organization, &news.targets, "invalid_news").await?;
    within_reach(state, principal, &news.targets).await?;
    state
        .stores()
        .signage
        .put_news(news)
        .await
        .map_err(|e| stored(e, "news_not_found"))
}

/// The organization's news, published or not, oldest first.
#[utoipa::path(get, path = "/api/v1/news", tag = "signage",
    responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub(crate) async fn list_news(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<News>>, ApiError> {
    Ok(Json(state.stores().signage.news(principal.org()?).await?))
}

/// Creates a piece of news; its id is made here.
#[utoipa::path(post, path = "/api/v1/news", tag = "signage",
    request_body = NewsRequest,
    responses((status = 201, body = Object), (status = 400, body = crate::Problem),
        (status = 403, body = crate::Problem, description = "a manager's news for beyond their branches"),
        (status = 422, body = crate::Problem,
            description = "`invalid_news`, naming the field (or a target outside the organization)")),
    security(("bearer" = [])))]
pub(crate) async fn create_news(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    request: Result<Json<NewsRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<News>), ApiError> {
    let request = body(request, "invalid_news")?;
    let news = request.news(
        NewsId::new(uuid::Uuid::new_v4()),
        principal.org()?,
        state.now(),
    );
    save_news(&state, &principal, &news).await?;
    record(
        &state,
        &principal,
        "news.create",
        &news.id.to_string(),
        &news,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(news)))
}

/// A piece of news.
#[utoipa::path(get, path = "/api/v1/news/{news}", tag = "signage",
    params(("news" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_news(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
) -> Result<Json<News>, ApiError> {
    Ok(Json(our_news(&state, principal.org()?, &raw).await?))
}

/// Replaces a piece of news (withdraw it with `publish_until`). A branch manager changes only
/// news of their branches, and keeps it there.
#[utoipa::path(put, path = "/api/v1/news/{news}", tag = "signage",
    params(("news" = String, Path)), request_body = NewsRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`invalid_news`, naming the field")),
    security(("bearer" = [])))]
pub(crate) async fn put_news(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
    request: Result<Json<NewsRequest>, JsonRejection>,
) -> Result<Json<News>, ApiError> {
    let request = body(request, "invalid_news")?;
    let organization = principal.org()?;
    let previous = our_news(&state, organization, &raw).await?;
    within_reach(&state, &principal, &previous.targets).await?;
    let news = request.news(previous.id, organization, previous.publish_from);
    save_news(&state, &principal, &news).await?;
    record(
        &state,
        &principal,
        "news.change",
        &news.id.to_string(),
        &news,
    )
    .await?;
    Ok(Json(news))
}

/// Deletes a piece of news. A branch manager deletes only news of their branches.
#[utoipa::path(delete, path = "/api/v1/news/{news}", tag = "signage",
    params(("news" = String, Path)),
    responses((status = 204), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete_news(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let news = our_news(&state, principal.org()?, &raw).await?;
    within_reach(&state, &principal, &news.targets).await?;
    state
        .stores()
        .signage
        .delete_news(news.id)
        .await
        .map_err(|e| stored(e, "news_not_found"))?;
    record(&state, &principal, "news.delete", &news.id.to_string(), &()).await?;
    Ok(StatusCode::NO_CONTENT)
}
