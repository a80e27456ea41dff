//! The queue endpoints: issue, read and act on tickets; counters; live branch status.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    AgentId, BranchConfig, BranchId, ClassId, Contact, CounterId, CustomerId, Language,
    OrganizationId, ServiceId, TicketId,
};
use cem_queue::{
    BranchQueue, Command, CounterStatus, CounterView, IssueTicket, LinePosition, QueueEvent,
    Ticket, TicketSource, TicketState, TransferTarget,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{ApiRole, Principal};
use crate::error::ApiError;
use crate::state::AppState;

/// A ticket as the API shows it. Customers read their own ticket with its id, which is random
/// and unguessable: the id is the ticket's bearer secret, so it is shown to staff and to the
/// ticket's holder only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TicketView {
    /// Id (the tracking secret).
    #[schema(value_type = String)]
    pub id: TicketId,
    /// Branch.
    #[schema(value_type = String)]
    pub branch: BranchId,
    /// Display number (`A-042`).
    pub display: String,
    /// Service.
    #[schema(value_type = String)]
    pub service: ServiceId,
    /// Priority class code.
    pub class: String,
    /// State.
    #[schema(value_type = String, example = "waiting")]
    pub state: TicketState,
    /// Where it came from.
    #[schema(value_type = String, example = "kiosk")]
    pub source: TicketSource,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it was last called.
    pub called_at: Option<DateTime<Utc>>,
    /// Number of the counter holding it, or that last held it.
    pub counter: Option<u16>,
    /// Tickets expected to be called before it, while it waits.
    pub ahead: Option<u32>,
    /// Expected seconds until it is called, while it waits and a counter can call it.
    pub estimated_wait_secs: Option<f64>,
    /// The customer, for staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub customer: Option<CustomerId>,
}

fn ticket_view(q: &BranchQueue, t: &Ticket, now: DateTime<Utc>, staff: bool) -> TicketView {
    let config = q.config();
    let estimate = q.estimate(t.id, now);
    TicketView {
        id: t.id,
        branch: config.branch.id,
        display: t.display.clone(),
        service: t.service,
        class: config
            .classes
            .iter()
            .find(|c| c.id == t.class)
            .map(|c| c.code.clone())
            .unwrap_or_default(),
        state: t.state,
        source: t.source,
        issued_at: t.issued_at,
        called_at: t.called_at,
        counter: t.counter.and_then(|c| config.counter(c)).map(|c| c.number),
        ahead: estimate.as_ref().map(|e| e.ahead),
        estimated_wait_secs: estimate.and_then(|e| e.wait_secs),
        customer: if staff { t.customer } else { None },
    }
}

/// A request for a ticket.
#[derive(Debug, Deserialize, ToSchema)]
pub struct IssueRequest {
    /// The service.
    #[schema(value_type = String)]
    pub service: ServiceId,
    /// The priority class; staff and kiosks only (others get the default class).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub class: Option<ClassId>,
    /// The customer, when known; staff and kiosks only.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub customer: Option<CustomerId>,
    /// The organization's customer number, typed at a kiosk or by staff: the ticket is that
    /// customer's and takes the customer's class unless `class` is given. Staff and kiosks
    /// only (403 for the public); an unknown number is 404 `customer_not_found`.
    #[serde(default)]
    pub customer_number: Option<String>,
    /// How to reach the customer about this ticket: a link to follow it, when the turn is
    /// near, the call. Used for this ticket's messages only, and erasable on request.
    #[serde(default)]
    pub contact: Option<ContactRequest>,
}

/// A customer's phone number or e-mail address (or both) for one ticket's messages.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ContactRequest {
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

/// Issues a ticket. The public (joining remotely) and kiosks get tickets of the default class.
#[utoipa::path(post, path = "/api/v1/branches/{branch}/tickets", tag = "queue",
    params(("branch" = String, Path, description = "Branch id")),
    request_body = IssueRequest,
    responses((status = 201, body = TicketView), (status = 404, body = crate::Problem), (status = 409, body = crate::Problem)))]
pub(crate) async fn issue(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(branch): Path<BranchId>,
    Json(body): Json<IssueRequest>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let id = TicketId::new(uuid::Uuid::new_v4());
    let trusted = principal.role != ApiRole::Public;
    let (mut customer, mut class) = if trusted {
        (body.customer, body.class)
    } else {
        (None, None)
    };
    if let Some(number) = &body.customer_number {
        if !trusted {
            return Err(ApiError::forbidden(
                "only staff and kiosks may name a customer number",
            ));
        }
        let organization = organization_of(&state, branch)?;
        let found = crate::customers::by_number(&state, organization, number).await?;
        customer = Some(found.id);
        class = class.or(found.class);
    }
    if let Some(contact) = body.contact {
        // Kept before the ticket exists, so that its first event already finds it; a ticket
        // refused leaves a contact that nothing uses, removed with the old ones.
        let organization = organization_of(&state, branch)?;
        let clean = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let contact = Contact {
            ticket: id,
            organization,
            phone: clean(contact.phone),
            email: clean(contact.email),
            language: contact.language.unwrap_or_else(Language::en),
            created_at: state.now(),
        };
        contact.validate().map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_contact",
                e.to_string(),
            )
        })?;
        state.stores().contacts.save_contact(&contact).await?;
    }
    let command = Command::Issue(IssueTicket {
        ticket: id,
        service: body.service,
        class,
        source: match principal.role {
            ApiRole::Public => TicketSource::Web,
            ApiRole::Kiosk => TicketSource::Kiosk,
            _ => TicketSource::Staff,
        },
        customer,
        appointment_at: None,
    });
    let view = state
        .execute(
            branch,
            &command,
            ticket_of(&state, id, principal.role.is_staff()),
        )
        .await??;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The organization of a branch the queue knows.
fn organization_of(state: &AppState, branch: BranchId) -> Result<OrganizationId, ApiError> {
    state
        .queue()
        .config(branch)
        .map(|c| c.branch.organization)
        .ok_or_else(|| ApiError::not_found("branch_not_found", format!("no branch {branch}")))
}

/// A closure giving the view of ticket `id`, to run on a branch's state.
pub(crate) fn ticket_of(
    state: &AppState,
    id: TicketId,
    staff: bool,
) -> impl Fn(&BranchQueue) -> Result<TicketView, ApiError> + use<> {
    let now = state.now();
    move |q| {
        q.ticket(id)
            .map(|t| ticket_view(q, t, now, staff))
            .ok_or_else(|| ApiError::not_found("ticket_not_found", format!("no ticket {id}")))
    }
}

async fn read_ticket(
    state: &AppState,
    branch: BranchId,
    id: TicketId,
    staff: bool,
) -> Result<TicketView, ApiError> {
    let now = state.now();
    state
        .queue()
        .read(branch, |q| {
            q.ticket(id).map(|t| ticket_view(q, t, now, staff))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("ticket_not_found", format!("no ticket {id}")))
}

/// Reads a ticket: its state, position and estimated wait.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/tickets/{ticket}", tag = "queue",
    params(("branch" = String, Path), ("ticket" = String, Path)),
    responses((status = 200, body = TicketView), (status = 404, body = crate::Problem)))]
pub(crate) async fn ticket(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, ticket)): Path<(BranchId, TicketId)>,
) -> Result<Json<TicketView>, ApiError> {
    Ok(Json(
        read_ticket(&state, branch, ticket, principal.role.is_staff()).await?,
    ))
}

/// Every ticket of the branch's current business day that is still alive (waiting, called,
/// serving or parked), oldest first.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/tickets", tag = "queue",
    params(("branch" = String, Path)),
    responses((status = 200, body = [TicketView])), security(("bearer" = [])))]
pub(crate) async fn tickets(
    State(state): State<AppState>,
    Path(branch): Path<BranchId>,
) -> Result<Json<Vec<TicketView>>, ApiError> {
    let now = state.now();
    let mut list = state
        .queue()
        .read(branch, |q| {
            q.tickets()
                .filter(|t| !t.state.is_terminal())
                .map(|t| ticket_view(q, t, now, true))
                .collect::<Vec<_>>()
        })
        .await?;
    list.sort_by_key(|t| t.issued_at);
    Ok(Json(list))
}

/// Cancels a ticket: the customer left. The holder of the ticket id may cancel it.
#[utoipa::path(post, path = "/api/v1/branches/{branch}/tickets/{ticket}/cancel", tag = "queue",
    params(("branch" = String, Path), ("ticket" = String, Path)),
    responses((status = 200, body = TicketView), (status = 404, body = crate::Problem), (status = 409, body = crate::Problem)))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, ticket)): Path<(BranchId, TicketId)>,
) -> Result<Json<TicketView>, ApiError> {
    let staff = principal.role.is_staff();
    let command = Command::Cancel { ticket };
    Ok(Json(
        state
            .execute(branch, &command, ticket_of(&state, ticket, staff))
            .await??,
    ))
}

/// Where a transferred ticket goes.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TransferRequest {
    /// A service (`{"service": id}`) or a counter's personal line (`{"counter": id}`).
    #[schema(value_type = Object)]
    pub to: TransferTarget,
    /// First or last in the new line (default last).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub position: LinePosition,
}

/// Transfers a ticket to another service or to a counter's personal line.
#[utoipa::path(post, path = "/api/v1/branches/{branch}/tickets/{ticket}/transfer", tag = "queue",
    params(("branch" = String, Path), ("ticket" = String, Path)), request_body = TransferRequest,
    responses((status = 200, body = TicketView), (status = 409, body = crate::Problem)), security(("bearer" = [])))]
pub(crate) async fn transfer(
    State(state): State<AppState>,
    Path((branch, ticket)): Path<(BranchId, TicketId)>,
    Json(body): Json<TransferRequest>,
) -> Result<Json<TicketView>, ApiError> {
    let command = Command::Transfer {
        ticket,
        to: body.to,
        position: body.position,
    };
    Ok(Json(
        state
            .execute(branch, &command, ticket_of(&state, ticket, true))
            .await??,
    ))
}

/// Where a resumed ticket re-enters its line.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ResumeRequest {
    /// First or last (default last).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub position: LinePosition,
}

/// Puts a parked ticket back in its line.
#[utoipa::path(post, path = "/api/v1/branches/{branch}/tickets/{ticket}/resume", tag = "queue",
    params(("branch" = String, Path), ("ticket" = String, Path)), request_body = ResumeRequest,
    responses((status = 200, body = TicketView), (status = 409, body = crate::Problem)), security(("bearer" = [])))]
pub(crate) async fn resume(
    State(state): State<AppState>,
    Path((branch, ticket)): Path<(BranchId, TicketId)>,
    body: Bytes,
) -> Result<Json<TicketView>, ApiError> {
    let body: ResumeRequest = optional_json(&body)?;
    let command = Command::Resume {
        ticket,
        position: body.position,
    };
    Ok(Json(
        state
            .execute(branch, &command, ticket_of(&state, ticket, true))
            .await??,
    ))
}

fn optional_json<T: Default + for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("invalid JSON body: {e}")))
}

/// A counter and what it holds.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CounterState {
    /// Id.
    #[schema(value_type = String)]
    pub id: CounterId,
    /// Number shown to customers.
    pub number: u16,
    /// `closed`, `open` or `paused`.
    #[schema(value_type = String, example = "open")]
    pub status: CounterStatus,
    /// The agent signed in.
    #[schema(value_type = Option<String>)]
    pub agent: Option<AgentId>,
    /// The ticket called or being served.
    pub ticket: Option<TicketView>,
    /// Tickets waiting that this counter may call (its services and classes, its personal line).
    pub waiting: u32,
}

fn counter_state(q: &BranchQueue, v: &CounterView, now: DateTime<Utc>) -> CounterState {
    let waiting = q.waiting_for_counter(v.id);
    CounterState {
        id: v.id,
        number: v.number,
        status: v.status,
        agent: v.agent,
        ticket: v
            .ticket
            .and_then(|id| q.ticket(id))
            .map(|t| ticket_view(q, t, now, true)),
        waiting,
    }
}

/// The counters of a branch.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/counters", tag = "queue",
    params(("branch" = String, Path)),
    responses((status = 200, body = [CounterState])), security(("bearer" = [])))]
pub(crate) async fn counters(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(branch): Path<BranchId>,
) -> Result<Json<Vec<CounterState>>, ApiError> {
    let now = state.now();
    let mut list = state
        .queue()
        .read(branch, |q| {
            q.counters()
                .map(|v| counter_state(q, &v, now))
                .collect::<Vec<_>>()
        })
        .await?;
    if !principal.role.is_staff() {
        for c in &mut list {
            c.agent = None;
            c.ticket = None;
        }
    }
    Ok(Json(list))
}

/// One counter.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/counters/{counter}", tag = "queue",
    params(("branch" = String, Path), ("counter" = String, Path)),
    responses((status = 200, body = CounterState), (status = 404, body = crate::Problem)), security(("bearer" = [])))]
pub(crate) async fn counter(
    State(state): State<AppState>,
    Path((branch, counter)): Path<(BranchId, CounterId)>,
) -> Result<Json<CounterState>, ApiError> {
    read_counter(&state, branch, counter).await.map(Json)
}

async fn read_counter(
    state: &AppState,
    branch: BranchId,
    counter: CounterId,
) -> Result<CounterState, ApiError> {
    let now = state.now();
    state
        .queue()
        .read(branch, |q| {
            q.counter(counter).map(|v| counter_state(q, &v, now))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("unknown_counter", format!("no counter {counter}")))
}

/// The body of a counter action: `call` names the ticket; `open` may name the agent (staff
/// other than agents; an agent opens a counter as themself).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CounterActionRequest {
    /// The ticket to call (`call`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub ticket: Option<TicketId>,
    /// The agent to sign in (`open`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub agent: Option<AgentId>,
}

/// Acts at a counter: `open`, `pause`, `close`, `call-next`, `call` (a given ticket), `recall`,
/// `start`, `finish`, `no-show`, `park`. Returns the counter afterwards. An agent may act only
/// at a counter that is free or theirs.
#[utoipa::path(post, path = "/api/v1/branches/{branch}/counters/{counter}/{action}", tag = "queue",
    params(("branch" = String, Path), ("counter" = String, Path),
        ("action" = String, Path, description = "open, pause, close, call-next, call, recall, start, finish, no-show or park")),
    request_body = CounterActionRequest,
    responses((status = 200, body = CounterState), (status = 404, body = crate::Problem), (status = 409, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn counter_action(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((branch, counter, action)): Path<(BranchId, CounterId, String)>,
    body: Bytes,
) -> Result<Json<CounterState>, ApiError> {
    let body: CounterActionRequest = optional_json(&body)?;
    let command = match action.as_str() {
        "open" => Command::OpenCounter {
            counter,
            agent: if principal.role == ApiRole::Agent {
                principal.agent
            } else {
                body.agent
            },
        },
        "pause" => Command::PauseCounter { counter },
        "close" => Command::CloseCounter { counter },
        "call-next" => Command::CallNext { counter },
        "call" => Command::Call {
            counter,
            ticket: body
                .ticket
                .ok_or_else(|| ApiError::invalid("`call` needs the ticket to call"))?,
        },
        "recall" => Command::Recall { counter },
        "start" => Command::Start { counter },
        "finish" => Command::Finish { counter },
        "no-show" => Command::NoShow { counter },
        "park" => Command::Park { counter },
        other => {
            return Err(ApiError::not_found(
                "unknown_action",
                format!("no counter action {other:?}"),
            ));
        }
    };
    if principal.role == ApiRole::Agent {
        let current = read_counter(&state, branch, counter).await?;
        if let Some(agent) = current.agent
            && Some(agent) != principal.agent
        {
            return Err(ApiError::forbidden(format!(
                "counter {} is signed in by another agent",
                current.number
            )));
        }
    }
    let now = state.now();
    let answer = state
        .execute(branch, &command, |q| {
            q.counter(counter).map(|v| counter_state(q, &v, now))
        })
        .await?;
    answer
        .map(Json)
        .ok_or_else(|| ApiError::not_found("unknown_counter", format!("no counter {counter}")))
}

/// A service's line, for the status board.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceStatus {
    /// Service.
    #[schema(value_type = String)]
    pub id: ServiceId,
    /// Display prefix.
    pub prefix: String,
    /// Name, in the branch's languages.
    #[schema(value_type = Object)]
    pub name: cem_core::LocalizedText,
    /// Tickets waiting.
    pub waiting: u32,
    /// Seconds the longest-waiting ticket has waited.
    pub longest_wait_secs: i64,
    /// Expected wait of the last ticket in line, in seconds: roughly what a new ticket faces.
    pub estimated_wait_secs: Option<f64>,
    /// Open counters serving it.
    pub open_counters: u16,
}

/// A recent call, for the now-serving board.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecentCall {
    /// Display number.
    pub display: String,
    /// Counter number.
    pub counter: u16,
    /// When.
    pub at: DateTime<Utc>,
}

/// A branch right now. No personal data and no ticket ids: anyone may read it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BranchStatus {
    /// Branch.
    #[schema(value_type = String)]
    pub branch: BranchId,
    /// The instant of the status.
    pub at: DateTime<Utc>,
    /// The branch's stream version the status reflects.
    pub version: u64,
    /// Tickets waiting.
    pub waiting: u32,
    /// Open counters.
    pub open_counters: u16,
    /// Per service.
    pub services: Vec<ServiceStatus>,
    /// The latest calls, newest first.
    pub recent_calls: Vec<RecentCall>,
}

/// Builds the status of a branch from its queue.
pub(crate) fn branch_status(q: &BranchQueue, now: DateTime<Utc>) -> BranchStatus {
    let config = q.config();
    let estimates = q.estimates(now);
    let open: Vec<_> = q
        .counters()
        .filter(|c| c.status == CounterStatus::Open)
        .collect();
    let services = config
        .services
        .iter()
        .map(|s| {
            let waiting: Vec<&Ticket> = q
                .tickets()
                .filter(|t| t.state == TicketState::Waiting && t.service == s.id)
                .collect();
            let estimated_wait_secs = estimates
                .iter()
                .filter(|e| q.ticket(e.ticket).is_some_and(|t| t.service == s.id))
                .filter_map(|e| e.wait_secs)
                .fold(None, |m: Option<f64>, w| Some(m.map_or(w, |m| m.max(w))));
            ServiceStatus {
                id: s.id,
                prefix: s.prefix.clone(),
                name: s.name.clone(),
                waiting: q.waiting_count(s.id),
                longest_wait_secs: waiting
                    .iter()
                    .map(|t| (now - t.waiting_since).num_seconds())
                    .max()
                    .unwrap_or(0),
                estimated_wait_secs: estimated_wait_secs.or(Some(0.0)).filter(|_| {
                    open.iter().any(|c| {
                        config
                            .counter(c.id)
                            .is_some_and(|k| k.profile.services.iter().any(|p| p.service == s.id))
                    })
                }),
                open_counters: open
                    .iter()
                    .filter(|c| {
                        config
                            .counter(c.id)
                            .is_some_and(|k| k.profile.services.iter().any(|p| p.service == s.id))
                    })
                    .count() as u16,
            }
        })
        .collect();
    let mut calls: Vec<RecentCall> = q
        .tickets()
        .filter_map(|t| {
            let at = t.called_at?;
            let counter = config.counter(t.counter?)?.number;
            Some(RecentCall {
                display: t.display.clone(),
                counter,
                at,
            })
        })
        .collect();
    calls.sort_by_key(|c| std::cmp::Reverse(c.at));
    calls.truncate(10);
    BranchStatus {
        branch: config.branch.id,
        at: now,
        version: q.version(),
        waiting: q.total_waiting(),
        open_counters: open.len() as u16,
        services,
        recent_calls: calls,
    }
}

/// The live status of a branch: waiting per service, estimated waits, counters, recent calls.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/status", tag = "queue",
    params(("branch" = String, Path)),
    responses((status = 200, body = BranchStatus), (status = 404, body = crate::Problem)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    Path(branch): Path<BranchId>,
) -> Result<Json<BranchStatus>, ApiError> {
    let now = state.now();
    Ok(Json(
        state
            .queue()
            .read(branch, |q| branch_status(q, now))
            .await?,
    ))
}

/// What a client that is not staff may see of an event: no ticket id, customer or agent; the
/// ticket's display number (`display`, when known) and the counter's number instead.
pub(crate) fn public_event(
    config: &BranchConfig,
    event: &QueueEvent,
    display: Option<&str>,
) -> serde_json::Value {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.remove("customer");
        obj.remove("agent");
        obj.remove("ticket");
        if let Some(display) = display {
            obj.insert("display".into(), display.into());
        }
        let counter = obj
            .get("counter")
            .and_then(|c| c.as_str())
            .and_then(|c| c.parse::<CounterId>().ok());
        if let Some(number) = counter.and_then(|c| config.counter(c)).map(|c| c.number) {
            obj.insert("counter_number".into(), number.into());
        }
    }
    value
}
