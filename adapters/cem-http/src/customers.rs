//! Customers known to the organization: administrators keep them (a number looked up at the
//! kiosk, the class their tickets take, their language); staff and kiosks find them by number;
//! staff see their earlier visits before calling them.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    BranchId, ClassId, Customer, CustomerId, Language, OrganizationId, ServiceId, StoreError,
    TicketId, Visit,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::record;
use crate::auth::{ApiRole, Principal};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest customer number taken.
const MAX_NUMBER_LEN: usize = 64;
/// The most visits listed at once.
const MAX_VISITS: usize = 100;

/// A customer as written by an administrator.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerRequest {
    /// The organization's own customer number, typed at the kiosk; unique in the organization
    /// (spaces and case aside).
    #[serde(default)]
    pub number: Option<String>,
    /// The class the customer's tickets take (a VIP customer's `vip` class).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub class: Option<ClassId>,
    /// Preferred language.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
}

/// A customer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CustomerView {
    /// Id.
    #[schema(value_type = String)]
    pub id: CustomerId,
    /// Customer number.
    pub number: Option<String>,
    /// Class of the customer's tickets.
    #[schema(value_type = Option<String>)]
    pub class: Option<ClassId>,
    /// Preferred language.
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
}

impl From<Customer> for CustomerView {
    fn from(c: Customer) -> Self {
        Self {
            id: c.id,
            number: c.number,
            class: c.class,
            language: c.language,
        }
    }
}

/// Creates or replaces a customer.
#[utoipa::path(put, path = "/api/v1/customers/{customer}", tag = "organization",
    params(("customer" = String, Path)), request_body = CustomerRequest,
    responses((status = 200, body = CustomerView), (status = 409, body = crate::Problem),
        (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn put_customer(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<CustomerId>,
    Json(body): Json<CustomerRequest>,
) -> Result<Json<CustomerView>, ApiError> {
    let organization = principal.org()?;
    let number = body
        .number
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if number.as_ref().is_some_and(|n| n.len() > MAX_NUMBER_LEN) {
        return Err(invalid(format!(
            "a customer number has at most {MAX_NUMBER_LEN} characters"
        )));
    }
    if let Some(class) = body.class {
        let classes = state.stores().org.classes(organization).await?;
        if !classes.iter().any(|c| c.id == class) {
            return Err(invalid(format!("no class {class}")));
        }
    }
    match state.stores().org.customer(id).await {
        Ok(existing) if existing.organization != organization => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "the id is taken",
            ));
        }
        Ok(_) | Err(StoreError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let customer = Customer {
        id,
        organization,
        number,
        class: body.class,
        language: body.language,
    };
    state
        .stores()
        .org
        .put_customer(&customer)
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "number_taken",
                "another customer has this number",
            ),
            e => e.into(),
        })?;
    record(
        &state,
        &principal,
        "customer.put",
        &id.to_string(),
        &customer,
    )
    .await?;
    Ok(Json(customer.into()))
}

fn invalid(detail: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_customer", detail)
}

/// Which customer to find.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// The customer number.
    pub number: String,
}

/// The organization's customer with this number.
#[utoipa::path(get, path = "/api/v1/customers", tag = "organization", params(CustomerQuery),
    responses((status = 200, body = CustomerView), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn find(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<Query<CustomerQuery>, QueryRejection>,
) -> Result<Json<CustomerView>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    Ok(Json(
        by_number(&state, principal.org()?, &query.number)
            .await?
            .into(),
    ))
}

/// The organization's customer with this number, or 404 `customer_not_found`.
pub(crate) async fn by_number(
    state: &AppState,
    organization: OrganizationId,
    number: &str,
) -> Result<Customer, ApiError> {
    let missing = || ApiError::not_found("customer_not_found", "no customer has this number");
    if number.trim().is_empty() || number.len() > MAX_NUMBER_LEN {
        return Err(missing());
    }
    match state
        .stores()
        .org
        .customer_by_number(organization, number)
        .await
    {
        Ok(c) => Ok(c),
        Err(StoreError::NotFound { .. }) => Err(missing()),
        Err(e) => Err(e.into()),
    }
}

async fn ours(
    state: &AppState,
    principal: &Principal,
    id: CustomerId,
) -> Result<Customer, ApiError> {
    let missing = || ApiError::not_found("customer_not_found", format!("no customer {id}"));
    match state.stores().org.customer(id).await {
        Ok(c) if c.organization == principal.org()? => Ok(c),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(missing()),
        Err(e) => Err(e.into()),
    }
}

/// A customer.
#[utoipa::path(get, path = "/api/v1/customers/{customer}", tag = "organization",
    params(("customer" = String, Path)),
    responses((status = 200, body = CustomerView), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_customer(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<CustomerId>,
) -> Result<Json<CustomerView>, ApiError> {
    Ok(Json(ours(&state, &principal, id).await?.into()))
}

/// How many visits to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitsQuery {
    /// Most visits (default 10, at most 100).
    pub limit: Option<usize>,
}

/// One visit of a customer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VisitView {
    /// Ticket.
    #[schema(value_type = String)]
    pub ticket: TicketId,
    /// Branch.
    #[schema(value_type = String)]
    pub branch: BranchId,
    /// Service (the last, after transfers).
    #[schema(value_type = String)]
    pub service: ServiceId,
    /// Display number.
    pub display: String,
    /// Issued.
    pub issued_at: DateTime<Utc>,
    /// Last called.
    pub called_at: Option<DateTime<Utc>>,
    /// Service ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// `waiting`, `called`, `served`, `no_show` or `cancelled`.
    pub outcome: String,
    /// Seconds from issue to the last call.
    pub wait_secs: Option<i64>,
}

impl From<Visit> for VisitView {
    fn from(v: Visit) -> Self {
        Self {
            wait_secs: v.wait_secs(),
            ticket: v.ticket,
            branch: v.branch,
            service: v.service,
            display: v.display,
            issued_at: v.issued_at,
            called_at: v.called_at,
            finished_at: v.finished_at,
            outcome: v.outcome.as_str().to_owned(),
        }
    }
}

/// A customer's visits, the latest first. Managers and agents see the visits to their own
/// branches only.
#[utoipa::path(get, path = "/api/v1/customers/{customer}/visits", tag = "organization",
    params(("customer" = String, Path), VisitsQuery),
    responses((status = 200, body = [VisitView]), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn visits(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<CustomerId>,
    query: Result<Query<VisitsQuery>, QueryRejection>,
) -> Result<Json<Vec<VisitView>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let customer = ours(&state, &principal, id).await?;
    let limit = query.limit.unwrap_or(10).clamp(1, MAX_VISITS);
    // Managers and agents may not see every visit: read the most a caller may ask for, then
    // keep the reachable ones.
    let read = if principal.role == ApiRole::Admin {
        limit
    } else {
        MAX_VISITS
    };
    let found = state.stores().org.visits(customer.id, read).await?;
    Ok(Json(
        found
            .into_iter()
            .filter(|v| principal.reaches(customer.organization, v.branch))
            .take(limit)
            .map(VisitView::from)
            .collect(),
    ))
}
