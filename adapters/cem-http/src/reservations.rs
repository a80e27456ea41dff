//! Appointments over HTTP: a service's reservation plan (managers), its slots and bookings
//! (the public, who holds a booking by its code), the branch's agenda, check-in into the queue
//! and no-shows (staff).
//!
//! The rules are `cem-reservation`'s; this module translates, picks who the actor is, checks
//! the holder's contact like a ticket's, and hands each change the messages it causes
//! (`cem_notify::booking_messages`), which the store writes with it.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use cem_core::chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use cem_core::{
    Booking, BookingHolder, BookingId, BookingState, BranchConfig, BranchId, Language,
    LocalizedText, OrgStoreExt, OutboundMessage, ReservationPlan, ServiceId, StoreError, TicketId,
};
use cem_notify::{BookingNotice, BookingPlace, booking_messages};
use cem_queue::{Command, IssueTicket, TicketSource};
use cem_reservation::slots::resolve_start;
use cem_reservation::{
    Actor, CalendarEntry, ReservationError, ServiceError, Slot, agenda_ics, parse_code, to_ics,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::record;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::queue::{TicketView, ticket_of};
use crate::state::AppState;

/// The most local dates one slots request may span.
const MAX_SLOT_DAYS: i64 = 31;

/// A booking as the API shows it. The holder's contact is never shown; staff see the name
/// they greet the holder by.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BookingView {
    /// Id.
    #[schema(value_type = String)]
    pub id: BookingId,
    /// The code the holder keeps: it reads, changes and checks in the booking.
    pub code: String,
    /// Branch.
    #[schema(value_type = String)]
    pub branch: BranchId,
    /// Service.
    #[schema(value_type = String)]
    pub service: ServiceId,
    /// When the appointment starts.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: DateTime<Utc>,
    /// `confirmed`, `checked_in`, `cancelled`, `no_show`, `waitlisted`, `offered`, `lapsed`.
    #[schema(value_type = String, example = "confirmed")]
    pub state: BookingState,
    /// Until when an offered seat is held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// The queue ticket given at check-in (its tracking secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub ticket: Option<TicketId>,
    /// When the holder checked in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_in_at: Option<DateTime<Utc>>,
    /// The holder's name, for staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_name: Option<String>,
}

fn view(b: &Booking, staff: bool) -> BookingView {
    BookingView {
        id: b.id,
        code: b.code.as_str().to_owned(),
        branch: b.branch,
        service: b.service,
        start: b.start,
        end: b.end,
        state: b.state,
        offer_expires_at: b.offer_expires_at,
        ticket: b.ticket,
        checked_in_at: b.checked_in_at,
        holder_name: if staff { b.holder.name.clone() } else { None },
    }
}

/// A refused decision: 422 when the request itself is wrong, 409 when it does not fit the
/// booking or the slot as they stand.
fn refused(e: ReservationError) -> ApiError {
    let status = match e {
        ReservationError::InvalidPlan(_)
        | ReservationError::WrongPlan { .. }
        | ReservationError::NoSuchSlot { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        ReservationError::InvalidCode => return booking_not_found(),
        _ => StatusCode::CONFLICT,
    };
    ApiError::new(status, e.code(), e.to_string())
}

/// A failed service call; `missing` is the code of a record not found.
fn failed(e: ServiceError, missing: &'static str) -> ApiError {
    match e {
        ServiceError::Refused(r) => refused(r),
        ServiceError::NoPlan { .. } => ApiError::not_found("no_plan", e.to_string()),
        ServiceError::Store(StoreError::NotFound { what }) => {
            ApiError::not_found(missing, format!("no {what}"))
        }
        ServiceError::Store(s) => s.into(),
        other => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "reservation_error",
            other.to_string(),
        ),
    }
}

fn booking_not_found() -> ApiError {
    ApiError::not_found("booking_not_found", "no booking with this code")
}

fn no_plan(branch: BranchId, service: ServiceId) -> ApiError {
    ApiError::not_found(
        "no_plan",
        format!("service {service} takes no appointments at branch {branch}"),
    )
}

/// A JSON body or query string the handler could not read, as a problem document.
fn readable<T>(input: Result<T, impl std::fmt::Display>) -> Result<T, ApiError> {
    input.map_err(|e| ApiError::invalid(e.to_string()))
}

/// The configuration the queue uses for a branch (the route layer has loaded it).
fn branch_config(state: &AppState, branch: BranchId) -> Result<Arc<BranchConfig>, ApiError> {
    state
        .queue()
        .config(branch)
        .ok_or_else(|| ApiError::not_found("branch_not_found", format!("no branch {branch}")))
}

/// The branch's and the service's names in `language`.
fn names(config: &BranchConfig, service: ServiceId, language: &Language) -> (String, String) {
    let text = |t: &LocalizedText| {
        t.get(language, &Language::en())
            .unwrap_or_default()
            .to_owned()
    };
    let service = config
        .services
        .iter()
        .find(|s| s.id == service)
        .map(|s| text(&s.name))
        .unwrap_or_default();
    (text(&config.branch.name), service)
}

/// The messages `notice` gives a booking's holder, as a change's notices.
fn messages(
    state: &AppState,
    branch: BranchId,
    notice: BookingNotice,
) -> Result<impl Fn(&Booking) -> Vec<OutboundMessage> + Send + Sync + use<>, ApiError> {
    let config = branch_config(state, branch)?;
    let public_url = state.0.settings.public_url.clone();
    Ok(move |b: &Booking| {
        let service = config
            .services
            .iter()
            .find(|s| s.id == b.service)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let place = BookingPlace {
            branch: &config.branch.name,
            service: &service,
            time_zone: config.branch.time_zone,
            public_url: &public_url,
        };
        booking_messages(notice, b, &place).unwrap_or_else(|e| {
            tracing::error!(error = %e, booking = %b.id, "cannot write a booking's messages");
            Vec::new()
        })
    })
}

/// The host name of the public address: the domain of calendar entries' `UID`s.
fn domain(public_url: &str) -> &str {
    let rest = public_url.split_once("://").map_or(public_url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

fn calendar(ics: String, filename: &str) -> Response {
    (
        [
            (CONTENT_TYPE, "text/calendar; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        ics,
    )
        .into_response()
}

async fn find(state: &AppState, branch: BranchId, code: &str) -> Result<Booking, ApiError> {
    let code = parse_code(code).map_err(|_| booking_not_found())?;
    state
        .reservations()
        .by_code(branch, &code)
        .await
        .map_err(|e| failed(e, "booking_not_found"))
}

/// Who changes a booking: staff keep to no change notice, everyone else is its holder.
fn actor(principal: &Principal) -> Actor {
    if principal.role.is_staff() {
        Actor::Staff
    } else {
        Actor::Holder
    }
}

// ---- Plans ----------------------------------------------------------------------------------

/// Sets the reservation plan of a service at a branch: the fields of a plan (weekly intervals,
/// breaks, overrides, closures, slot interval, duration, buffers, capacity, notices, horizon,
/// limits, reminder lead, waitlist offer time); organization, branch and service come from
/// the path.
#[utoipa::path(put, path = "/api/v1/branches/{branch}/services/{service}/plan", tag = "reservations",
    params(("branch" = String, Path), ("service" = String, Path)),
    request_body(content = Object, description = "The plan's fields"),
    responses((status = 200, body = Object), (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn put_plan(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, service)): Path<(BranchId, ServiceId)>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<ReservationPlan>, ApiError> {
    let Json(mut body) = readable(body)?;
    let config = state.stores().org.branch_config(branch).await?;
    let takes_appointments = config
        .services
        .iter()
        .find(|s| s.id == service)
        .ok_or_else(|| ApiError::not_found("unknown_service", format!("no service {service}")))?
        .takes_appointments;
    if !takes_appointments {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "appointments_not_accepted",
            format!("service {service} takes no appointments"),
        ));
    }
    let fields = body
        .as_object_mut()
        .ok_or_else(|| ApiError::invalid("the plan is a JSON object"))?;
    fields.insert(
        "organization".into(),
        config.branch.organization.to_string().into(),
    );
    fields.insert("branch".into(), branch.to_string().into());
    fields.insert("service".into(), service.to_string().into());
    let invalid =
        |detail: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_plan", detail);
    let plan: ReservationPlan = serde_json::from_value(body).map_err(|e| invalid(e.to_string()))?;
    plan.validate().map_err(|e| invalid(e.to_string()))?;
    state.stores().reservations.put_plan(&plan).await?;
    record(
        &state,
        &principal,
        "reservation_plan.put",
        &format!("{branch}/{service}"),
        &plan,
    )
    .await?;
    Ok(Json(plan))
}

/// The reservation plan of a service at a branch.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/services/{service}/plan", tag = "reservations",
    params(("branch" = String, Path), ("service" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_plan(
    State(state): State<AppState>,
    Path((branch, service)): Path<(BranchId, ServiceId)>,
) -> Result<Json<ReservationPlan>, ApiError> {
    state
        .stores()
        .reservations
        .plans(branch)
        .await?
        .into_iter()
        .find(|p| p.service == service)
        .map(Json)
        .ok_or_else(|| no_plan(branch, service))
}

/// Ends appointments for a service at a branch; its bookings stay.
#[utoipa::path(delete, path = "/api/v1/branches/{branch}/services/{service}/plan", tag = "reservations",
    params(("branch" = String, Path), ("service" = String, Path)),
    responses((status = 204), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete_plan(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, service)): Path<(BranchId, ServiceId)>,
) -> Result<StatusCode, ApiError> {
    match state
        .stores()
        .reservations
        .delete_plan(branch, service)
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound { .. }) => return Err(no_plan(branch, service)),
        Err(e) => return Err(e.into()),
    }
    record(
        &state,
        &principal,
        "reservation_plan.delete",
        &format!("{branch}/{service}"),
        &(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Slots and bookings -------------------------------------------------------------------

/// Which local dates to list slots of.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotsQuery {
    /// The first local date (`YYYY-MM-DD`).
    #[param(value_type = String)]
    pub from: NaiveDate,
    /// The last local date (default `from`), at most 31 days after it.
    #[param(value_type = Option<String>)]
    pub to: Option<NaiveDate>,
}

/// The slots of a service at a branch on the local dates asked, each with its seats and
/// whether it can be booked now.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/services/{service}/slots", tag = "reservations",
    params(("branch" = String, Path), ("service" = String, Path), SlotsQuery),
    responses((status = 200, body = [Object]), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem)))]
pub(crate) async fn slots(
    State(state): State<AppState>,
    Path((branch, service)): Path<(BranchId, ServiceId)>,
    query: Result<Query<SlotsQuery>, QueryRejection>,
) -> Result<Json<Vec<Slot>>, ApiError> {
    let Query(query) = readable(query)?;
    let to = query.to.unwrap_or(query.from);
    let days = (to - query.from).num_days();
    if !(0..MAX_SLOT_DAYS).contains(&days) {
        return Err(ApiError::invalid(format!(
            "`to` must be `from` or up to {} days after it",
            MAX_SLOT_DAYS - 1
        )));
    }
    Ok(Json(
        state
            .reservations()
            .slots(branch, service, query.from..=to)
            .await
            .map_err(|e| failed(e, "branch_not_found"))?,
    ))
}

/// Who holds a booking and how to reach them: a phone number (international form) or an
/// e-mail address, or both (the public must give one).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct HolderRequest {
    /// The name staff greet the holder by.
    #[serde(default)]
    pub name: Option<String>,
    /// A mobile number in international form (`+4930123456`), for text messages.
    #[serde(default)]
    pub phone: Option<String>,
    /// An e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// The language to write in (`en`, `fa`); English when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
}

/// A booking asked for.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewBooking {
    /// The service.
    #[schema(value_type = String)]
    pub service: ServiceId,
    /// The slot's start.
    pub start: DateTime<Utc>,
    /// The holder.
    #[serde(default)]
    pub holder: HolderRequest,
    /// Join the waitlist of a full slot instead (where the plan keeps one).
    #[serde(default)]
    pub waitlist: bool,
}

/// The holder of a new booking, checked like a ticket's contact.
fn holder(h: HolderRequest, principal: &Principal) -> Result<BookingHolder, ApiError> {
    let clean = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let holder = BookingHolder {
        name: clean(h.name),
        phone: clean(h.phone),
        email: clean(h.email),
        language: h.language.unwrap_or_else(Language::en),
    };
    let invalid =
        |detail: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_contact", detail);
    if holder
        .name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 200)
    {
        return Err(invalid("name: at most 200 characters".into()));
    }
    // Staff may book for someone who left no contact; the public must leave one (their
    // messages, and what the plan's per-holder limits count).
    let anonymous = holder.phone.is_none() && holder.email.is_none();
    if !(anonymous && principal.role.is_staff()) {
        cem_core::contact::check_reach(holder.phone.as_deref(), holder.email.as_deref())
            .map_err(|e| invalid(e.to_string()))?;
    }
    Ok(holder)
}

/// Books a slot (or, with `waitlist`, joins the waitlist of a full one). The answer's `code`
/// is the booking's secret: it reads, changes and checks in the booking. The holder is sent
/// the confirmation with a link to manage it.
#[utoipa::path(post, path = "/api/v1/branches/{branch}/bookings", tag = "reservations",
    params(("branch" = String, Path)), request_body = NewBooking,
    responses((status = 201, body = BookingView), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub(crate) async fn book(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(branch): Path<BranchId>,
    body: Result<Json<NewBooking>, JsonRejection>,
) -> Result<(StatusCode, Json<BookingView>), ApiError> {
    let Json(body) = readable(body)?;
    branch_config(&state, branch)?;
    let holder = holder(body.holder, &principal)?;
    let confirmation = messages(&state, branch, BookingNotice::Confirmed)?;
    // A place on the waitlist is no booking yet: its holder hears when a seat is offered.
    let notices = move |b: &Booking| {
        if b.state == BookingState::Confirmed {
            confirmation(b)
        } else {
            Vec::new()
        }
    };
    let booking = state
        .reservations()
        .book(
            branch,
            body.service,
            BookingId::new(uuid::Uuid::new_v4()),
            body.start,
            None,
            holder,
            body.waitlist,
            &notices,
        )
        .await
        .map_err(|e| failed(e, "branch_not_found"))?;
    Ok((
        StatusCode::CREATED,
        Json(view(&booking, principal.role.is_staff())),
    ))
}

/// A booking by its code.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/bookings/{code}", tag = "reservations",
    params(("branch" = String, Path), ("code" = String, Path, description = "The booking code")),
    responses((status = 200, body = BookingView), (status = 404, body = crate::Problem)))]
pub(crate) async fn booking(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, code)): Path<(BranchId, String)>,
) -> Result<Json<BookingView>, ApiError> {
    let b = find(&state, branch, &code).await?;
    Ok(Json(view(&b, principal.role.is_staff())))
}

/// Cancels a booking (or leaves its waitlist); the holder keeps to the plan's change notice,
/// staff do not. The holder is told.
#[utoipa::path(post, path = "/api/v1/branches/{branch}/bookings/{code}/cancel", tag = "reservations",
    params(("branch" = String, Path), ("code" = String, Path)),
    responses((status = 200, body = BookingView), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem)))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, code)): Path<(BranchId, String)>,
) -> Result<Json<BookingView>, ApiError> {
    let b = find(&state, branch, &code).await?;
    let notices = messages(&state, branch, BookingNotice::Cancelled)?;
    let offered = messages(&state, branch, BookingNotice::Offered)?;
    let b = state
        .reservations()
        .cancel(b.id, actor(&principal), &notices, &offered)
        .await
        .map_err(|e| failed(e, "booking_not_found"))?;
    Ok(Json(view(&b, principal.role.is_staff())))
}

/// Takes the seat offered to a waitlisted holder (the booking reads `offered` until
/// `offer_expires_at`); the booking is confirmed and the holder told.
#[utoipa::path(post, path = "/api/v1/branches/{branch}/bookings/{code}/accept", tag = "reservations",
    params(("branch" = String, Path), ("code" = String, Path)),
    responses((status = 200, body = BookingView), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem)))]
pub(crate) async fn accept(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, code)): Path<(BranchId, String)>,
) -> Result<Json<BookingView>, ApiError> {
    let b = find(&state, branch, &code).await?;
    let notices = messages(&state, branch, BookingNotice::Confirmed)?;
    let b = state
        .reservations()
        .accept_offer(b.id, &notices)
        .await
        .map_err(|e| failed(e, "booking_not_found"))?;
    Ok(Json(view(&b, principal.role.is_staff())))
}

/// The new slot of a booking.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RescheduleRequest {
    /// The new slot's start.
    pub start: DateTime<Utc>,
}

/// Moves a booking to another slot of its service; the holder keeps to the plan's change
/// notice, staff do not. The holder is told.
#[utoipa::path(post, path = "/api/v1/branches/{branch}/bookings/{code}/reschedule", tag = "reservations",
    params(("branch" = String, Path), ("code" = String, Path)), request_body = RescheduleRequest,
    responses((status = 200, body = BookingView), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub(crate) async fn reschedule(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, code)): Path<(BranchId, String)>,
    body: Result<Json<RescheduleRequest>, JsonRejection>,
) -> Result<Json<BookingView>, ApiError> {
    let Json(body) = readable(body)?;
    let b = find(&state, branch, &code).await?;
    let notices = messages(&state, branch, BookingNotice::Changed)?;
    let offered = messages(&state, branch, BookingNotice::Offered)?;
    let b = state
        .reservations()
        .reschedule(b.id, body.start, actor(&principal), &notices, &offered)
        .await
        .map_err(|e| failed(e, "booking_not_found"))?;
    Ok(Json(view(&b, principal.role.is_staff())))
}

/// A booking as an iCalendar file (`text/calendar`), in the holder's language.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/bookings/{code}/calendar.ics", tag = "reservations",
    params(("branch" = String, Path), ("code" = String, Path)),
    responses((status = 200, content_type = "text/calendar", body = String),
        (status = 404, body = crate::Problem)))]
pub(crate) async fn booking_ics(
    State(state): State<AppState>,
    Path((branch, code)): Path<(BranchId, String)>,
) -> Result<Response, ApiError> {
    let b = find(&state, branch, &code).await?;
    let config = branch_config(&state, branch)?;
    let (branch_name, service_name) = names(&config, b.service, &b.holder.language);
    let ics = to_ics(
        &b,
        &branch_name,
        &service_name,
        config.branch.time_zone,
        domain(&state.0.settings.public_url),
    );
    Ok(calendar(ics, &format!("booking-{}.ics", b.code)))
}

/// The QR code of a booking (`image/svg+xml`), for the holder to show at the kiosk or the
/// counter: it holds the booking's page, `<public_url>/booking/<branch>/<code>`, whose last
/// segment is the code a scanner checks in.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/bookings/{code}/qr.svg", tag = "reservations",
    params(("branch" = String, Path), ("code" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String),
        (status = 404, body = crate::Problem)))]
pub(crate) async fn booking_qr(
    State(state): State<AppState>,
    Path((branch, code)): Path<(BranchId, String)>,
) -> Result<Response, ApiError> {
    let b = find(&state, branch, &code).await?;
    let link = format!(
        "{}/booking/{branch}/{}",
        state.0.settings.public_url.trim_end_matches('/'),
        b.code
    );
    let qr = qrcode::QrCode::new(link.as_bytes()).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "qr_failed",
            e.to_string(),
        )
    })?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build();
    Ok(([(CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

// ---- Staff --------------------------------------------------------------------------------

/// Which local date of the branch.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgendaQuery {
    /// The local date (`YYYY-MM-DD`); today at the branch when absent.
    #[param(value_type = Option<String>)]
    pub date: Option<NaiveDate>,
}

/// The bookings of a branch starting on a local date, every service and state, by start.
async fn day(
    state: &AppState,
    branch: BranchId,
    query: Result<Query<AgendaQuery>, QueryRejection>,
) -> Result<(Arc<BranchConfig>, NaiveDate, Vec<Booking>), ApiError> {
    let Query(query) = readable(query)?;
    let config = branch_config(state, branch)?;
    let tz = config.branch.time_zone;
    let date = query
        .date
        .unwrap_or_else(|| state.now().with_timezone(&tz).date_naive());
    let next = date
        .succ_opt()
        .ok_or_else(|| ApiError::invalid("no such date"))?;
    let from = resolve_start(tz, date.and_time(NaiveTime::MIN));
    let to = resolve_start(tz, next.and_time(NaiveTime::MIN));
    let bookings = state
        .stores()
        .reservations
        .bookings(branch, from, to)
        .await?;
    Ok((config, date, bookings))
}

/// The branch's bookings of a local date (every service and state, by start), with the
/// holders' names.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/agenda", tag = "reservations",
    params(("branch" = String, Path), AgendaQuery),
    responses((status = 200, body = [BookingView]), (status = 400, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn agenda(
    State(state): State<AppState>,
    Path(branch): Path<BranchId>,
    query: Result<Query<AgendaQuery>, QueryRejection>,
) -> Result<Json<Vec<BookingView>>, ApiError> {
    let (_, _, bookings) = day(&state, branch, query).await?;
    Ok(Json(bookings.iter().map(|b| view(b, true)).collect()))
}

/// The branch's bookings of a local date as an iCalendar feed (`text/calendar`).
#[utoipa::path(get, path = "/api/v1/branches/{branch}/agenda.ics", tag = "reservations",
    params(("branch" = String, Path), AgendaQuery),
    responses((status = 200, content_type = "text/calendar", body = String),
        (status = 400, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn agenda_calendar(
    State(state): State<AppState>,
    Path(branch): Path<BranchId>,
    query: Result<Query<AgendaQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (config, date, bookings) = day(&state, branch, query).await?;
    let named: Vec<(String, String)> = bookings
        .iter()
        .map(|b| names(&config, b.service, &b.holder.language))
        .collect();
    let entries: Vec<CalendarEntry<'_>> = bookings
        .iter()
        .zip(&named)
        .map(|(booking, (branch_name, service_name))| CalendarEntry {
            booking,
            branch_name,
            service_name,
        })
        .collect();
    let en = Language::en();
    let branch_name = config.branch.name.get(&en, &en).unwrap_or_default();
    let ics = agenda_ics(
        &entries,
        config.branch.time_zone,
        domain(&state.0.settings.public_url),
        Some(&format!("{branch_name} {date}")),
    );
    Ok(calendar(ics, &format!("agenda-{date}.ics")))
}

/// A checked-in booking and the queue ticket its holder got.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckInView {
    /// The booking, now `checked_in`.
    pub booking: BookingView,
    /// The ticket: an appointment ticket in time, a walk-in when late.
    pub ticket: TicketView,
}

/// Checks a booking's holder in: within the arrival window an appointment ticket at the
/// booking's start, later that day a walk-in ticket. A booking checks in once.
#[utoipa::path(post, path = "/api/v1/branches/{branch}/bookings/{code}/check-in", tag = "reservations",
    params(("branch" = String, Path), ("code" = String, Path)),
    responses((status = 200, body = CheckInView), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn check_in(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, code)): Path<(BranchId, String)>,
) -> Result<Json<CheckInView>, ApiError> {
    let b = find(&state, branch, &code).await?;
    let staff = principal.role.is_staff();
    if let Some(done) = finish_check_in(&state, &b, staff).await? {
        return Ok(Json(done));
    }
    let ticket = TicketId::new(uuid::Uuid::new_v4());
    let issue = |appointment_at| {
        Command::Issue(IssueTicket {
            ticket,
            service: b.service,
            class: None,
            source: TicketSource::Reservation,
            customer: b.customer,
            appointment_at,
        })
    };
    // The booking records its ticket before the queue issues it; so that a queue that would
    // refuse the ticket (the branch closed, the service's daily cap) does not leave a booking
    // checked in without one, both decisions are tried first, changing nothing.
    let config = branch_config(&state, branch)?;
    let now = state.now();
    let (_, how) = cem_reservation::check_in(
        &b,
        config.branch.time_zone,
        &config.branch.queue,
        ticket,
        now,
    )
    .map_err(refused)?;
    let command = issue(how.appointment_at());
    state
        .queue()
        .read(branch, |q| q.decide(&command, now).map(|_| ()))
        .await??;
    let (b, how) = state
        .reservations()
        .check_in(b.id, ticket)
        .await
        .map_err(|e| failed(e, "booking_not_found"))?;
    let view_of_ticket = state
        .execute(
            branch,
            &issue(how.appointment_at()),
            ticket_of(&state, ticket, staff),
        )
        .await
        .and_then(|t| t)
        .inspect_err(|e| {
            tracing::error!(booking = %b.id, %ticket, error = %e,
                "a booking was checked in but its ticket was not issued");
        })?;
    Ok(Json(CheckInView {
        booking: view(&b, staff),
        ticket: view_of_ticket,
    }))
}

/// Completes a check-in left half done: the booking recorded its ticket, but the queue never
/// issued it (the server stopped, or the store failed, between the two writes). The holder
/// checking in again gets that ticket now, as an appointment when the first attempt was
/// within the arrival window and the queue still takes it so, else as a walk-in. `None` for
/// any other booking.
async fn finish_check_in(
    state: &AppState,
    b: &Booking,
    staff: bool,
) -> Result<Option<CheckInView>, ApiError> {
    let (BookingState::CheckedIn, Some(ticket), Some(at)) = (b.state, b.ticket, b.checked_in_at)
    else {
        return Ok(None);
    };
    let issued = state
        .queue()
        .read(b.branch, move |q| q.ticket(ticket).is_some())
        .await?;
    if issued {
        return Ok(None);
    }
    let config = branch_config(state, b.branch)?;
    let first = Booking {
        state: BookingState::Confirmed,
        ..b.clone()
    };
    let appointment_at = cem_reservation::check_in(
        &first,
        config.branch.time_zone,
        &config.branch.queue,
        ticket,
        at,
    )
    .ok()
    .and_then(|(_, how)| how.appointment_at());
    let issue = |appointment_at| {
        Command::Issue(IssueTicket {
            ticket,
            service: b.service,
            class: None,
            source: TicketSource::Reservation,
            customer: b.customer,
            appointment_at,
        })
    };
    let now = state.now();
    let takes_appointment = state
        .queue()
        .read(b.branch, |q| q.decide(&issue(appointment_at), now).is_ok())
        .await?;
    let command = issue(appointment_at.filter(|_| takes_appointment));
    let view_of_ticket = state
        .execute(b.branch, &command, ticket_of(state, ticket, staff))
        .await
        .and_then(|t| t)?;
    tracing::warn!(booking = %b.id, %ticket, "a half-done check-in was completed");
    Ok(Some(CheckInView {
        booking: view(b, staff),
        ticket: view_of_ticket,
    }))
}

/// Marks a booking nobody came for as a no-show (after the arrival window's grace period).
#[utoipa::path(post, path = "/api/v1/branches/{branch}/bookings/{code}/no-show", tag = "reservations",
    params(("branch" = String, Path), ("code" = String, Path)),
    responses((status = 200, body = BookingView), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn no_show(
    State(state): State<AppState>,
    Path((branch, code)): Path<(BranchId, String)>,
) -> Result<Json<BookingView>, ApiError> {
    let b = find(&state, branch, &code).await?;
    let b = state
        .reservations()
        .no_show(b.id)
        .await
        .map_err(|e| failed(e, "booking_not_found"))?;
    Ok(Json(view(&b, true)))
}

#[cfg(test)]
mod tests {
    use super::domain;

    #[test]
    fn the_calendar_domain_is_the_public_host() {
        assert_eq!(domain("https://cem.example.org/base"), "cem.example.org");
        assert_eq!(domain("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(domain("cem.example.org"), "cem.example.org");
    }
}
