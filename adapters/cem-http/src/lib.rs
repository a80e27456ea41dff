//! # cem-http
//!
//! CEM's HTTP transport on axum: the versioned JSON REST API (`/api/v1`), live branch updates
//! over server-sent events, users' and devices' bearer tokens with roles, the audit log of
//! administrative changes, health and readiness, Prometheus metrics, and the OpenAPI 3
//! document generated from the handlers (`/api/v1/openapi.json`). Reports (KPIs, satisfaction,
//! staffing forecast, live status) come from `cem-report`; service-level alerts reach staff
//! on the live stream, checked after every event and by [`AppState::check_alerts`], which a
//! server calls on a timer.
//!
//! The crate only translates: rules of the queue live in `cem-queue`, storage behind the ports
//! of `cem-core`. [`router`] builds the whole application from an [`AppState`], which a server
//! assembles from its stores ([`Stores`]), a clock and [`HttpSettings`].
//!
//! # Roles
//! Every endpoint declares the roles that may call it in [`ENDPOINTS`]; one middleware enforces
//! the table for every route: a call without a token is the public (401 where the public may
//! not go), a role not listed gets 403, and a branch of another organization is 404 whatever
//! the role, so no one learns of another organization's data. Managers, agents and devices
//! reach only their own branches. Records outside a branch's path (surveys, cases, webhooks,
//! messages, layouts, playlists, news, reports) are checked by their handlers the same way:
//! another organization's are not found, and a manager reaches the cases, results, reports and
//! news of their own branches only; a display device reads only the screen it is. Public calls are rate
//! limited per client address.
//!
//! # Errors
//! Every error is a problem document ([`Problem`], `application/problem+json`) with a stable
//! `code`.

mod audit;
mod auth;
mod customers;
mod error;
mod live;
mod ops;
mod org;
mod outbox;
mod queue;
mod reports;
mod reservations;
mod signage;
mod state;
mod surveys;
mod webhooks;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

pub use audit::AuditQuery;
pub use auth::{
    ApiRole, ENDPOINTS, Endpoint, LoginRequest, Me, Principal, TokenResponse, hash_password,
    verify_password,
};
pub use customers::{CustomerQuery, CustomerRequest, CustomerView, VisitView, VisitsQuery};
pub use error::{ApiError, Problem};
pub use live::LiveQuery;
pub use org::{DeviceToken, NewDevice, UserRequest, UserView};
pub use outbox::{DeadQuery, EraseRequest, Erased};
pub use queue::{
    BranchStatus, CounterActionRequest, CounterState, IssueRequest, RecentCall, ResumeRequest,
    ServiceStatus, TicketView, TransferRequest,
};
pub use reports::alerts::LiveView;
pub use reports::charts::ChartQuery;
pub use reports::forecast::{
    ForecastQuery, ForecastView, MAX_ARRIVALS_PER_HOUR, MAX_COUNTERS, TotalHour, WhatIfQuery,
    WhatIfView,
};
pub use reports::projector::{Caught, ReportProjector, report_spec};
pub use reports::{KpiReport, MAX_WINDOW_DAYS, ReportQuery, SatisfactionReport, Source};
pub use reservations::{
    AgendaQuery, BookingView, CheckInView, HolderRequest, NewBooking, RescheduleRequest, SlotsQuery,
};
pub use signage::{
    BestBranch, BestQuery, Board, BranchInfoRequest, BranchInfoView, ClockView, HolidayView,
    InfoQuery, LayoutRequest, ManifestQuery, NewsRequest, NewsView, PlaylistRequest, ScreenContent,
    ScreenLiveQuery, ScreenManifest, ScreenRequest, ScreenSummary, ServiceWait, WaitingView,
};
pub use state::{AppState, HttpSettings, Stores, SystemClock, SystemEntropy};
pub use surveys::{
    CaseDetail, CaseResponse, CaseView, CasesQuery, GroupView, InvitationDocument, InvitationView,
    OpenRequest, ReplyToRequest, ResolveRequest, ResponseRequest, ResultsQuery, Submitted,
    SurveyChange, SurveyDefinition, SurveyForm, SurveyResults, VersionQuery, WalkUpSource,
};
pub use webhooks::{DeliveriesQuery, Delivery, WebhookRequest, WebhookView};

/// The OpenAPI document of the API.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "CEM API", description = "Customer experience management: queue, reservations, surveys, signage, organization, live updates."),
    paths(
        ops::health, ops::ready, ops::metrics_text, openapi,
        auth::login, auth::logout, auth::whoami,
        org::organization, org::classes, org::put_class, org::delete_class,
        org::branches, org::branch, org::put_branch,
        org::put_service, org::delete_service, org::put_counter, org::delete_counter,
        org::devices, org::add_device, org::delete_device,
        org::agents, org::put_agent, org::delete_agent,
        org::users, org::put_user, org::delete_user,
        customers::put_customer, customers::find, customers::get_customer, customers::visits,
        audit::audit,
        outbox::dead, outbox::message, outbox::replay, outbox::erase,
        webhooks::list, webhooks::create, webhooks::get, webhooks::update, webhooks::delete,
        webhooks::deliveries,
        queue::status, queue::issue, queue::tickets, queue::ticket, queue::cancel,
        queue::transfer, queue::resume, queue::counters, queue::counter, queue::counter_action,
        live::events,
        reservations::put_plan, reservations::get_plan, reservations::delete_plan,
        reservations::slots, reservations::book, reservations::booking, reservations::cancel,
        reservations::accept,
        reservations::reschedule, reservations::booking_ics, reservations::booking_qr,
        reservations::agenda,
        reservations::agenda_calendar, reservations::check_in, reservations::no_show,
        surveys::invitation, surveys::respond, surveys::open, surveys::qr,
        surveys::list, surveys::create, surveys::get, surveys::change, surveys::results,
        surveys::cases, surveys::case, surveys::take, surveys::resolve,
        signage::records::list_layouts, signage::records::create_layout,
        signage::records::get_layout, signage::records::put_layout,
        signage::records::delete_layout,
        signage::records::list_playlists, signage::records::create_playlist,
        signage::records::get_playlist, signage::records::put_playlist,
        signage::records::delete_playlist,
        signage::records::list_news, signage::records::create_news, signage::records::get_news,
        signage::records::put_news, signage::records::delete_news,
        signage::screens::list_screens, signage::screens::create_screen,
        signage::screens::get_screen, signage::screens::put_screen,
        signage::screens::delete_screen, signage::screens::me,
        signage::screens::screen_content, signage::screens::screen_manifest,
        signage::screens::screen_events,
        signage::info::get_info, signage::info::put_info, signage::info::best,
        reports::kpi_report, reports::satisfaction_report, reports::forecast::staffing,
        reports::forecast::what_if, reports::alerts::live,
        reports::charts::waits, reports::charts::arrivals, reports::charts::service_level,
        reports::charts::satisfaction,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "queue", description = "Tickets, counters and live status"),
        (name = "live", description = "Server-sent events"),
        (name = "reservations", description = "Appointments: plans, slots, bookings by code, agenda, check-in"),
        (name = "surveys", description = "Feedback: survey definitions, invitations and responses, results, closed-loop cases"),
        (name = "signage", description = "Screens, layouts, playlists and news; what a screen shows and says; public branch information and the best branch to go to"),
        (name = "reports", description = "KPIs and satisfaction over time, staffing forecast and what-if, live status with service-level alerts"),
        (name = "organization", description = "Configuration and users"),
        (name = "notifications", description = "Messages to customers and integrations: webhooks, delivery logs, dead letters, replay, erasure"),
        (name = "auth", description = "Sign-in and tokens"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

#[derive(Debug)]
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document as JSON.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, body = Object)))]
async fn openapi() -> Response {
    static DOC: OnceLock<String> = OnceLock::new();
    let doc = DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_default());
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.clone(),
    )
        .into_response()
}

async fn not_found(request: Request) -> ApiError {
    ApiError::not_found(
        "no_route",
        format!("no route {} {}", request.method(), request.uri().path()),
    )
}

/// Answers refused by an extractor (a body that is not JSON or not of the request's shape, a
/// query or path that does not parse, a body over the limit) come as plain text; they become
/// problem documents like every other error, with the extractor's text as the detail.
async fn problem_for_rejections(response: Response) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !status.is_client_error() || !plain {
        return response;
    }
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        _ => "invalid_request",
    };
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    ApiError::new(status, code, String::from_utf8_lossy(&body).into_owned()).into_response()
}

/// The whole application: every route of [`ENDPOINTS`], with authorization, metrics, request
/// ids, tracing, body limits, timeouts and CORS.
pub fn router(state: AppState) -> Router {
    let settings = state.0.settings.clone();
    let routes = Router::new()
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics_text))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/me", get(auth::whoami))
        .route("/api/v1/organization", get(org::organization))
        .route("/api/v1/classes", get(org::classes))
        .route(
            "/api/v1/classes/{class}",
            put(org::put_class).delete(org::delete_class),
        )
        .route("/api/v1/branches", get(org::branches))
        .route(
            "/api/v1/branches/{branch}",
            get(org::branch).put(org::put_branch),
        )
        .route(
            "/api/v1/branches/{branch}/services/{service}",
            put(org::put_service).delete(org::delete_service),
        )
        .route(
            "/api/v1/branches/{branch}/counters/{counter}",
            get(queue::counter)
                .put(org::put_counter)
                .delete(org::delete_counter),
        )
        .route(
            "/api/v1/branches/{branch}/devices",
            get(org::devices).post(org::add_device),
        )
        .route(
            "/api/v1/branches/{branch}/devices/{device}",
            axum::routing::delete(org::delete_device),
        )
        .route("/api/v1/agents", get(org::agents))
        .route(
            "/api/v1/agents/{agent}",
            put(org::put_agent).delete(org::delete_agent),
        )
        .route("/api/v1/users", get(org::users))
        .route(
            "/api/v1/users/{user}",
            put(org::put_user).delete(org::delete_user),
        )
        .route("/api/v1/audit", get(audit::audit))
        .route("/api/v1/customers", get(customers::find))
        .route(
            "/api/v1/customers/{customer}",
            get(customers::get_customer).put(customers::put_customer),
        )
        .route(
            "/api/v1/customers/{customer}/visits",
            get(customers::visits),
        )
        .route("/api/v1/outbox/dead", get(outbox::dead))
        .route("/api/v1/outbox/erase", post(outbox::erase))
        .route("/api/v1/outbox/{message}", get(outbox::message))
        .route("/api/v1/outbox/{message}/replay", post(outbox::replay))
        .route(
            "/api/v1/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/api/v1/webhooks/{webhook}",
            get(webhooks::get)
                .put(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(
            "/api/v1/webhooks/{webhook}/deliveries",
            get(webhooks::deliveries),
        )
        .route("/api/v1/branches/{branch}/status", get(queue::status))
        .route("/api/v1/branches/{branch}/events", get(live::events))
        .route(
            "/api/v1/branches/{branch}/tickets",
            get(queue::tickets).post(queue::issue),
        )
        .route(
            "/api/v1/branches/{branch}/tickets/{ticket}",
            get(queue::ticket),
        )
        .route(
            "/api/v1/branches/{branch}/tickets/{ticket}/cancel",
            post(queue::cancel),
        )
        .route(
            "/api/v1/branches/{branch}/tickets/{ticket}/transfer",
            post(queue::transfer),
        )
        .route(
            "/api/v1/branches/{branch}/tickets/{ticket}/resume",
            post(queue::resume),
        )
        .route("/api/v1/branches/{branch}/counters", get(queue::counters))
        .route(
            "/api/v1/branches/{branch}/counters/{counter}/{action}",
            post(queue::counter_action),
        )
        .route(
            "/api/v1/branches/{branch}/services/{service}/plan",
            get(reservations::get_plan)
                .put(reservations::put_plan)
                .delete(reservations::delete_plan),
        )
        .route(
            "/api/v1/branches/{branch}/services/{service}/slots",
            get(reservations::slots),
        )
        .route(
            "/api/v1/branches/{branch}/bookings",
            post(reservations::book),
        )
        .route(
            "/api/v1/branches/{branch}/bookings/{code}",
            get(reservations::booking),
        )
        .route(
            "/api/v1/branches/{branch}/bookings/{code}/cancel",
            post(reservations::cancel),
        )
        .route(
            "/api/v1/branches/{branch}/bookings/{code}/reschedule",
            post(reservations::reschedule),
        )
        .route(
            "/api/v1/branches/{branch}/bookings/{code}/accept",
            post(reservations::accept),
        )
        .route(
            "/api/v1/branches/{branch}/bookings/{code}/calendar.ics",
            get(reservations::booking_ics),
        )
        .route(
            "/api/v1/branches/{branch}/bookings/{code}/qr.svg",
            get(reservations::booking_qr),
        )
        .route(
            "/api/v1/branches/{branch}/bookings/{code}/check-in",
            post(reservations::check_in),
        )
        .route(
            "/api/v1/branches/{branch}/bookings/{code}/no-show",
            post(reservations::no_show),
        )
        .route(
            "/api/v1/branches/{branch}/agenda",
            get(reservations::agenda),
        )
        .route(
            "/api/v1/branches/{branch}/agenda.ics",
            get(reservations::agenda_calendar),
        )
        .route(
            "/api/v1/branches/{branch}/surveys/{survey}/invitations",
            post(surveys::open),
        )
        .route(
            "/api/v1/branches/{branch}/surveys/{survey}/qr.svg",
            get(surveys::qr),
        )
        .route("/api/v1/surveys", get(surveys::list).post(surveys::create))
        .route("/api/v1/surveys/results", get(surveys::results))
        .route(
            "/api/v1/surveys/invitations/{token}",
            get(surveys::invitation),
        )
        .route(
            "/api/v1/surveys/invitations/{token}/response",
            post(surveys::respond),
        )
        .route(
            "/api/v1/surveys/{survey}",
            get(surveys::get).put(surveys::change),
        )
        .route("/api/v1/cases", get(surveys::cases))
        .route("/api/v1/cases/{case}", get(surveys::case))
        .route("/api/v1/cases/{case}/take", post(surveys::take))
        .route("/api/v1/cases/{case}/resolve", post(surveys::resolve))
        .route(
            "/api/v1/layouts",
            get(signage::records::list_layouts).post(signage::records::create_layout),
        )
        .route(
            "/api/v1/layouts/{layout}",
            get(signage::records::get_layout)
                .put(signage::records::put_layout)
                .delete(signage::records::delete_layout),
        )
        .route(
            "/api/v1/playlists",
            get(signage::records::list_playlists).post(signage::records::create_playlist),
        )
        .route(
            "/api/v1/playlists/{playlist}",
            get(signage::records::get_playlist)
                .put(signage::records::put_playlist)
                .delete(signage::records::delete_playlist),
        )
        .route(
            "/api/v1/news",
            get(signage::records::list_news).post(signage::records::create_news),
        )
        .route(
            "/api/v1/news/{news}",
            get(signage::records::get_news)
                .put(signage::records::put_news)
                .delete(signage::records::delete_news),
        )
        .route(
            "/api/v1/branches/{branch}/screens",
            get(signage::screens::list_screens).post(signage::screens::create_screen),
        )
        .route(
            "/api/v1/branches/{branch}/screens/{screen}",
            get(signage::screens::get_screen)
                .put(signage::screens::put_screen)
                .delete(signage::screens::delete_screen),
        )
        .route(
            "/api/v1/branches/{branch}/screens/{screen}/content",
            get(signage::screens::screen_content),
        )
        .route(
            "/api/v1/branches/{branch}/screens/{screen}/manifest",
            get(signage::screens::screen_manifest),
        )
        .route(
            "/api/v1/branches/{branch}/screens/{screen}/events",
            get(signage::screens::screen_events),
        )
        .route("/api/v1/screens/me", get(signage::screens::me))
        .route(
            "/api/v1/branches/{branch}/info",
            get(signage::info::get_info).put(signage::info::put_info),
        )
        .route(
            "/api/v1/organizations/{organization}/branches/best",
            get(signage::info::best),
        )
        .route("/api/v1/reports/kpis", get(reports::kpi_report))
        .route(
            "/api/v1/reports/satisfaction",
            get(reports::satisfaction_report),
        )
        .route(
            "/api/v1/reports/charts/waits.svg",
            get(reports::charts::waits),
        )
        .route(
            "/api/v1/reports/charts/arrivals.svg",
            get(reports::charts::arrivals),
        )
        .route(
            "/api/v1/reports/charts/service-level.svg",
            get(reports::charts::service_level),
        )
        .route(
            "/api/v1/reports/charts/satisfaction.svg",
            get(reports::charts::satisfaction),
        )
        .route(
            "/api/v1/branches/{branch}/forecast",
            get(reports::forecast::staffing),
        )
        .route(
            "/api/v1/branches/{branch}/what-if",
            get(reports::forecast::what_if),
        )
        .route("/api/v1/branches/{branch}/live", get(reports::alerts::live))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        .route_layer(middleware::from_fn(ops::measure))
        .fallback(not_found)
        .with_state(state);

    let request_id = HeaderName::from_static("x-request-id");
    let cors = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
            HeaderName::from_static("last-event-id"),
        ])
        .allow_origin(AllowOrigin::list(
            settings
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        ));
    routes
        .layer(middleware::map_response(problem_for_rejections))
        .layer(RequestBodyLimitLayer::new(settings.body_limit))
        .layer(middleware::from_fn_with_state(
            settings.request_timeout,
            ops::time_limit,
        ))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(
            |request: &Request| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
            },
        ))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
