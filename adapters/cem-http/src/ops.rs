//! Operations: liveness, readiness, Prometheus metrics and per-request measurements.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cem_core::BranchId;
use cem_queue::TicketState;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// The process's metrics recorder, installed on first use.
pub(crate) fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &[
                        0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
                    ],
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed by an embedding program: then its
            // metrics are its own, and this handle renders what this crate records nowhere.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Counts and times every request by method, route and status.
pub(crate) async fn measure(
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let method = request.method().to_string();
    let path = matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "path" => path.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "path" => path)
        .record(start.elapsed().as_secs_f64());
    response
}

/// Ends a request that takes longer than `limit` with a 503 problem (`timeout`). A live
/// stream is timed only until its headers: its body flows as long as the client stays.
pub(crate) async fn time_limit(
    State(limit): State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("the request took longer than {} s", limit.as_secs_f64()),
        )
        .into_response(),
    }
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Object)))]
pub(crate) async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the stores answer.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, body = Object), (status = 503, body = crate::Problem)))]
pub(crate) async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .stores()
        .events
        .stream_version(BranchId::from_u128(0))
        .await?;
    state.stores().org.organizations().await?;
    Ok(Json(json!({ "status": "ready" })))
}

/// Prometheus metrics: requests and latencies, and per branch and service the tickets waiting
/// and the longest wait, measured at the scrape.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", description = "Prometheus text format")))]
pub(crate) async fn metrics_text(State(state): State<AppState>) -> Response {
    let now = state.now();
    let branches: Vec<BranchId> = state
        .0
        .branches
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .keys()
        .copied()
        .collect();
    for branch in branches {
        let lines = state
            .queue()
            .read(branch, |q| {
                q.config()
                    .services
                    .iter()
                    .map(|s| {
                        let longest = q
                            .tickets()
                            .filter(|t| t.state == TicketState::Waiting && t.service == s.id)
                            .map(|t| (now - t.waiting_since).num_milliseconds() as f64 / 1000.0)
                            .fold(0.0, f64::max);
                        (s.prefix.clone(), q.waiting_count(s.id), longest)
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        for (prefix, waiting, longest) in lines.unwrap_or_default() {
            let labels = [("branch", branch.to_string()), ("service", prefix)];
            metrics::gauge!("cem_queue_waiting", &labels).set(f64::from(waiting));
            metrics::gauge!("cem_queue_longest_wait_seconds", &labels).set(longest);
        }
    }
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.0.metrics.render(),
    )
        .into_response()
}
