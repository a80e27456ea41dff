//! What the public learns of a branch before coming (address, hours, holidays, waits, news)
//! and which branch of an organization to go to.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use cem_core::chrono::{DateTime, Days, NaiveDate, Utc};
use cem_core::{
    BranchId, BranchInfo, GeoPoint, Holiday, Language, LocalizedText, OpeningHours, OrganizationId,
    ServiceId, StoreError,
};
use cem_signage::{
    Candidate, best_branches, branch_news, next_closing, next_opening, open_now,
    validate_branch_info,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{NewsView, body, language_param, localized, news_view, readable, refused, stored};
use crate::audit::record;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::queue::branch_status;
use crate::state::AppState;

/// How far ahead the public information lists holidays, in days.
const HOLIDAYS_AHEAD_DAYS: u64 = 60;

/// Walking speed, in metres a second: what `best` assumes when no speed is given.
const WALKING_M_PER_S: f64 = 1.4;

/// The information of a branch as an administrator or its manager writes it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BranchInfoRequest {
    /// The postal address, in each language.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub address: LocalizedText,
    /// Where it is: `{"lat": 35.6997, "lon": 51.3380}` (WGS 84 degrees).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub location: Option<GeoPoint>,
    /// A phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Local dates it is closed beyond its weekly hours: `{"date": "2026-03-20", "name":
    /// {"en": "Nowruz"}}`, one per date.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub holidays: Vec<Holiday>,
}

/// The organization of a branch the route layer has let through.
async fn organization_of(state: &AppState, branch: BranchId) -> Result<OrganizationId, ApiError> {
    state
        .find_branch_organization(branch)
        .await?
        .ok_or_else(|| ApiError::not_found("branch_not_found", format!("no branch {branch}")))
}

/// Sets the public information of a branch: address, location, phone, holidays.
#[utoipa::path(put, path = "/api/v1/branches/{branch}/info", tag = "signage",
    params(("branch" = String, Path)), request_body = BranchInfoRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`invalid_branch_info`, naming the field")),
    security(("bearer" = [])))]
pub(crate) async fn put_info(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(branch): Path<BranchId>,
    request: Result<Json<BranchInfoRequest>, JsonRejection>,
) -> Result<Json<BranchInfo>, ApiError> {
    let request = body(request, "invalid_branch_info")?;
    let info = BranchInfo {
        branch,
        organization: organization_of(&state, branch).await?,
        address: request.address,
        location: request.location,
        phone: request.phone.map(|p| p.trim().to_owned()),
        holidays: request.holidays,
    };
    validate_branch_info(&info).map_err(refused)?;
    state
        .stores()
        .signage
        .put_branch_info(&info)
        .await
        .map_err(|e| stored(e, "branch_not_found"))?;
    record(
        &state,
        &principal,
        "branch_info.put",
        &branch.to_string(),
        &info,
    )
    .await?;
    Ok(Json(info))
}

/// The language of public information.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InfoQuery {
    /// The language to write in (`en`, `fa`); the organization's default when absent.
    pub language: Option<String>,
}

/// A holiday, in one language.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HolidayView {
    /// The local date.
    pub date: NaiveDate,
    /// Its name (empty when it has none).
    pub name: String,
}

/// A service of a branch and its wait now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceWait {
    /// Id: what a ticket asks for.
    #[schema(value_type = String)]
    pub id: ServiceId,
    /// Ticket prefix (`A`).
    pub prefix: String,
    /// Name.
    pub name: String,
    /// Tickets waiting.
    pub waiting: u32,
    /// Roughly what a new ticket faces, in seconds, while a counter serves the service.
    pub estimated_wait_secs: Option<f64>,
}

/// What the public learns of a branch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BranchInfoView {
    /// The branch.
    #[schema(value_type = String)]
    pub branch: BranchId,
    /// The language of the texts.
    #[schema(value_type = String, example = "en")]
    pub language: Language,
    /// Name.
    pub name: String,
    /// Time zone (`Europe/Berlin`).
    pub time_zone: String,
    /// Postal address, when given.
    pub address: Option<String>,
    /// Where it is (`lat`, `lon`), when given.
    #[schema(value_type = Option<Object>)]
    pub location: Option<GeoPoint>,
    /// Phone number, when given.
    pub phone: Option<String>,
    /// Weekly opening hours (`day`, `open`, `close`, local); none means always open.
    #[schema(value_type = Vec<Object>)]
    pub opening_hours: OpeningHours,
    /// Whether it is open now (weekly hours, holidays).
    pub open_now: bool,
    /// When it opens next: now when open; `null` when it does not within a year.
    pub next_opening: Option<DateTime<Utc>>,
    /// When it closes next: now when closed; `null` when it stays open for a year.
    pub next_closing: Option<DateTime<Utc>>,
    /// Its holidays from today over the next 60 days.
    pub holidays: Vec<HolidayView>,
    /// Its services, with waiting counts and estimated waits.
    pub services: Vec<ServiceWait>,
    /// Its current public news, the most urgent first.
    pub news: Vec<NewsView>,
}

/// A branch's public information: name, address, location, phone, weekly hours, whether it
/// is open and when it opens or closes next (holidays counted), the coming holidays, each
/// service's waiting count and estimated wait, and the current news for the branch.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/info", tag = "signage",
    params(("branch" = String, Path), InfoQuery),
    responses((status = 200, body = BranchInfoView), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 429, body = crate::Problem)))]
pub(crate) async fn get_info(
    State(state): State<AppState>,
    Path(branch): Path<BranchId>,
    query: Result<Query<InfoQuery>, QueryRejection>,
) -> Result<Json<BranchInfoView>, ApiError> {
    let Query(query) = readable(query)?;
    let asked = language_param(query.language.as_deref())?;
    let organization = organization_of(&state, branch).await?;
    let fallback = state
        .stores()
        .org
        .organization(organization)
        .await?
        .default_language;
    let language = asked.unwrap_or_else(|| fallback.clone());
    let now = state.now();
    let (record, status) = state
        .queue()
        .read(branch, |q| {
            (q.config().branch.clone(), branch_status(q, now))
        })
        .await?;
    let info = state.stores().signage.branch_info(branch).await?;
    let news = state.stores().signage.news(organization).await?;
    let today = now.with_timezone(&record.time_zone).date_naive();
    let horizon = today
        .checked_add_days(Days::new(HOLIDAYS_AHEAD_DAYS))
        .unwrap_or(today);
    let mut holidays: Vec<HolidayView> = info
        .iter()
        .flat_map(|i| &i.holidays)
        .filter(|h| today <= h.date && h.date <= horizon)
        .map(|h| HolidayView {
            date: h.date,
            name: localized(&h.name, &language, &fallback),
        })
        .collect();
    holidays.sort_by_key(|h| h.date);
    Ok(Json(BranchInfoView {
        branch,
        name: localized(&record.name, &language, &fallback),
        time_zone: record.time_zone.name().to_owned(),
        address: info
            .as_ref()
            .filter(|i| !i.address.is_empty())
            .map(|i| localized(&i.address, &language, &fallback)),
        location: info.as_ref().and_then(|i| i.location),
        phone: info.as_ref().and_then(|i| i.phone.clone()),
        opening_hours: record.opening_hours.clone(),
        open_now: open_now(&record, info.as_ref(), now),
        next_opening: next_opening(&record, info.as_ref(), now),
        next_closing: next_closing(&record, info.as_ref(), now),
        holidays,
        services: status
            .services
            .into_iter()
            .map(|s| ServiceWait {
                id: s.id,
                name: localized(&s.name, &language, &fallback),
                prefix: s.prefix,
                waiting: s.waiting,
                estimated_wait_secs: s.estimated_wait_secs,
            })
            .collect(),
        news: branch_news(&news, &record, now)
            .into_iter()
            .map(|n| news_view(n, &language, &fallback))
            .collect(),
        language,
    }))
}

/// Where the customer is and what they come for.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BestQuery {
    /// The customer's latitude (WGS 84 degrees, −90 to 90).
    pub lat: f64,
    /// The customer's longitude (−180 to 180).
    pub lon: f64,
    /// The service wanted: a service's id, or a ticket prefix (`A`) naming the same service at
    /// every branch. Only branches offering it are ranked, by its estimated wait; without it,
    /// every branch, by the longest estimated wait of its services.
    pub service: Option<String>,
    /// The customer's speed in metres a second (default 1.4, walking).
    pub speed: Option<f64>,
    /// The language of the branches' names; the organization's default when absent.
    pub language: Option<String>,
}

/// A branch worth going to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BestBranch {
    /// The branch.
    #[schema(value_type = String)]
    pub branch: BranchId,
    /// Its name.
    pub name: String,
    /// How far it is, in metres (great circle).
    pub distance_m: f64,
    /// How long getting there takes, in seconds.
    pub travel_secs: f64,
    /// The expected wait there, in seconds, when there is an estimate (none while no counter
    /// serves the service).
    pub wait_secs: Option<f64>,
    /// Travel and wait (none counted as zero): the rank.
    pub total_secs: f64,
}

/// The open branches of an organization that have a location, best first for a customer at
/// `lat`/`lon`: by travel time at `speed` plus the expected wait. Branches without a
/// location, closed ones (weekly hours, holidays) and, with `service`, those not offering it
/// are left out.
#[utoipa::path(get, path = "/api/v1/organizations/{organization}/branches/best", tag = "signage",
    params(("organization" = String, Path), BestQuery),
    responses((status = 200, body = [BestBranch]), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem, description = "`organization_not_found`"),
        (status = 429, body = crate::Problem)))]
pub(crate) async fn best(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    query: Result<Query<BestQuery>, QueryRejection>,
) -> Result<Json<Vec<BestBranch>>, ApiError> {
    let Query(query) = readable(query)?;
    let unknown =
        || ApiError::not_found("organization_not_found", format!("no organization {raw}"));
    let organization: OrganizationId = raw.parse().map_err(|_| unknown())?;
    let fallback = match state.stores().org.organization(organization).await {
        Ok(o) => o.default_language,
        Err(StoreError::NotFound { .. }) => return Err(unknown()),
        Err(e) => return Err(e.into()),
    };
    if !(query.lat.is_finite() && (-90.0..=90.0).contains(&query.lat)) {
        return Err(ApiError::invalid("lat: −90 to 90"));
    }
    if !(query.lon.is_finite() && (-180.0..=180.0).contains(&query.lon)) {
        return Err(ApiError::invalid("lon: −180 to 180"));
    }
    let speed = query.speed.unwrap_or(WALKING_M_PER_S);
    if !(speed.is_finite() && speed > 0.0) {
        return Err(ApiError::invalid("speed: metres a second, above 0"));
    }
    let language = language_param(query.language.as_deref())?.unwrap_or_else(|| fallback.clone());
    let wanted = query.service.as_deref().map(str::trim);
    let infos = state.stores().signage.branch_infos(organization).await?;
    let now = state.now();
    let mut candidates = Vec::new();
    let mut names = Vec::new();
    for info in &infos {
        let Some(location) = info.location else {
            continue;
        };
        // A branch another instance created is loaded on first use.
        if state.find_branch_organization(info.branch).await? != Some(organization) {
            continue;
        }
        let (branch, status) = state
            .queue()
            .read(info.branch, |q| {
                (q.config().branch.clone(), branch_status(q, now))
            })
            .await?;
        let wait_secs =
            match wanted {
                Some(wanted) => {
                    let Some(service) = status.services.iter().find(|s| {
                        s.id.to_string() == wanted || s.prefix.eq_ignore_ascii_case(wanted)
                    }) else {
                        continue;
                    };
                    service.estimated_wait_secs
                }
                None => status
                    .services
                    .iter()
                    .filter_map(|s| s.estimated_wait_secs)
                    .reduce(f64::max),
            };
        candidates.push(Candidate {
            branch: branch.id,
            location,
            wait_secs,
            open: open_now(&branch, Some(info), now),
        });
        names.push((branch.id, localized(&branch.name, &language, &fallback)));
    }
    let origin = GeoPoint {
        lat: query.lat,
        lon: query.lon,
    };
    Ok(Json(
        best_branches(origin, &candidates, speed)
            .into_iter()
            .map(|r| BestBranch {
                branch: r.branch,
                name: names
                    .iter()
                    .find(|(b, _)| *b == r.branch)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default(),
                distance_m: r.distance_m,
                travel_secs: r.travel_secs,
                wait_secs: r.wait_secs,
                total_secs: r.total_secs,
            })
            .collect(),
    ))
}
