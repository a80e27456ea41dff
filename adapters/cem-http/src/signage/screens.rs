//! The screens of a branch, and what a screen reads: itself, its content now, the files to
//! fetch ahead, and its live stream with call announcements.
//!
//! A display device reads only the screen it is; administrators and the branch's managers
//! read any screen of their branches, to preview it. Nothing a screen reads holds a ticket
//! id, a customer, a name or a contact: tickets appear by display number, counters by number.

use std::convert::Infallible;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use cem_core::chrono::{DateTime, TimeDelta, Utc};
use cem_core::{
    BranchId, DeviceId, DeviceKind, Language, Layout, LayoutId, Screen, ScreenId, StoreError,
    ZoneKind,
};
use cem_queue::BranchQueue;
use cem_signage::{
    MediaNow, ScreenCall, etag, manifest, media_at, news_at, targets, validate_screen,
};
use futures::Stream;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{NewsView, body, news_view, parse_id, readable, refused, stored, unprocessable};
use crate::audit::record;
use crate::auth::{ApiRole, Principal};
use crate::error::ApiError;
use crate::live::{Announcer, LiveQuery, resume_from, stream};
use crate::queue::branch_status;
use crate::state::AppState;

/// How long a screen may keep its content at most before asking again.
const REFRESH_EVERY: TimeDelta = TimeDelta::seconds(60);

/// The longest window a manifest covers, in hours (a week).
const MAX_MANIFEST_HOURS: u32 = 168;

// ---- Administration -----------------------------------------------------------------------

/// A screen as an administrator or a branch manager writes it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ScreenRequest {
    /// Name shown to administrators ("Hall, left").
    pub name: String,
    /// The language it writes and speaks (`en`, `fa`).
    #[schema(value_type = String, example = "fa")]
    pub language: Language,
    /// The layout it shows, of the organization.
    #[schema(value_type = String)]
    pub layout: LayoutId,
    /// The display device of the branch that is this screen, when one is.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub device: Option<DeviceId>,
}

/// A screen of `branch` (in the path); another branch's is not found.
async fn our_screen(state: &AppState, branch: BranchId, raw: &str) -> Result<Screen, ApiError> {
    let id: ScreenId = parse_id(raw, "screen_not_found", "screen")?;
    match state.stores().signage.screen(id).await {
        Ok(s) if s.branch == branch => Ok(s),
        Ok(_) => Err(ApiError::not_found(
            "screen_not_found",
            format!("no screen {id}"),
        )),
        Err(e) => Err(stored(e, "screen_not_found")),
    }
}

/// Checks a screen (its shape, its layout, its device) and stores it.
async fn save_screen(state: &AppState, screen: &Screen) -> Result<(), ApiError> {
    validate_screen(screen).map_err(refused)?;
    let unknown_layout = || {
        unprocessable(
            "unknown_layout",
            format!("layout: no layout {} in the organization", screen.layout),
        )
    };
    match state.stores().signage.layout(screen.layout).await {
        Ok(l) if l.organization == screen.organization => {}
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(unknown_layout()),
        Err(e) => return Err(e.into()),
    }
    if let Some(device) = screen.device {
        let invalid = || {
            unprocessable(
                "invalid_device",
                format!("device: {device} is not a display device of this branch"),
            )
        };
        match state.stores().auth.device(device).await {
            Ok(d) if d.branch == screen.branch && d.kind == DeviceKind::Display => {}
            Ok(_) | Err(StoreError::NotFound { .. }) => return Err(invalid()),
            Err(e) => return Err(e.into()),
        }
    }
    match state.stores().signage.put_screen(screen).await {
        Ok(()) => Ok(()),
        // The layout went between the check and the write.
        Err(StoreError::NotFound { .. }) => Err(unknown_layout()),
        Err(e) => Err(stored(e, "screen_not_found")),
    }
}

fn screen_of(
    request: ScreenRequest,
    id: ScreenId,
    principal: &Principal,
    branch: BranchId,
) -> Result<Screen, ApiError> {
    Ok(Screen {
        id,
        organization: principal.org()?,
        branch,
        name: request.name,
        language: request.language,
        layout: request.layout,
        device: request.device,
    })
}

/// The screens of a branch, by name.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/screens", tag = "signage",
    params(("branch" = String, Path)),
    responses((status = 200, body = [Object]), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list_screens(
    State(state): State<AppState>,
    Path(branch): Path<BranchId>,
) -> Result<Json<Vec<Screen>>, ApiError> {
    Ok(Json(state.stores().signage.screens(branch).await?))
}

/// Creates a screen of the branch; its id is made here.
#[utoipa::path(post, path = "/api/v1/branches/{branch}/screens", tag = "signage",
    params(("branch" = String, Path)), request_body = ScreenRequest,
    responses((status = 201, body = Object), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem, description = "`device_taken`: the device is another screen's"),
        (status = 422, body = crate::Problem,
            description = "`invalid_screen` naming the field, `unknown_layout`, `invalid_device`")),
    security(("bearer" = [])))]
pub(crate) async fn create_screen(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(branch): Path<BranchId>,
    request: Result<Json<ScreenRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Screen>), ApiError> {
    let request = body(request, "invalid_screen")?;
    let id = ScreenId::new(uuid::Uuid::new_v4());
    let screen = screen_of(request, id, &principal, branch)?;
    save_screen(&state, &screen).await?;
    record(
        &state,
        &principal,
        "screen.create",
        &screen.id.to_string(),
        &screen,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(screen)))
}

/// A screen of the branch.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/screens/{screen}", tag = "signage",
    params(("branch" = String, Path), ("screen" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_screen(
    State(state): State<AppState>,
    Path((branch, raw)): Path<(BranchId, String)>,
) -> Result<Json<Screen>, ApiError> {
    Ok(Json(our_screen(&state, branch, &raw).await?))
}

/// Replaces a screen of the branch: its name, language, layout and device.
#[utoipa::path(put, path = "/api/v1/branches/{branch}/screens/{screen}", tag = "signage",
    params(("branch" = String, Path), ("screen" = String, Path)), request_body = ScreenRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem, description = "`device_taken`"),
        (status = 422, body = crate::Problem,
            description = "`invalid_screen` naming the field, `unknown_layout`, `invalid_device`")),
    security(("bearer" = [])))]
pub(crate) async fn put_screen(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, raw)): Path<(BranchId, String)>,
    request: Result<Json<ScreenRequest>, JsonRejection>,
) -> Result<Json<Screen>, ApiError> {
    let request = body(request, "invalid_screen")?;
    let previous = our_screen(&state, branch, &raw).await?;
    let screen = screen_of(request, previous.id, &principal, branch)?;
    save_screen(&state, &screen).await?;
    record(
        &state,
        &principal,
        "screen.change",
        &screen.id.to_string(),
        &screen,
    )
    .await?;
    Ok(Json(screen))
}

/// Deletes a screen of the branch; its device is free for another.
#[utoipa::path(delete, path = "/api/v1/branches/{branch}/screens/{screen}", tag = "signage",
    params(("branch" = String, Path), ("screen" = String, Path)),
    responses((status = 204), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete_screen(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, raw)): Path<(BranchId, String)>,
) -> Result<StatusCode, ApiError> {
    let screen = our_screen(&state, branch, &raw).await?;
    state
        .stores()
        .signage
        .delete_screen(screen.id)
        .await
        .map_err(|e| stored(e, "screen_not_found"))?;
    record(
        &state,
        &principal,
        "screen.delete",
        &screen.id.to_string(),
        &(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- What a screen reads ------------------------------------------------------------------

/// A screen the caller may read: of the branch, and, for a display device, the one it is.
async fn readable_screen(
    state: &AppState,
    principal: &Principal,
    branch: BranchId,
    raw: &str,
) -> Result<Screen, ApiError> {
    let screen = our_screen(state, branch, raw).await?;
    if principal.role == ApiRole::Display
        && (screen.device.is_none() || screen.device != principal.device)
    {
        return Err(ApiError::forbidden(format!(
            "this device is not screen {}",
            screen.id
        )));
    }
    Ok(screen)
}

/// The screen the calling display device is.
#[utoipa::path(get, path = "/api/v1/screens/me", tag = "signage",
    responses((status = 200, body = Object),
        (status = 404, body = crate::Problem, description = "`no_screen`: the device is no screen yet")),
    security(("bearer" = [])))]
pub(crate) async fn me(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Screen>, ApiError> {
    let no_screen = || ApiError::not_found("no_screen", "this device is no screen yet");
    let device = principal.device.ok_or_else(no_screen)?;
    state
        .stores()
        .signage
        .screen_of_device(device)
        .await?
        .map(Json)
        .ok_or_else(no_screen)
}

/// A screen, as its content names it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScreenSummary {
    /// Id.
    #[schema(value_type = String)]
    pub id: ScreenId,
    /// Name.
    pub name: String,
    /// The language it writes and speaks.
    #[schema(value_type = String, example = "fa")]
    pub language: Language,
}

/// The now-serving board: display numbers and counter numbers, never anything personal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Board {
    /// The tickets held at counters now (called or being served), the latest call first, as
    /// many as the layout's now-serving zones show: `display`, `counter` (its number),
    /// `service` (its name in the screen's language), `called_at`.
    #[schema(value_type = Vec<Object>)]
    pub now_serving: Vec<ScreenCall>,
    /// The last calls, the latest first, as many as the layout's recent-calls zones show.
    #[schema(value_type = Vec<Object>)]
    pub recent_calls: Vec<ScreenCall>,
}

/// A service's line, as a waiting summary shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WaitingView {
    /// The service's ticket prefix (`A`).
    pub prefix: String,
    /// The service's name in the screen's language.
    pub name: String,
    /// Tickets waiting.
    pub waiting: u32,
    /// Roughly what a new ticket faces, in seconds, while a counter serves the service.
    pub estimated_wait_secs: Option<f64>,
}

/// The branch's clock.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClockView {
    /// The branch's time zone (`Asia/Tehran`).
    pub time_zone: String,
    /// The server's instant.
    pub now: DateTime<Utc>,
}

/// Everything a screen shows now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScreenContent {
    /// The screen.
    pub screen: ScreenSummary,
    /// Its layout: `id`, `name` and the `zones` to draw.
    #[schema(value_type = Object)]
    pub layout: Layout,
    /// The media item its media zones show now (`playlist`, `item`, `content`, `started_at`,
    /// `ends_at`), if any.
    #[schema(value_type = Option<Object>)]
    pub media: Option<MediaNow>,
    /// The news it shows now, the most urgent first, in its language.
    pub news: Vec<NewsView>,
    /// The now-serving board.
    pub board: Board,
    /// Waiting per service.
    pub waiting: Vec<WaitingView>,
    /// The branch's clock.
    pub clock: ClockView,
    /// The page to join the branch's queue from a phone (for a QR code).
    pub join_url: String,
    /// When to ask again at the latest: the end of the media item, the next time news starts
    /// or ends, or a minute from now, whichever comes first. Calls come by the live stream.
    pub refresh_at: DateTime<Utc>,
}

/// The most rows the layout's zones of a kind show (0 without such a zone).
fn rows(layout: &Layout, of: impl Fn(&ZoneKind) -> Option<u8>) -> usize {
    layout
        .zones
        .iter()
        .filter_map(|z| of(&z.kind))
        .max()
        .map_or(0, usize::from)
}

/// The board and the waiting summary of a branch's queue, in `language`.
fn board_and_waiting(
    q: &BranchQueue,
    now: DateTime<Utc>,
    serving_rows: usize,
    recent_rows: usize,
    language: &Language,
    fallback: &Language,
) -> (Board, Vec<WaitingView>) {
    let config = q.config();
    let service_name = |service| {
        config
            .service(service)
            .map(|s| super::localized(&s.name, language, fallback))
    };
    let latest_first =
        |a: &ScreenCall, b: &ScreenCall| (b.called_at, a.counter).cmp(&(a.called_at, b.counter));
    let mut now_serving: Vec<ScreenCall> = q
        .counters()
        .filter_map(|c| {
            let t = q.ticket(c.ticket?)?;
            Some(ScreenCall {
                display: t.display.clone(),
                counter: c.number,
                service: service_name(t.service),
                called_at: t.called_at?,
            })
        })
        .collect();
    now_serving.sort_by(latest_first);
    now_serving.truncate(serving_rows);
    let mut recent_calls: Vec<ScreenCall> = q
        .tickets()
        .filter_map(|t| {
            Some(ScreenCall {
                display: t.display.clone(),
                counter: config.counter(t.counter?)?.number,
                service: service_name(t.service),
                called_at: t.called_at?,
            })
        })
        .collect();
    recent_calls.sort_by(latest_first);
    recent_calls.truncate(recent_rows);
    let waiting = branch_status(q, now)
        .services
        .into_iter()
        .map(|s| WaitingView {
            name: super::localized(&s.name, language, fallback),
            prefix: s.prefix,
            waiting: s.waiting,
            estimated_wait_secs: s.estimated_wait_secs,
        })
        .collect();
    (
        Board {
            now_serving,
            recent_calls,
        },
        waiting,
    )
}

/// What `screen` shows now.
async fn content(state: &AppState, screen: &Screen) -> Result<ScreenContent, ApiError> {
    let now = state.now();
    let signage = &state.stores().signage;
    let layout = signage
        .layout(screen.layout)
        .await
        .map_err(|e| stored(e, "layout_not_found"))?;
    let playlists = signage.playlists(screen.organization).await?;
    let news = signage.news(screen.organization).await?;
    let fallback = state
        .stores()
        .org
        .organization(screen.organization)
        .await?
        .default_language;
    let serving_rows = rows(&layout, |k| match k {
        ZoneKind::NowServing { rows } => Some(*rows),
        _ => None,
    });
    let recent_rows = rows(&layout, |k| match k {
        ZoneKind::RecentCalls { count } => Some(*count),
        _ => None,
    });
    let language = &screen.language;
    let (tz, (board, waiting)) = state
        .queue()
        .read(screen.branch, |q| {
            (
                q.config().branch.time_zone,
                board_and_waiting(q, now, serving_rows, recent_rows, language, &fallback),
            )
        })
        .await?;
    let media = media_at(&playlists, screen, tz, now);
    let shown = news_at(&news, screen, now)
        .into_iter()
        .map(|n| news_view(n, language, &fallback))
        .collect();
    // News starts or ends: the screen asks again then.
    let next_news = news
        .iter()
        .filter(|n| n.organization == screen.organization && targets(&n.targets, screen))
        .flat_map(|n| [Some(n.publish_from), n.publish_until])
        .flatten()
        .filter(|t| *t > now)
        .min();
    let refresh_at = [media.as_ref().map(|m| m.ends_at), next_news]
        .into_iter()
        .flatten()
        .fold(now + REFRESH_EVERY, DateTime::min);
    Ok(ScreenContent {
        screen: ScreenSummary {
            id: screen.id,
            name: screen.name.clone(),
            language: screen.language.clone(),
        },
        layout,
        media,
        news: shown,
        board,
        waiting,
        clock: ClockView {
            time_zone: tz.name().to_owned(),
            now,
        },
        join_url: format!(
            "{}/join/{}",
            state.0.settings.public_url.trim_end_matches('/'),
            screen.branch
        ),
        refresh_at,
    })
}

/// Whether an `If-None-Match` header names `tag` (or is `*`).
fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim())
        .any(|v| v == "*" || v.strip_prefix("W/").unwrap_or(v) == tag)
}

/// `value` as JSON with an `ETag` over everything but its `volatile` top-level fields (those
/// that change every second), or 304 when the client has that version.
fn cacheable(
    value: &impl Serialize,
    volatile: &[&str],
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let failed = |e: serde_json::Error| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "serialization_failed",
            e.to_string(),
        )
    };
    let mut json = serde_json::to_value(value).map_err(failed)?;
    let whole = serde_json::to_vec(&json).map_err(failed)?;
    if let Some(fields) = json.as_object_mut() {
        for field in volatile {
            fields.remove(*field);
        }
    }
    let tag = etag(&serde_json::to_vec(&json).map_err(failed)?);
    let tag_header = HeaderValue::from_str(&tag).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "serialization_failed",
            e.to_string(),
        )
    })?;
    let headers_out = [
        (ETAG, tag_header),
        (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    if not_modified(headers, &tag) {
        return Ok((StatusCode::NOT_MODIFIED, headers_out).into_response());
    }
    Ok((
        headers_out,
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        whole,
    )
        .into_response())
}

/// Everything the screen shows now: the layout, the media item, the news, the now-serving
/// board (display and counter numbers only), waiting per service, the clock, the join link,
/// and when to ask again. The `ETag` covers all but `clock` and `refresh_at`; send it back in
/// `If-None-Match` to get 304 while nothing changed. Calls come faster by the live stream.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/screens/{screen}/content", tag = "signage",
    params(("branch" = String, Path), ("screen" = String, Path)),
    responses((status = 200, body = ScreenContent), (status = 304, description = "not modified"),
        (status = 403, body = crate::Problem, description = "a display device reading another screen"),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn screen_content(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, raw)): Path<(BranchId, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let screen = readable_screen(&state, &principal, branch, &raw).await?;
    let content = content(&state, &screen).await?;
    cacheable(&content, &["clock", "refresh_at"], &headers)
}

/// How far ahead a manifest looks.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ManifestQuery {
    /// Hours from now (default 24, at most 168).
    pub hours: Option<u32>,
}

/// The files a screen may need soon.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScreenManifest {
    /// URLs of the images and videos, sorted, each once: fetch and keep them.
    pub media: Vec<String>,
    /// URLs of the web pages, sorted, each once: warm a cache, but load again when shown.
    pub pages: Vec<String>,
}

/// The media and pages the screen may show over the next hours, to fetch ahead so it keeps
/// playing when the network or the server is away. With an `ETag`; 304 on `If-None-Match`.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/screens/{screen}/manifest", tag = "signage",
    params(("branch" = String, Path), ("screen" = String, Path), ManifestQuery),
    responses((status = 200, body = ScreenManifest), (status = 304, description = "not modified"),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn screen_manifest(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, raw)): Path<(BranchId, String)>,
    query: Result<Query<ManifestQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(query) = readable(query)?;
    let hours = query.hours.unwrap_or(24);
    if !(1..=MAX_MANIFEST_HOURS).contains(&hours) {
        return Err(ApiError::invalid(format!(
            "hours {hours}: 1 to {MAX_MANIFEST_HOURS}"
        )));
    }
    let screen = readable_screen(&state, &principal, branch, &raw).await?;
    let signage = &state.stores().signage;
    let layout = signage
        .layout(screen.layout)
        .await
        .map_err(|e| stored(e, "layout_not_found"))?;
    let playlists = signage.playlists(screen.organization).await?;
    let tz = state.stores().org.branch(branch).await?.time_zone;
    let now = state.now();
    let files = manifest(
        &screen,
        &layout,
        &playlists,
        tz,
        now,
        now + TimeDelta::hours(i64::from(hours)),
    );
    let view = ScreenManifest {
        media: files.media,
        pages: files.pages,
    };
    cacheable(&view, &[], &headers)
}

/// Where a screen's stream resumes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScreenLiveQuery {
    /// Resume after this global position (the last SSE `id` seen); `Last-Event-ID` wins.
    pub after: Option<u64>,
}

/// The screen's live stream (server-sent events): the branch's queue events as screens see
/// them (display and counter numbers, no ids), where every call and recall also carries its
/// `announcement` in the screen's language: `text`, `speech` (numbers in words), `language`,
/// `chime`, and `starts_at`/`ends_at`. Announcements play one at a time in call order and
/// never overlap; their times follow from the branch's events alone, so every server
/// instance and every reconnection gives the same. Each message's `id` is the event's global
/// position: reconnect with `Last-Event-ID` to miss no call. A `reset` message means too much
/// was missed: read the content again, then go on.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/screens/{screen}/events", tag = "signage",
    params(("branch" = String, Path), ("screen" = String, Path), ScreenLiveQuery),
    responses((status = 200, content_type = "text/event-stream", description = "queue events with announcements"),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn screen_events(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, raw)): Path<(BranchId, String)>,
    query: Result<Query<ScreenLiveQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Query(query) = readable(query)?;
    let screen = readable_screen(&state, &principal, branch, &raw).await?;
    let tz = state.stores().org.branch(branch).await?.time_zone;
    let announcer = Some(Announcer::new(screen.language, tz));
    let resume = resume_from(&headers, query.after);
    // A screen's stream is never staff's, whoever watches it: what it shows is public.
    let staff = false;
    Ok(stream(
        state,
        branch,
        LiveQuery::default(),
        resume,
        staff,
        announcer,
    )
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_stars() {
        let tag = "\"0123456789abcdef\"";
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(IF_NONE_MATCH, HeaderValue::from_static(v));
            h
        };
        assert!(not_modified(&with("\"0123456789abcdef\""), tag));
        assert!(not_modified(&with("\"x\", W/\"0123456789abcdef\""), tag));
        assert!(not_modified(&with("*"), tag));
        assert!(!not_modified(&with("\"x\""), tag));
        assert!(!not_modified(&HeaderMap::new(), tag));
    }
}
