//! Writing and reading the audit log.

use axum::extract::{Query, State};
use axum::{Extension, Json};
use cem_core::{AuditEntry, RecordedAudit};
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// Writes an administrative change of the caller's organization to the audit log.
pub(crate) async fn record(
    state: &AppState,
    principal: &Principal,
    action: &str,
    target: &str,
    detail: &impl Serialize,
) -> Result<(), ApiError> {
    let entry = AuditEntry {
        organization: principal.org()?,
        at: state.now(),
        actor: principal.actor(),
        action: action.to_owned(),
        target: target.to_owned(),
        detail: serde_json::to_value(detail).unwrap_or_default(),
    };
    tracing::info!(actor = %entry.actor, action, target, "audit");
    state.stores().audit.append_audit(&entry).await?;
    Ok(())
}

/// Paging of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries before this sequence number (the last `seq` of the previous page).
    pub before: Option<u64>,
    /// Most entries to return (default 100, at most 1,000).
    pub limit: Option<usize>,
}

/// The organization's audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "organization", params(AuditQuery),
    responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub(crate) async fn audit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Vec<RecordedAudit>>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1_000);
    Ok(Json(
        state
            .stores()
            .audit
            .audit(principal.org()?, query.before, limit)
            .await?,
    ))
}
