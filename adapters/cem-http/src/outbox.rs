//! The outbox as administrators see it: dead letters, replaying them, and erasing a
//! recipient's contact data.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use cem_core::{MessageId, OutboxEntry, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::record;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// How many dead messages to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadQuery {
    /// Most messages to return (default 100, at most 1,000).
    pub limit: Option<usize>,
}

/// The organization's messages that were given up on, the latest first: refused for good, out
/// of attempts, or erased, each with its last error.
#[utoipa::path(get, path = "/api/v1/outbox/dead", tag = "notifications", params(DeadQuery),
    responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub(crate) async fn dead(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<DeadQuery>,
) -> Result<Json<Vec<OutboxEntry>>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1_000);
    Ok(Json(
        state.stores().outbox.dead(principal.org()?, limit).await?,
    ))
}

/// One message of the organization's outbox with its delivery record.
#[utoipa::path(get, path = "/api/v1/outbox/{message}", tag = "notifications",
    params(("message" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn message(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<MessageId>,
) -> Result<Json<OutboxEntry>, ApiError> {
    Ok(Json(ours(&state, &principal, id).await?))
}

/// Sends a dead message again, from now on, with its attempts counted anew.
#[utoipa::path(post, path = "/api/v1/outbox/{message}/replay", tag = "notifications",
    params(("message" = String, Path)),
    responses((status = 204), (status = 404, body = crate::Problem), (status = 409, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn replay(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<MessageId>,
) -> Result<StatusCode, ApiError> {
    ours(&state, &principal, id).await?;
    state.stores().outbox.replay(id, state.now()).await?;
    record(&state, &principal, "outbox.replay", &id.to_string(), &()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whose contact data to erase.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EraseRequest {
    /// The phone number or e-mail address, exactly as messages were addressed.
    pub to: String,
}

/// What an erasure changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Erased {
    /// Messages that lost their address and text.
    pub erased: u64,
    /// Tickets' contacts deleted (their tickets tell that customer nothing more).
    pub contacts: u64,
    /// Bookings whose holder lost their name, phone number and e-mail address.
    pub bookings: u64,
    /// Survey responses and cases that lost the contact their respondent left (their
    /// answers stay).
    pub survey_contacts: u64,
}

/// Erases a customer's contact data from the organization, at their request: the contacts
/// left with tickets are deleted, bookings keep no name, phone or address of theirs, survey
/// responses and cases forget the contact left for a follow-up, and each message to that
/// address keeps its record but loses the address and the text, and those not yet sent are
/// not sent. The audit log records the erasure without the address.
#[utoipa::path(post, path = "/api/v1/outbox/erase", tag = "notifications",
    request_body = EraseRequest,
    responses((status = 200, body = Erased), (status = 400, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn erase(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Json(body): Json<EraseRequest>,
) -> Result<Json<Erased>, ApiError> {
    let to = body.to.trim();
    if to.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_recipient",
            "give the phone number or e-mail address to erase",
        ));
    }
    let organization = principal.org()?;
    // Contacts first: once they are gone, no new message to that address is derived.
    let contacts = state
        .stores()
        .contacts
        .erase_contacts(organization, to)
        .await?;
    let bookings = state
        .stores()
        .reservations
        .erase_holders(organization, to)
        .await?;
    let survey_contacts = state
        .stores()
        .surveys
        .erase_reply_to(organization, to)
        .await?;
    let erased = state
        .stores()
        .outbox
        .erase_recipient(organization, to, state.now())
        .await?;
    let done = Erased {
        erased,
        contacts,
        bookings,
        survey_contacts,
    };
    record(&state, &principal, "outbox.erase", "recipient", &done).await?;
    Ok(Json(done))
}

/// A message of the caller's organization; another organization's is not found.
async fn ours(
    state: &AppState,
    principal: &Principal,
    id: MessageId,
) -> Result<OutboxEntry, ApiError> {
    let missing = || ApiError::not_found("message_not_found", format!("no message {id}"));
    match state.stores().outbox.message(id).await {
        Ok(entry) if Some(entry.message.organization) == principal.organization => Ok(entry),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(missing()),
        Err(e) => Err(e.into()),
    }
}
