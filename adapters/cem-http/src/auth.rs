//! Who is calling and what they may do: bearer tokens, roles, the endpoint table and the
//! middleware that enforces it, password hashing and sign-in.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{ConnectInfo, MatchedPath, RawPathParams, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use cem_core::chrono::{DateTime, TimeDelta, Utc};
use cem_core::{
    AccessToken, AgentId, BranchId, Device, DeviceId, DeviceKind, Language, OrganizationId, Role,
    StoreError, Subject, User, UserId,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// The roles of the API: the users' roles, the two kinds of device, and the public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiRole {
    /// Everything in their organization.
    Admin,
    /// Their branches.
    BranchManager,
    /// Serving at counters of their branches.
    Agent,
    /// A kiosk device of one branch.
    Kiosk,
    /// A display screen of one branch.
    Display,
    /// Anyone without a token.
    Public,
}

impl ApiRole {
    /// Every role, for tests and documentation.
    pub const ALL: [ApiRole; 6] = [
        Self::Admin,
        Self::BranchManager,
        Self::Agent,
        Self::Kiosk,
        Self::Display,
        Self::Public,
    ];

    /// Whether the role works for the organization's staff (sees ticket ids and customers).
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Admin | Self::BranchManager | Self::Agent)
    }
}

impl From<Role> for ApiRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => Self::Admin,
            Role::BranchManager => Self::BranchManager,
            Role::Agent => Self::Agent,
        }
    }
}

/// The caller of a request, as its token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Role.
    pub role: ApiRole,
    /// Organization; `None` for the public.
    pub organization: Option<OrganizationId>,
    /// The branches a manager, agent or device is bound to.
    pub branches: Vec<BranchId>,
    /// The agent record of an agent.
    pub agent: Option<AgentId>,
    /// The user, for users.
    pub user: Option<UserId>,
    /// The device, for devices.
    pub device: Option<DeviceId>,
    /// The digest of the token used.
    pub token: Option<String>,
}

impl Principal {
    /// The public: no organization, no branch.
    pub fn public() -> Self {
        Self {
            role: ApiRole::Public,
            organization: None,
            branches: Vec::new(),
            agent: None,
            user: None,
            device: None,
            token: None,
        }
    }

    /// Who the audit log names.
    pub fn actor(&self) -> String {
        match (self.user, self.device) {
            (Some(u), _) => format!("user:{u}"),
            (_, Some(d)) => format!("device:{d}"),
            _ => "public".to_owned(),
        }
    }

    /// The organization of a signed-in caller.
    ///
    /// # Errors
    /// 401 for the public.
    pub fn org(&self) -> Result<OrganizationId, ApiError> {
        self.organization
            .ok_or_else(|| ApiError::unauthenticated("sign in first"))
    }

    /// Whether the caller may act on `branch` of `organization`.
    pub fn reaches(&self, organization: OrganizationId, branch: BranchId) -> bool {
        match self.role {
            ApiRole::Public => true,
            ApiRole::Admin => self.organization == Some(organization),
            _ => self.organization == Some(organization) && self.branches.contains(&branch),
        }
    }
}

/// One endpoint of the API and the roles allowed to call it.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// HTTP method.
    pub method: &'static str,
    /// Path template as routed (`/api/v1/branches/{branch}/tickets`).
    pub path: &'static str,
    /// The roles allowed.
    pub roles: &'static [ApiRole],
}

use ApiRole::{Admin, Agent, BranchManager as Manager, Display, Kiosk, Public};

const STAFF: &[ApiRole] = &[Admin, Manager, Agent];
const MANAGERS: &[ApiRole] = &[Admin, Manager];
const SIGNED_IN: &[ApiRole] = &[Admin, Manager, Agent, Kiosk, Display];
const ANYONE: &[ApiRole] = &[Admin, Manager, Agent, Kiosk, Display, Public];
const ISSUERS: &[ApiRole] = &[Admin, Manager, Agent, Kiosk, Public];
const CHECK_IN: &[ApiRole] = &[Admin, Manager, Agent, Kiosk];
/// A screen's own reads: its display device, and managers previewing it.
const SCREEN: &[ApiRole] = &[Admin, Manager, Display];

/// Every endpoint of the API with the roles that may call it: the middleware refuses the rest
/// (401 for the public, 403 for others), and the tests call each with every role.
pub const ENDPOINTS: &[Endpoint] = &[
    ep("GET", "/health", ANYONE),
    ep("GET", "/ready", ANYONE),
    ep("GET", "/metrics", ANYONE),
    ep("GET", "/api/v1/openapi.json", ANYONE),
    ep("POST", "/api/v1/auth/login", ANYONE),
    ep("POST", "/api/v1/auth/logout", SIGNED_IN),
    ep("GET", "/api/v1/me", SIGNED_IN),
    ep("GET", "/api/v1/organization", SIGNED_IN),
    ep("GET", "/api/v1/classes", SIGNED_IN),
    ep("PUT", "/api/v1/classes/{class}", &[Admin]),
    ep("DELETE", "/api/v1/classes/{class}", &[Admin]),
    ep("GET", "/api/v1/branches", SIGNED_IN),
    ep("GET", "/api/v1/branches/{branch}", SIGNED_IN),
    ep("PUT", "/api/v1/branches/{branch}", MANAGERS),
    ep(
        "PUT",
        "/api/v1/branches/{branch}/services/{service}",
        MANAGERS,
    ),
    ep(
        "DELETE",
        "/api/v1/branches/{branch}/services/{service}",
        MANAGERS,
    ),
    ep(
        "PUT",
        "/api/v1/branches/{branch}/counters/{counter}",
        MANAGERS,
    ),
    ep(
        "DELETE",
        "/api/v1/branches/{branch}/counters/{counter}",
        MANAGERS,
    ),
    ep("GET", "/api/v1/branches/{branch}/devices", MANAGERS),
    ep("POST", "/api/v1/branches/{branch}/devices", MANAGERS),
    ep(
        "DELETE",
        "/api/v1/branches/{branch}/devices/{device}",
        MANAGERS,
    ),
    ep("GET", "/api/v1/agents", MANAGERS),
    ep("PUT", "/api/v1/agents/{agent}", &[Admin]),
    ep("DELETE", "/api/v1/agents/{agent}", &[Admin]),
    ep("GET", "/api/v1/users", &[Admin]),
    ep("PUT", "/api/v1/users/{user}", &[Admin]),
    ep("DELETE", "/api/v1/users/{user}", &[Admin]),
    ep("PUT", "/api/v1/customers/{customer}", &[Admin]),
    ep("GET", "/api/v1/customers", &[Admin, Manager, Agent, Kiosk]),
    ep("GET", "/api/v1/customers/{customer}", STAFF),
    ep("GET", "/api/v1/customers/{customer}/visits", STAFF),
    ep("GET", "/api/v1/audit", &[Admin]),
    ep("GET", "/api/v1/outbox/dead", &[Admin]),
    ep("POST", "/api/v1/outbox/erase", &[Admin]),
    ep("GET", "/api/v1/outbox/{message}", &[Admin]),
    ep("POST", "/api/v1/outbox/{message}/replay", &[Admin]),
    ep("GET", "/api/v1/webhooks", &[Admin]),
    ep("POST", "/api/v1/webhooks", &[Admin]),
    ep("GET", "/api/v1/webhooks/{webhook}", &[Admin]),
    ep("PUT", "/api/v1/webhooks/{webhook}", &[Admin]),
    ep("DELETE", "/api/v1/webhooks/{webhook}", &[Admin]),
    ep("GET", "/api/v1/webhooks/{webhook}/deliveries", &[Admin]),
    ep("GET", "/api/v1/branches/{branch}/status", ANYONE),
    ep("GET", "/api/v1/branches/{branch}/events", ANYONE),
    ep("POST", "/api/v1/branches/{branch}/tickets", ISSUERS),
    ep("GET", "/api/v1/branches/{branch}/tickets", STAFF),
    ep("GET", "/api/v1/branches/{branch}/tickets/{ticket}", ISSUERS),
    ep(
        "POST",
        "/api/v1/branches/{branch}/tickets/{ticket}/cancel",
        ISSUERS,
    ),
    ep(
        "POST",
        "/api/v1/branches/{branch}/tickets/{ticket}/transfer",
        STAFF,
    ),
    ep(
        "POST",
        "/api/v1/branches/{branch}/tickets/{ticket}/resume",
        STAFF,
    ),
    ep(
        "GET",
        "/api/v1/branches/{branch}/counters",
        &[Admin, Manager, Agent, Display],
    ),
    ep("GET", "/api/v1/branches/{branch}/counters/{counter}", STAFF),
    ep(
        "POST",
        "/api/v1/branches/{branch}/counters/{counter}/{action}",
        STAFF,
    ),
    ep(
        "PUT",
        "/api/v1/branches/{branch}/services/{service}/plan",
        MANAGERS,
    ),
    ep(
        "GET",
        "/api/v1/branches/{branch}/services/{service}/plan",
        MANAGERS,
    ),
    ep(
        "DELETE",
        "/api/v1/branches/{branch}/services/{service}/plan",
        MANAGERS,
    ),
    ep(
        "GET",
        "/api/v1/branches/{branch}/services/{service}/slots",
        ANYONE,
    ),
    ep("POST", "/api/v1/branches/{branch}/bookings", ISSUERS),
    ep("GET", "/api/v1/branches/{branch}/bookings/{code}", ISSUERS),
    ep(
        "POST",
        "/api/v1/branches/{branch}/bookings/{code}/cancel",
        ISSUERS,
    ),
    ep(
        "POST",
        "/api/v1/branches/{branch}/bookings/{code}/reschedule",
        ISSUERS,
    ),
    ep(
        "POST",
        "/api/v1/branches/{branch}/bookings/{code}/accept",
        ISSUERS,
    ),
    ep(
        "GET",
        "/api/v1/branches/{branch}/bookings/{code}/calendar.ics",
        ISSUERS,
    ),
    ep(
        "GET",
        "/api/v1/branches/{branch}/bookings/{code}/qr.svg",
        ISSUERS,
    ),
    ep(
        "POST",
        "/api/v1/branches/{branch}/bookings/{code}/check-in",
        CHECK_IN,
    ),
    ep(
        "POST",
        "/api/v1/branches/{branch}/bookings/{code}/no-show",
        STAFF,
    ),
    ep("GET", "/api/v1/branches/{branch}/agenda", STAFF),
    ep("GET", "/api/v1/branches/{branch}/agenda.ics", STAFF),
    ep(
        "POST",
        "/api/v1/branches/{branch}/surveys/{survey}/invitations",
        &[Kiosk, Public],
    ),
    ep(
        "GET",
        "/api/v1/branches/{branch}/surveys/{survey}/qr.svg",
        ANYONE,
    ),
    ep("GET", "/api/v1/surveys/invitations/{token}", ANYONE),
    ep(
        "POST",
        "/api/v1/surveys/invitations/{token}/response",
        ANYONE,
    ),
    ep("GET", "/api/v1/surveys", MANAGERS),
    ep("POST", "/api/v1/surveys", &[Admin]),
    ep("GET", "/api/v1/surveys/results", MANAGERS),
    ep("GET", "/api/v1/surveys/{survey}", MANAGERS),
    ep("PUT", "/api/v1/surveys/{survey}", &[Admin]),
    ep("GET", "/api/v1/cases", MANAGERS),
    ep("GET", "/api/v1/cases/{case}", MANAGERS),
    ep("POST", "/api/v1/cases/{case}/take", MANAGERS),
    ep("POST", "/api/v1/cases/{case}/resolve", MANAGERS),
    ep("GET", "/api/v1/layouts", MANAGERS),
    ep("POST", "/api/v1/layouts", &[Admin]),
    ep("GET", "/api/v1/layouts/{layout}", MANAGERS),
    ep("PUT", "/api/v1/layouts/{layout}", &[Admin]),
    ep("DELETE", "/api/v1/layouts/{layout}", &[Admin]),
    ep("GET", "/api/v1/playlists", MANAGERS),
    ep("POST", "/api/v1/playlists", &[Admin]),
    ep("GET", "/api/v1/playlists/{playlist}", MANAGERS),
    ep("PUT", "/api/v1/playlists/{playlist}", &[Admin]),
    ep("DELETE", "/api/v1/playlists/{playlist}", &[Admin]),
    // Managers write the news of their own branches only; the handlers check the targets.
    ep("GET", "/api/v1/news", MANAGERS),
    ep("POST", "/api/v1/news", MANAGERS),
    ep("GET", "/api/v1/news/{news}", MANAGERS),
    ep("PUT", "/api/v1/news/{news}", MANAGERS),
    ep("DELETE", "/api/v1/news/{news}", MANAGERS),
    ep("GET", "/api/v1/branches/{branch}/screens", MANAGERS),
    ep("POST", "/api/v1/branches/{branch}/screens", MANAGERS),
    ep(
        "GET",
        "/api/v1/branches/{branch}/screens/{screen}",
        MANAGERS,
    ),
    ep(
        "PUT",
        "/api/v1/branches/{branch}/screens/{screen}",
        MANAGERS,
    ),
    ep(
        "DELETE",
        "/api/v1/branches/{branch}/screens/{screen}",
        MANAGERS,
    ),
    ep(
        "GET",
        "/api/v1/branches/{branch}/screens/{screen}/content",
        SCREEN,
    ),
    ep(
        "GET",
        "/api/v1/branches/{branch}/screens/{screen}/manifest",
        SCREEN,
    ),
    ep(
        "GET",
        "/api/v1/branches/{branch}/screens/{screen}/events",
        SCREEN,
    ),
    ep("GET", "/api/v1/screens/me", &[Display]),
    ep("GET", "/api/v1/branches/{branch}/info", ANYONE),
    ep("PUT", "/api/v1/branches/{branch}/info", MANAGERS),
    // Public information of an organization's branches: no branch in the path, so the
    // middleware checks nothing but the role; the handler answers 404 for an unknown one.
    ep(
        "GET",
        "/api/v1/organizations/{organization}/branches/best",
        ANYONE,
    ),
    // Reports without a branch in the path: the handlers keep managers to their branches.
    ep("GET", "/api/v1/reports/kpis", MANAGERS),
    ep("GET", "/api/v1/reports/satisfaction", MANAGERS),
    ep("GET", "/api/v1/reports/charts/waits.svg", MANAGERS),
    ep("GET", "/api/v1/reports/charts/arrivals.svg", MANAGERS),
    ep("GET", "/api/v1/reports/charts/service-level.svg", MANAGERS),
    ep("GET", "/api/v1/reports/charts/satisfaction.svg", MANAGERS),
    ep("GET", "/api/v1/branches/{branch}/forecast", MANAGERS),
    ep("GET", "/api/v1/branches/{branch}/what-if", MANAGERS),
    ep("GET", "/api/v1/branches/{branch}/live", STAFF),
];

const fn ep(method: &'static str, path: &'static str, roles: &'static [ApiRole]) -> Endpoint {
    Endpoint {
        method,
        path,
        roles,
    }
}

/// The endpoint a request was routed to.
pub(crate) fn endpoint(method: &Method, path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS
        .iter()
        .find(|e| e.path == path && e.method == method.as_str())
}

/// Authenticates the caller, checks the endpoint's roles, the branch's organization and the
/// caller's branches, and rate-limits the public; puts the [`Principal`] into the request.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    params: RawPathParams,
    mut request: Request,
    next: Next,
) -> Response {
    let ip = client_ip(&request);
    request.extensions_mut().insert(ClientIp(ip));
    let call = Call {
        method: request.method().clone(),
        path: request
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default(),
        branch: params
            .iter()
            .find(|(k, _)| *k == "branch")
            .map(|(_, v)| v.to_owned()),
        authorization: request
            .headers()
            .get(AUTHORIZATION)
            .map(|h| h.to_str().map(str::to_owned).unwrap_or_default()),
        ip,
    };
    match check(&state, &call).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

/// The address of the client, as the middleware found it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub(crate) IpAddr);

/// What the middleware needs of a request (a request itself cannot be held across an await).
struct Call {
    method: Method,
    path: String,
    branch: Option<String>,
    authorization: Option<String>,
    ip: IpAddr,
}

async fn check(state: &AppState, call: &Call) -> Result<Principal, ApiError> {
    let path = call.path.as_str();
    let endpoint = endpoint(&call.method, path).ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "undeclared_endpoint",
            format!("{} {path} declares no roles", call.method),
        )
    })?;
    let principal = match &call.authorization {
        None => Principal::public(),
        Some(header) => {
            let secret = header.strip_prefix("Bearer ").ok_or_else(|| {
                ApiError::unauthenticated("expected `Authorization: Bearer <token>`")
            })?;
            principal_for(state, secret.trim()).await?
        }
    };
    // Sign-ins have their own, stricter limit.
    let limited = principal.role == ApiRole::Public && path != "/api/v1/auth/login";
    if limited && state.0.public_limiter.check_key(&call.ip).is_err() {
        let per_minute = u64::from(state.0.settings.public_per_minute.max(1));
        return Err(ApiError::rate_limited(60 / per_minute + 1));
    }
    // The branch first: another organization's is missing whatever the role, even on an
    // endpoint the role may not call.
    if let Some(raw) = &call.branch {
        let branch: BranchId = raw
            .parse()
            .map_err(|_| ApiError::not_found("branch_not_found", format!("no branch {raw}")))?;
        // Another organization's branch is reported as missing: its existence is not ours to tell.
        let missing = || ApiError::not_found("branch_not_found", format!("no branch {branch}"));
        let organization = state.find_branch_organization(branch).await?;
        let may_create = endpoint.method == "PUT" && endpoint.path == "/api/v1/branches/{branch}";
        match organization {
            Some(org) if principal.reaches(org, branch) => {}
            Some(org) if principal.organization == Some(org) => {
                return Err(ApiError::forbidden(format!(
                    "branch {branch} is not one of yours"
                )));
            }
            None if may_create && principal.role == ApiRole::Admin => {}
            _ => return Err(missing()),
        }
    }
    if !endpoint.roles.contains(&principal.role) {
        return Err(if principal.role == ApiRole::Public {
            ApiError::unauthenticated("this call needs a token")
        } else {
            ApiError::forbidden(format!(
                "the role {:?} may not call {} {path}",
                principal.role, endpoint.method
            ))
        });
    }
    Ok(principal)
}

/// The client's address, for rate limits.
fn client_ip(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip())
}

/// The principal a token secret stands for.
///
/// # Errors
/// 401 when the token is unknown, expired or revoked, or its holder is gone or disabled.
pub(crate) async fn principal_for(state: &AppState, secret: &str) -> Result<Principal, ApiError> {
    let invalid = || ApiError::unauthenticated("the token is not valid");
    let digest = digest(secret);
    let now = state.now();
    let principals = &state.0.principals;
    let generation = match principals.get(&digest, now) {
        Ok(principal) => return Ok(principal),
        Err(generation) => generation,
    };
    let token = match state.0.stores.auth.token(&digest).await {
        Ok(t) => t,
        Err(StoreError::NotFound { .. }) => return Err(invalid()),
        Err(e) => return Err(e.into()),
    };
    if !token.is_valid_at(now) {
        return Err(invalid());
    }
    let principal = match token.subject {
        Subject::User(id) => {
            let user = match state.0.stores.org.user(id).await {
                Ok(u) if u.active && u.organization == token.organization => u,
                Ok(_) | Err(StoreError::NotFound { .. }) => return Err(invalid()),
                Err(e) => return Err(e.into()),
            };
            Principal {
                role: user.role.into(),
                organization: Some(user.organization),
                branches: user.branches,
                agent: user.agent,
                user: Some(user.id),
                device: None,
                token: Some(digest),
            }
        }
        Subject::Device(id) => {
            let device = match state.0.stores.auth.device(id).await {
                Ok(d) if d.organization == token.organization => d,
                Ok(_) | Err(StoreError::NotFound { .. }) => return Err(invalid()),
                Err(e) => return Err(e.into()),
            };
            Principal {
                role: match device.kind {
                    DeviceKind::Kiosk => ApiRole::Kiosk,
                    DeviceKind::Display => ApiRole::Display,
                },
                organization: Some(device.organization),
                branches: vec![device.branch],
                agent: None,
                user: None,
                device: Some(device.id),
                token: Some(digest),
            }
        }
    };
    let until = token
        .expires_at
        .map_or(now + PRINCIPAL_TTL, |e| e.min(now + PRINCIPAL_TTL));
    principals.put(generation, principal.clone(), until);
    Ok(principal)
}

/// How long a server trusts what it read about a token before reading it again. A token
/// revoked, or a user or device changed, through this server stops working at once; through
/// another instance sharing the database, within this time.
pub(crate) const PRINCIPAL_TTL: TimeDelta = TimeDelta::seconds(2);

/// Tokens remembered at most; past that the cache starts over.
const PRINCIPALS_KEPT: usize = 10_000;

/// The principals of recently used tokens, so that a busy client costs no store read per
/// request.
#[derive(Debug, Default)]
pub(crate) struct Principals(Mutex<PrincipalCache>);

#[derive(Debug, Default)]
struct PrincipalCache {
    /// By token digest: the principal and until when it may be used.
    entries: HashMap<String, (Principal, DateTime<Utc>)>,
    /// Counts [`Principals::forget_all`], so a principal read before one is not kept after it.
    generation: u64,
}

impl Principals {
    /// The principal of a token digest, or the generation to pass to [`put`](Self::put).
    fn get(&self, digest: &str, now: DateTime<Utc>) -> Result<Principal, u64> {
        let cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match cache.entries.get(digest) {
            Some((principal, until)) if now < *until => Ok(principal.clone()),
            _ => Err(cache.generation),
        }
    }

    /// Remembers a principal read from the stores, unless something changed since `generation`.
    fn put(&self, generation: u64, principal: Principal, until: DateTime<Utc>) {
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let Some(digest) = principal.token.clone() else {
            return;
        };
        if cache.generation != generation {
            return;
        }
        if cache.entries.len() >= PRINCIPALS_KEPT {
            cache.entries.clear();
        }
        cache.entries.insert(digest, (principal, until));
    }

    /// Forgets every principal: a token, user or device changed.
    pub(crate) fn forget_all(&self) {
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cache.entries.clear();
        cache.generation += 1;
    }
}

/// The hex SHA-256 of a token secret: what the store keeps.
pub(crate) fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new token secret: `cem_` and 32 random bytes in hex.
///
/// # Errors
/// 500 when the system has no randomness to give.
pub(crate) fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no_randomness",
            e.to_string(),
        )
    })?;
    Ok(format!("cem_{}", hex::encode(bytes)))
}

/// Mints a token for `subject`, stores its digest and returns the secret.
pub(crate) async fn mint(
    state: &AppState,
    organization: OrganizationId,
    subject: Subject,
    label: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<String, ApiError> {
    let secret = new_secret()?;
    state
        .0
        .stores
        .auth
        .insert_token(&AccessToken {
            digest: digest(&secret),
            organization,
            subject,
            label: label.to_owned(),
            created_at: state.now(),
            expires_at,
            revoked_at: None,
        })
        .await?;
    Ok(secret)
}

/// Hashes a password with Argon2id and a random salt, as a PHC string.
///
/// # Errors
/// 500 when hashing fails (no randomness).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0_u8; 16];
    getrandom::fill(&mut salt).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no_randomness",
            e.to_string(),
        )
    })?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "hash_failed",
            e.to_string(),
        )
    })?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "hash_failed",
                e.to_string(),
            )
        })
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A sign-in request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Login.
    pub login: String,
    /// Password.
    pub password: String,
}

/// A token and who it is for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// The bearer token: send it as `Authorization: Bearer <token>`. It is shown only once.
    pub token: String,
    /// When it expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// The signed-in user.
    pub me: Me,
}

/// The caller, as the API sees them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    /// Role.
    pub role: ApiRole,
    /// Organization.
    #[schema(value_type = Option<String>)]
    pub organization: Option<OrganizationId>,
    /// Branches bound to.
    #[schema(value_type = Vec<String>)]
    pub branches: Vec<BranchId>,
    /// User id.
    #[schema(value_type = Option<String>)]
    pub user: Option<UserId>,
    /// Device id.
    #[schema(value_type = Option<String>)]
    pub device: Option<DeviceId>,
    /// Display name.
    pub name: Option<String>,
    /// Agent record.
    #[schema(value_type = Option<String>)]
    pub agent: Option<AgentId>,
    /// The language chosen for the user or device, if any.
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
}

fn me(principal: &Principal, user: Option<&User>, device: Option<&Device>) -> Me {
    Me {
        role: principal.role,
        organization: principal.organization,
        branches: principal.branches.clone(),
        user: principal.user,
        device: principal.device,
        name: user
            .map(|u| u.name.clone())
            .or_else(|| device.map(|d| d.name.clone())),
        agent: principal.agent,
        language: user
            .and_then(|u| u.language.clone())
            .or_else(|| device.and_then(|d| d.language.clone())),
    }
}

/// Signs a user in with login and password and returns a new token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::Problem), (status = 429, body = crate::Problem)))]
pub(crate) async fn login(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Json(body): Json<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    if state.0.login_limiter.check_key(&ip).is_err() {
        return Err(ApiError::rate_limited(60));
    }
    let refused = || ApiError::unauthenticated("wrong login or password");
    let user = match state.0.stores.org.user_by_login(&body.login).await {
        Ok(user) => Some(user),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = body.password;
    // Verify even for an unknown login, so timing does not tell which logins exist.
    let ok = tokio::task::spawn_blocking(move || {
        verify_password(&password, hash.as_deref().unwrap_or(&DUMMY_HASH))
    })
    .await
    .unwrap_or(false);
    let user = match user {
        Some(u) if ok && u.active => u,
        _ => return Err(refused()),
    };
    let expires_at = Some(state.now() + state.0.settings.token_lifetime);
    let secret = mint(
        &state,
        user.organization,
        Subject::User(user.id),
        "sign-in",
        expires_at,
    )
    .await?;
    let principal = principal_for(&state, &secret).await?;
    Ok(Json(TokenResponse {
        token: secret,
        expires_at,
        me: me(&principal, Some(&user), None),
    }))
}

/// An Argon2id hash of a random password, verified against when a login is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    new_secret()
        .and_then(|p| hash_password(&p))
        .unwrap_or_default()
});

/// Revokes the token of the call.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = crate::Problem)), security(("bearer" = [])))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<StatusCode, ApiError> {
    if let Some(digest) = &principal.token {
        state
            .0
            .stores
            .auth
            .revoke_token(digest, state.now())
            .await?;
        state.0.principals.forget_all();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = crate::Problem)), security(("bearer" = [])))]
pub(crate) async fn whoami(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Me>, ApiError> {
    let user = match principal.user {
        Some(id) => Some(state.0.stores.org.user(id).await?),
        None => None,
    };
    let device = match principal.device {
        Some(id) => Some(state.0.stores.auth.device(id).await?),
        None => None,
    };
    Ok(Json(me(&principal, user.as_ref(), device.as_ref())))
}
