//! Organization management: classes, branches, services, counters, devices, agents, users.
//!
//! A change to what a branch's queue depends on is validated on the whole branch
//! configuration before it is written, then handed to the queue service. Every change is
//! written to the audit log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use cem_core::{
    Agent, AgentId, Branch, BranchConfig, BranchId, ClassId, Counter, CounterId, Device, DeviceId,
    DeviceKind, Language, OrgStoreExt, Organization, PriorityClass, Role, Service, ServiceId,
    StoreError, Subject, User, UserId,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::record;
use crate::auth::{ApiRole, Principal, hash_password, mint};
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's organization.
#[utoipa::path(get, path = "/api/v1/organization", tag = "organization",
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub(crate) async fn organization(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Organization>, ApiError> {
    Ok(Json(
        state.stores().org.organization(principal.org()?).await?,
    ))
}

/// The organization's priority classes.
#[utoipa::path(get, path = "/api/v1/classes", tag = "organization",
    responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub(crate) async fn classes(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<PriorityClass>>, ApiError> {
    Ok(Json(state.stores().org.classes(principal.org()?).await?))
}

/// The configurations of every branch of the organization, each with `change` applied, all
/// validated: a class change must keep every branch sound.
async fn validate_all_branches(
    state: &AppState,
    principal: &Principal,
    change: impl Fn(&mut BranchConfig),
) -> Result<Vec<BranchId>, ApiError> {
    let org = principal.org()?;
    let mut ids = Vec::new();
    for branch in state.stores().org.branches(org).await? {
        let mut config = state.stores().org.branch_config(branch.id).await?;
        change(&mut config);
        config.validate()?;
        ids.push(branch.id);
    }
    Ok(ids)
}

async fn reload_all(state: &AppState, branches: Vec<BranchId>) -> Result<(), ApiError> {
    for b in branches {
        state.reload_branch(b).await?;
    }
    Ok(())
}

/// Creates or replaces a priority class (the id in the path wins).
#[utoipa::path(put, path = "/api/v1/classes/{class}", tag = "organization",
    params(("class" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn put_class(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<ClassId>,
    Json(mut class): Json<PriorityClass>,
) -> Result<Json<PriorityClass>, ApiError> {
    class.id = id;
    let branches = validate_all_branches(&state, &principal, |c| {
        match c.classes.iter_mut().find(|k| k.id == id) {
            Some(k) => *k = class.clone(),
            None => c.classes.push(class.clone()),
        }
    })
    .await?;
    if class.code.trim().is_empty() || class.rank == 0 || class.weight == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_config",
            "a class needs a code, and a rank and weight of at least 1",
        ));
    }
    state
        .stores()
        .org
        .put_class(principal.org()?, &class)
        .await?;
    record(&state, &principal, "class.put", &id.to_string(), &class).await?;
    reload_all(&state, branches).await?;
    Ok(Json(class))
}

/// Deletes a priority class no counter refers to.
#[utoipa::path(delete, path = "/api/v1/classes/{class}", tag = "organization",
    params(("class" = String, Path)),
    responses((status = 204), (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete_class(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<ClassId>,
) -> Result<StatusCode, ApiError> {
    let org = principal.org()?;
    if !state
        .stores()
        .org
        .classes(org)
        .await?
        .iter()
        .any(|c| c.id == id)
    {
        return Err(ApiError::not_found(
            "class_not_found",
            format!("no class {id}"),
        ));
    }
    let branches =
        validate_all_branches(&state, &principal, |c| c.classes.retain(|k| k.id != id)).await?;
    state.stores().org.delete_class(id).await?;
    record(&state, &principal, "class.delete", &id.to_string(), &()).await?;
    reload_all(&state, branches).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The branches the caller may see.
#[utoipa::path(get, path = "/api/v1/branches", tag = "organization",
    responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub(crate) async fn branches(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<Branch>>, ApiError> {
    let all = state.stores().org.branches(principal.org()?).await?;
    Ok(Json(
        all.into_iter()
            .filter(|b| principal.role == ApiRole::Admin || principal.branches.contains(&b.id))
            .collect(),
    ))
}

/// A branch with its classes, services and counters.
#[utoipa::path(get, path = "/api/v1/branches/{branch}", tag = "organization",
    params(("branch" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::Problem)), security(("bearer" = [])))]
pub(crate) async fn branch(
    State(state): State<AppState>,
    Path(branch): Path<BranchId>,
) -> Result<Json<BranchConfig>, ApiError> {
    Ok(Json(state.stores().org.branch_config(branch).await?))
}

/// The configuration of `branch` with `change` applied, validated.
async fn changed_config(
    state: &AppState,
    branch: BranchId,
    change: impl FnOnce(&mut BranchConfig),
) -> Result<BranchConfig, ApiError> {
    let mut config = state.stores().org.branch_config(branch).await?;
    change(&mut config);
    config.validate()?;
    Ok(config)
}

/// Creates (admins) or replaces a branch: name, time zone, opening hours, queue rules.
#[utoipa::path(put, path = "/api/v1/branches/{branch}", tag = "organization",
    params(("branch" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = 422, body = crate::Problem)), security(("bearer" = [])))]
pub(crate) async fn put_branch(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<BranchId>,
    Json(mut branch): Json<Branch>,
) -> Result<Json<Branch>, ApiError> {
    branch.id = id;
    branch.organization = principal.org()?;
    match state.stores().org.branch(id).await {
        Ok(_) => {
            changed_config(&state, id, |c| c.branch = branch.clone()).await?;
        }
        Err(StoreError::NotFound { .. }) => {
            // A new branch: its classes are the organization's; it has no services yet.
            let classes = state.stores().org.classes(branch.organization).await?;
            BranchConfig {
                branch: branch.clone(),
                classes,
                services: Vec::new(),
                counters: Vec::new(),
            }
            .validate()?;
        }
        Err(e) => return Err(e.into()),
    }
    state.stores().org.put_branch(&branch).await?;
    record(&state, &principal, "branch.put", &id.to_string(), &branch).await?;
    state.reload_branch(id).await?;
    Ok(Json(branch))
}

/// Creates or replaces a service of a branch.
#[utoipa::path(put, path = "/api/v1/branches/{branch}/services/{service}", tag = "organization",
    params(("branch" = String, Path), ("service" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn put_service(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, id)): Path<(BranchId, ServiceId)>,
    Json(mut service): Json<Service>,
) -> Result<Json<Service>, ApiError> {
    service.id = id;
    changed_config(&state, branch, |c| {
        match c.services.iter_mut().find(|s| s.id == id) {
            Some(s) => *s = service.clone(),
            None => c.services.push(service.clone()),
        }
    })
    .await?;
    state.stores().org.put_service(branch, &service).await?;
    record(&state, &principal, "service.put", &id.to_string(), &service).await?;
    state.reload_branch(branch).await?;
    Ok(Json(service))
}

/// Deletes a service that no counter serves.
#[utoipa::path(delete, path = "/api/v1/branches/{branch}/services/{service}", tag = "organization",
    params(("branch" = String, Path), ("service" = String, Path)),
    responses((status = 204), (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete_service(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, id)): Path<(BranchId, ServiceId)>,
) -> Result<StatusCode, ApiError> {
    if !state
        .stores()
        .org
        .services(branch)
        .await?
        .iter()
        .any(|s| s.id == id)
    {
        return Err(ApiError::not_found(
            "service_not_found",
            format!("no service {id}"),
        ));
    }
    changed_config(&state, branch, |c| c.services.retain(|s| s.id != id)).await?;
    state.stores().org.delete_service(id).await?;
    record(&state, &principal, "service.delete", &id.to_string(), &()).await?;
    state.reload_branch(branch).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates or replaces a counter of a branch, with its work profile.
#[utoipa::path(put, path = "/api/v1/branches/{branch}/counters/{counter}", tag = "organization",
    params(("branch" = String, Path), ("counter" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn put_counter(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, id)): Path<(BranchId, CounterId)>,
    Json(mut counter): Json<Counter>,
) -> Result<Json<Counter>, ApiError> {
    counter.id = id;
    changed_config(&state, branch, |c| {
        match c.counters.iter_mut().find(|k| k.id == id) {
            Some(k) => *k = counter.clone(),
            None => c.counters.push(counter.clone()),
        }
    })
    .await?;
    state.stores().org.put_counter(branch, &counter).await?;
    record(&state, &principal, "counter.put", &id.to_string(), &counter).await?;
    state.reload_branch(branch).await?;
    Ok(Json(counter))
}

/// Deletes a counter.
#[utoipa::path(delete, path = "/api/v1/branches/{branch}/counters/{counter}", tag = "organization",
    params(("branch" = String, Path), ("counter" = String, Path)),
    responses((status = 204), (status = 404, body = crate::Problem)), security(("bearer" = [])))]
pub(crate) async fn delete_counter(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, id)): Path<(BranchId, CounterId)>,
) -> Result<StatusCode, ApiError> {
    if !state
        .stores()
        .org
        .counters(branch)
        .await?
        .iter()
        .any(|c| c.id == id)
    {
        return Err(ApiError::not_found(
            "unknown_counter",
            format!("no counter {id}"),
        ));
    }
    state.stores().org.delete_counter(id).await?;
    record(&state, &principal, "counter.delete", &id.to_string(), &()).await?;
    state.reload_branch(branch).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The devices (kiosks, displays) of a branch.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/devices", tag = "organization",
    params(("branch" = String, Path)),
    responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub(crate) async fn devices(
    State(state): State<AppState>,
    Path(branch): Path<BranchId>,
) -> Result<Json<Vec<Device>>, ApiError> {
    Ok(Json(state.stores().auth.devices(branch).await?))
}

/// A device to register.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewDevice {
    /// `kiosk` or `display`.
    #[schema(value_type = String, example = "display")]
    pub kind: DeviceKind,
    /// Name ("Entrance kiosk").
    pub name: String,
    /// Language of its screen.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
}

/// A registered device and its token.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceToken {
    /// The device.
    #[schema(value_type = Object)]
    pub device: Device,
    /// Its bearer token, shown only once: enter it in the device.
    pub token: String,
}

/// Registers a kiosk or display of the branch and returns its token.
#[utoipa::path(post, path = "/api/v1/branches/{branch}/devices", tag = "organization",
    params(("branch" = String, Path)), request_body = NewDevice,
    responses((status = 201, body = DeviceToken)), security(("bearer" = [])))]
pub(crate) async fn add_device(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(branch): Path<BranchId>,
    Json(body): Json<NewDevice>,
) -> Result<(StatusCode, Json<DeviceToken>), ApiError> {
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid("a device needs a name"));
    }
    let device = Device {
        id: DeviceId::new(uuid::Uuid::new_v4()),
        organization: principal.org()?,
        branch,
        kind: body.kind,
        name: body.name.trim().to_owned(),
        language: body.language,
    };
    state.stores().auth.put_device(&device).await?;
    let token = mint(
        &state,
        device.organization,
        Subject::Device(device.id),
        "device",
        None,
    )
    .await?;
    record(
        &state,
        &principal,
        "device.add",
        &device.id.to_string(),
        &device,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(DeviceToken { device, token })))
}

/// Removes a device; its tokens stop working.
#[utoipa::path(delete, path = "/api/v1/branches/{branch}/devices/{device}", tag = "organization",
    params(("branch" = String, Path), ("device" = String, Path)),
    responses((status = 204), (status = 404, body = crate::Problem)), security(("bearer" = [])))]
pub(crate) async fn delete_device(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, id)): Path<(BranchId, DeviceId)>,
) -> Result<StatusCode, ApiError> {
    match state.stores().auth.device(id).await {
        Ok(d) if d.branch == branch => {}
        Ok(_) | Err(StoreError::NotFound { .. }) => {
            return Err(ApiError::not_found(
                "device_not_found",
                format!("no device {id}"),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    state
        .stores()
        .auth
        .revoke_subject(&Subject::Device(id), state.now())
        .await?;
    state.stores().auth.delete_device(id).await?;
    state.0.principals.forget_all();
    record(&state, &principal, "device.delete", &id.to_string(), &()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organization's agents.
#[utoipa::path(get, path = "/api/v1/agents", tag = "organization",
    responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub(crate) async fn agents(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<Agent>>, ApiError> {
    Ok(Json(state.stores().org.agents(principal.org()?).await?))
}

/// Creates or replaces an agent.
#[utoipa::path(put, path = "/api/v1/agents/{agent}", tag = "organization",
    params(("agent" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = 409, body = crate::Problem)), security(("bearer" = [])))]
pub(crate) async fn put_agent(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<AgentId>,
    Json(mut agent): Json<Agent>,
) -> Result<Json<Agent>, ApiError> {
    agent.id = id;
    agent.organization = principal.org()?;
    check_branches(&state, &principal, &agent.branches)?;
    state.stores().org.put_agent(&agent).await?;
    record(&state, &principal, "agent.put", &id.to_string(), &agent).await?;
    Ok(Json(agent))
}

/// Deletes an agent.
#[utoipa::path(delete, path = "/api/v1/agents/{agent}", tag = "organization",
    params(("agent" = String, Path)),
    responses((status = 204), (status = 404, body = crate::Problem)), security(("bearer" = [])))]
pub(crate) async fn delete_agent(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<AgentId>,
) -> Result<StatusCode, ApiError> {
    let agent = state.stores().org.agent(id).await?;
    if Some(agent.organization) != principal.organization {
        return Err(ApiError::not_found("not_found", format!("no agent {id}")));
    }
    state.stores().org.delete_agent(id).await?;
    record(&state, &principal, "agent.delete", &id.to_string(), &()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every branch named must be the organization's.
fn check_branches(
    state: &AppState,
    principal: &Principal,
    branches: &[BranchId],
) -> Result<(), ApiError> {
    for b in branches {
        if state.branch_organization(*b) != principal.organization {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_config",
                format!("no branch {b}"),
            ));
        }
    }
    Ok(())
}

/// A user as the API shows it: no password hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// Id.
    #[schema(value_type = String)]
    pub id: UserId,
    /// Login.
    pub login: String,
    /// Name.
    pub name: String,
    /// Role: `admin`, `branch_manager` or `agent`.
    #[schema(value_type = String)]
    pub role: Role,
    /// Branches of a manager or agent.
    #[schema(value_type = Vec<String>)]
    pub branches: Vec<BranchId>,
    /// Agent record of an agent.
    #[schema(value_type = Option<String>)]
    pub agent: Option<AgentId>,
    /// Preferred language.
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
    /// Whether the user may sign in.
    pub active: bool,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            login: u.login,
            name: u.name,
            role: u.role,
            branches: u.branches,
            agent: u.agent,
            language: u.language,
            active: u.active,
        }
    }
}

/// A user to create or change; `password` is required for a new user and optional after.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UserRequest {
    /// Login.
    pub login: String,
    /// Name.
    pub name: String,
    /// Role.
    #[schema(value_type = String)]
    pub role: Role,
    /// Branches of a manager or agent.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub branches: Vec<BranchId>,
    /// Agent record of an agent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub agent: Option<AgentId>,
    /// Preferred language.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
    /// A new password (at least 8 characters).
    #[serde(default)]
    pub password: Option<String>,
    /// Whether the user may sign in (default true).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// The organization's users.
#[utoipa::path(get, path = "/api/v1/users", tag = "organization",
    responses((status = 200, body = [UserView])), security(("bearer" = [])))]
pub(crate) async fn users(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let users = state.stores().org.users(principal.org()?).await?;
    Ok(Json(users.into_iter().map(UserView::from).collect()))
}

/// Creates or changes a user. Disabling a user or changing their password revokes their tokens.
#[utoipa::path(put, path = "/api/v1/users/{user}", tag = "organization",
    params(("user" = String, Path)), request_body = UserRequest,
    responses((status = 200, body = UserView), (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn put_user(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<UserId>,
    Json(body): Json<UserRequest>,
) -> Result<Json<UserView>, ApiError> {
    let org = principal.org()?;
    let existing = match state.stores().org.user(id).await {
        Ok(u) if u.organization == org => Some(u),
        Ok(_) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "the id is taken",
            ));
        }
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    if body.login.trim().is_empty() {
        return Err(ApiError::invalid("a user needs a login"));
    }
    check_branches(&state, &principal, &body.branches)?;
    let password_hash = match (&body.password, &existing) {
        (Some(p), _) if p.chars().count() < 8 => {
            return Err(ApiError::invalid("a password needs at least 8 characters"));
        }
        (Some(p), _) => {
            let p = p.clone();
            tokio::task::spawn_blocking(move || hash_password(&p))
                .await
                .map_err(|e| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "hash_failed",
                        e.to_string(),
                    )
                })??
        }
        (None, Some(u)) => u.password_hash.clone(),
        (None, None) => return Err(ApiError::invalid("a new user needs a password")),
    };
    let user = User {
        id,
        organization: org,
        login: body.login.trim().to_owned(),
        name: body.name,
        role: body.role,
        branches: body.branches,
        agent: body.agent,
        language: body.language,
        password_hash,
        active: body.active,
    };
    state.stores().org.put_user(&user).await?;
    if existing.is_some() && (body.password.is_some() || !user.active) {
        state
            .stores()
            .auth
            .revoke_subject(&Subject::User(id), state.now())
            .await?;
    }
    state.0.principals.forget_all();
    let view = UserView::from(user);
    record(&state, &principal, "user.put", &id.to_string(), &view).await?;
    Ok(Json(view))
}

/// Deletes a user and revokes their tokens.
#[utoipa::path(delete, path = "/api/v1/users/{user}", tag = "organization",
    params(("user" = String, Path)),
    responses((status = 204), (status = 404, body = crate::Problem)), security(("bearer" = [])))]
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    let user = state.stores().org.user(id).await?;
    if Some(user.organization) != principal.organization {
        return Err(ApiError::not_found("not_found", format!("no user {id}")));
    }
    state
        .stores()
        .auth
        .revoke_subject(&Subject::User(id), state.now())
        .await?;
    state.stores().org.delete_user(id).await?;
    state.0.principals.forget_all();
    record(&state, &principal, "user.delete", &id.to_string(), &()).await?;
    Ok(StatusCode::NO_CONTENT)
}
