//! Integrations' webhook subscriptions: which events an organization's CRM or ERP receives,
//! where, signed with which secret, and the delivery log of each.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use cem_core::chrono::{DateTime, Utc};
use cem_core::{Attempt, OutboxEntry, SubscriptionId, WebhookSubscription};
use cem_queue::QueueEvent;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::record;
use crate::auth::{Principal, new_secret};
use crate::error::ApiError;
use crate::state::AppState;

/// A subscription as the API shows it. Its secret is shown once, when it is made.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// Id.
    #[schema(value_type = String)]
    pub id: SubscriptionId,
    /// Where events are posted.
    pub url: String,
    /// The event types it receives; empty for every type.
    pub events: Vec<String>,
    /// Whether it receives new events.
    pub active: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// The secret that signs every request: present only in the answer that made it. The
    /// receiver checks `X-CEM-Signature` with it (see the README).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<&WebhookSubscription> for WebhookView {
    fn from(s: &WebhookSubscription) -> Self {
        Self {
            id: s.id,
            url: s.url.clone(),
            events: s.events.clone(),
            active: s.active,
            created_at: s.created_at,
            secret: None,
        }
    }
}

/// What a subscription wants.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookRequest {
    /// Where to post events: an `http` or `https` URL, one subscription per URL.
    pub url: String,
    /// The event types to receive (`ticket_issued`, `ticket_called`, …); empty or absent for
    /// every type.
    #[serde(default)]
    pub events: Vec<String>,
    /// Whether it receives new events (default true).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl WebhookRequest {
    fn check(&self) -> Result<(), ApiError> {
        let url = self.url.trim();
        let scheme_ok = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .is_some_and(|rest| !rest.is_empty());
        if !scheme_ok || url.chars().any(char::is_whitespace) || url.len() > 2_000 {
            return Err(invalid("url", "an http or https URL"));
        }
        if let Some(unknown) = self
            .events
            .iter()
            .find(|e| !QueueEvent::KINDS.contains(&e.as_str()))
        {
            return Err(invalid(
                "events",
                &format!(
                    "unknown event type {unknown:?}; known: {}",
                    QueueEvent::KINDS.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

fn invalid(field: &str, reason: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_webhook",
        format!("{field}: {reason}"),
    )
}

/// The organization's webhook subscriptions, oldest first.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "notifications",
    responses((status = 200, body = [WebhookView])), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let all = state
        .stores()
        .subscriptions
        .subscriptions(Some(principal.org()?))
        .await?;
    Ok(Json(all.iter().map(WebhookView::from).collect()))
}

/// Subscribes an integration to events. The answer carries the signing secret, once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "notifications",
    request_body = WebhookRequest,
    responses((status = 201, body = WebhookView), (status = 409, body = crate::Problem),
        (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Json(body): Json<WebhookRequest>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    body.check()?;
    let subscription = WebhookSubscription {
        id: SubscriptionId::new(uuid::Uuid::new_v4()),
        organization: principal.org()?,
        url: body.url.trim().to_owned(),
        events: body.events,
        secret: new_secret()?,
        active: body.active,
        created_at: state.now(),
    };
    state
        .stores()
        .subscriptions
        .put_subscription(&subscription)
        .await?;
    let mut view = WebhookView::from(&subscription);
    record(
        &state,
        &principal,
        "webhook.create",
        &subscription.id.to_string(),
        &view,
    )
    .await?;
    view.secret = Some(subscription.secret);
    Ok((StatusCode::CREATED, Json(view)))
}

/// One subscription.
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook}", tag = "notifications",
    params(("webhook" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<SubscriptionId>,
) -> Result<Json<WebhookView>, ApiError> {
    Ok(Json(WebhookView::from(
        &ours(&state, &principal, id).await?,
    )))
}

/// Changes a subscription's URL, event types or activity; its secret stays.
#[utoipa::path(put, path = "/api/v1/webhooks/{webhook}", tag = "notifications",
    params(("webhook" = String, Path)), request_body = WebhookRequest,
    responses((status = 200, body = WebhookView), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<SubscriptionId>,
    Json(body): Json<WebhookRequest>,
) -> Result<Json<WebhookView>, ApiError> {
    body.check()?;
    let subscription = WebhookSubscription {
        url: body.url.trim().to_owned(),
        events: body.events,
        active: body.active,
        ..ours(&state, &principal, id).await?
    };
    state
        .stores()
        .subscriptions
        .put_subscription(&subscription)
        .await?;
    let view = WebhookView::from(&subscription);
    record(&state, &principal, "webhook.update", &id.to_string(), &view).await?;
    Ok(Json(view))
}

/// Ends a subscription. Its messages not yet delivered are not sent (they die: nothing signs
/// them any more).
#[utoipa::path(delete, path = "/api/v1/webhooks/{webhook}", tag = "notifications",
    params(("webhook" = String, Path)),
    responses((status = 204), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<SubscriptionId>,
) -> Result<StatusCode, ApiError> {
    state
        .stores()
        .subscriptions
        .delete_subscription(principal.org()?, id)
        .await
        .map_err(|e| not_found_as(e, id))?;
    record(&state, &principal, "webhook.delete", &id.to_string(), &()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many deliveries to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Most messages to return (default 50, at most 500).
    pub limit: Option<usize>,
}

/// One event posted (or to be posted) to a subscription, with every attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    /// The message, its state and its delivery record.
    #[schema(value_type = Object)]
    pub message: OutboxEntry,
    /// Each settled attempt, oldest first.
    #[schema(value_type = [Object])]
    pub attempts: Vec<Attempt>,
}

/// The subscription's delivery log: the latest events posted to its URL, each with its
/// attempts (when, how it ended, the error).
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook}/deliveries", tag = "notifications",
    params(("webhook" = String, Path), DeliveriesQuery),
    responses((status = 200, body = [Delivery]), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<SubscriptionId>,
    Query(query): Query<DeliveriesQuery>,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    let subscription = ours(&state, &principal, id).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let outbox = &state.stores().outbox;
    let messages = outbox
        .sent_to(subscription.organization, &subscription.url, limit)
        .await?;
    let mut log = Vec::with_capacity(messages.len());
    for message in messages {
        let attempts = outbox.attempts(message.message.id).await?;
        log.push(Delivery { message, attempts });
    }
    Ok(Json(log))
}

/// A subscription of the caller's organization; another organization's is not found.
async fn ours(
    state: &AppState,
    principal: &Principal,
    id: SubscriptionId,
) -> Result<WebhookSubscription, ApiError> {
    state
        .stores()
        .subscriptions
        .subscription(principal.org()?, id)
        .await
        .map_err(|e| not_found_as(e, id))
}

fn not_found_as(e: cem_core::StoreError, id: SubscriptionId) -> ApiError {
    match e {
        cem_core::StoreError::NotFound { .. } => {
            ApiError::not_found("webhook_not_found", format!("no webhook {id}"))
        }
        other => other.into(),
    }
}
