//! A branch's staffing forecast from its history, and what-if questions to the simulator.
//!
//! The forecast reads the branch's events of a window of whole local dates into an
//! [`HourCube`] and asks [`cem_report::forecast::forecast`] for the counters each service
//! needs in each hour of the week (Erlang C; the method is in `cem_report::forecast`). A
//! what-if runs the queue's simulator for one service, one steady arrival rate and a number of
//! counters, beside Erlang C's answer; its inputs are bounded so that no question makes the
//! server simulate for long: at most [`MAX_ARRIVALS_PER_HOUR`] arrivals an hour and
//! [`MAX_COUNTERS`] counters, 10 000 customers simulated.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cem_core::chrono::{Duration, NaiveDate};
use cem_core::chrono_tz::Tz;
use cem_core::{BranchConfig, BranchId, ServiceId};
use cem_report::forecast::{self, ServiceForecast, WhatIf, WhatIfResult};
use cem_report::{CubeSpec, HourCube};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    MAX_WINDOW_DAYS, config_of, csv_response, out_of_range, read_history, readable, report_error,
    wants_csv,
};
use crate::error::ApiError;
use crate::live::day_start;
use crate::state::AppState;

/// The most arrivals an hour a what-if takes.
pub const MAX_ARRIVALS_PER_HOUR: f64 = 10_000.0;
/// The most counters a what-if takes.
pub const MAX_COUNTERS: u32 = 200;
/// The longest mean service time or target wait a what-if takes, seconds (a day).
const MAX_SECS: f64 = 86_400.0;
/// The history a forecast or a what-if reads when the query names none, days.
const DEFAULT_HISTORY_DAYS: i64 = 28;
/// The service level a forecast aims at when the query names none.
const DEFAULT_LEVEL: f64 = 0.8;

/// The history of `config`'s branch over the local dates `[from, to)`, hour by hour.
async fn cube(
    state: &AppState,
    config: &BranchConfig,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HourCube, ApiError> {
    let tz = config.branch.time_zone;
    let mut cube = HourCube::new(CubeSpec::of(std::slice::from_ref(config)));
    let store = state.stores().events.as_ref();
    let mut undecodable = 0_u64;
    read_history(
        store,
        config.branch.id,
        day_start(tz, from),
        day_start(tz, to),
        |e| {
            if cube.apply_recorded(e).is_err() {
                undecodable += 1;
            }
        },
    )
    .await?;
    if undecodable > 0 {
        tracing::warn!(undecodable, branch = %config.branch.id, "events that are not queue events were skipped");
    }
    Ok(cube)
}

/// The local dates `[from, to)` asked, defaulting to the [`DEFAULT_HISTORY_DAYS`] before today.
fn dates(
    state: &AppState,
    tz: Tz,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let today = state.now().with_timezone(&tz).date_naive();
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_HISTORY_DAYS));
    if from >= to {
        return Err(ApiError::invalid("`from` must be before `to`"));
    }
    if to - from > Duration::days(MAX_WINDOW_DAYS) {
        return Err(out_of_range(format!(
            "a forecast reads at most {MAX_WINDOW_DAYS} days of history"
        )));
    }
    Ok((from, to))
}

/// The history a forecast reads, and the level it aims at.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForecastQuery {
    /// First local date of the history (`2026-03-02`); 28 days before `to` when absent.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// First local date after the history; today when absent. At most 366 days after `from`.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// The share of customers to call within their service's target wait, in (0, 1);
    /// default 0.8.
    pub level: Option<f64>,
    /// `json` (default) or `csv`: a header, then one record per service, weekday and hour.
    pub format: Option<String>,
}

/// The counters an hour of the week needs, over every service.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TotalHour {
    /// Day of the week, 1 (Monday) to 7 (Sunday).
    pub weekday: u8,
    /// Local hour, 0–23.
    pub hour: u8,
    /// The sum of the services' counters: an upper bound when counters serve several.
    pub counters: u32,
}

/// A branch's staffing forecast.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastView {
    /// Branch.
    #[schema(value_type = String)]
    pub branch: BranchId,
    /// First local date of the history read.
    pub from: NaiveDate,
    /// First local date after it.
    pub to: NaiveDate,
    /// The branch's zone, of the dates and hours.
    #[schema(value_type = String, example = "Europe/Berlin")]
    pub time_zone: Tz,
    /// The service level aimed at.
    pub level: f64,
    /// Per service: `service`, `mean_service_secs` and whether it came `from_history` (else
    /// the configured expectation), `target_wait_secs`, and `hours`: for each hour of the
    /// week the history holds, `weekday` (1–7), `hour`, expected `arrivals`,
    /// `load_erlangs`, `counters` needed and the `service_level` they reach by Erlang C.
    #[schema(value_type = Vec<Object>)]
    pub services: Vec<ServiceForecast>,
    /// The counters of each hour of the week over every service, sorted.
    pub totals: Vec<TotalHour>,
}

/// The counters a branch needs per hour of the week and service to call `level` of its
/// customers within each service's target wait, from the arrivals and service times of a
/// history window (by Erlang C).
#[utoipa::path(get, path = "/api/v1/branches/{branch}/forecast", tag = "reports",
    params(("branch" = String, Path), ForecastQuery),
    responses((status = 200, content((ForecastView = "application/json"), (String = "text/csv"))),
        (status = 400, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`out_of_range`: a level outside (0, 1), a window too long")),
    security(("bearer" = [])))]
pub(crate) async fn staffing(
    State(state): State<AppState>,
    Path(branch): Path<BranchId>,
    query: Result<Query<ForecastQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = readable(query)?;
    let csv = wants_csv(query.format.as_deref())?;
    let config = config_of(&state, branch).await?;
    let tz = config.branch.time_zone;
    let (from, to) = dates(&state, tz, query.from, query.to)?;
    let level = query.level.unwrap_or(DEFAULT_LEVEL);
    if !(level > 0.0 && level < 1.0) {
        return Err(out_of_range(format!(
            "level must be in (0, 1), not {level}"
        )));
    }
    let cube = cube(&state, &config, from, to).await?;
    let services = forecast::forecast(&cube, &config, from, to, level).map_err(report_error)?;
    if csv {
        return Ok(csv_response(
            "attachment; filename=\"forecast.csv\"",
            forecast_csv(&services),
        ));
    }
    let totals = forecast::total_counters(&services)
        .into_iter()
        .map(|((weekday, hour), counters)| TotalHour {
            weekday,
            hour,
            counters,
        })
        .collect();
    Ok(Json(ForecastView {
        branch,
        from,
        to,
        time_zone: tz,
        level,
        services,
        totals,
    })
    .into_response())
}

/// The columns of the forecast as CSV.
const FORECAST_HEADER: [&str; 9] = [
    "service",
    "weekday",
    "hour",
    "arrivals",
    "mean_service_secs",
    "target_wait_secs",
    "load_erlangs",
    "counters",
    "service_level",
];

/// The forecast as CSV: a header, then a record per service, weekday and hour.
fn forecast_csv(services: &[ServiceForecast]) -> String {
    use cem_report::csv::{number, write_record};
    let mut out = String::new();
    write_record(&mut out, FORECAST_HEADER);
    for s in services {
        for h in &s.hours {
            write_record(
                &mut out,
                [
                    s.service.to_string(),
                    h.weekday.to_string(),
                    h.hour.to_string(),
                    number(h.arrivals),
                    number(s.mean_service_secs),
                    s.target_wait_secs.to_string(),
                    number(h.load_erlangs),
                    h.counters.to_string(),
                    number(h.service_level),
                ],
            );
        }
    }
    out
}

/// A what-if question.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WhatIfQuery {
    /// The service.
    #[param(value_type = String)]
    pub service: ServiceId,
    /// Customers arriving an hour, steadily: more than 0, at most 10 000.
    pub arrivals_per_hour: f64,
    /// Counters open all the time: 1 to 200.
    pub counters: u32,
    /// Mean service time, seconds; when absent, the service's mean over the last 28 days,
    /// else its configured expectation.
    pub mean_service_secs: Option<f64>,
    /// Target wait, seconds; the service's when absent.
    pub target_wait_secs: Option<u32>,
}

/// A what-if question and the simulator's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatIfView {
    /// The service.
    #[schema(value_type = String)]
    pub service: ServiceId,
    /// Where the mean service time came from: `query`, `history` or `config`.
    pub mean_service_from: String,
    /// The question simulated: `arrivals_per_hour`, `counters`, `mean_service_secs`
    /// (exponential), `target_wait_secs`, `customers` (the first tenth warm the queue up),
    /// `seed`.
    #[schema(value_type = Object)]
    pub question: WhatIf,
    /// The answer: `service_level` (share called within the target, 0–1) as simulated,
    /// `theory_service_level` by Erlang C (0 when the load is too high for the counters),
    /// `wait_mean_secs`, `wait_p90_secs`, `utilization` (0–1).
    #[schema(value_type = Object)]
    pub result: WhatIfResult,
}

/// What service level a number of counters would give a service for a steady arrival rate:
/// the queue's simulator with its real scheduler, beside Erlang C.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/what-if", tag = "reports",
    params(("branch" = String, Path), WhatIfQuery),
    responses((status = 200, body = WhatIfView), (status = 400, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`out_of_range`: arrivals, counters, mean service time or target outside their bounds")),
    security(("bearer" = [])))]
pub(crate) async fn what_if(
    State(state): State<AppState>,
    Path(branch): Path<BranchId>,
    query: Result<Query<WhatIfQuery>, QueryRejection>,
) -> Result<Json<WhatIfView>, ApiError> {
    let Query(q) = readable(query)?;
    let arrivals = q.arrivals_per_hour;
    if !(arrivals > 0.0 && arrivals <= MAX_ARRIVALS_PER_HOUR) {
        return Err(out_of_range(format!(
            "arrivals_per_hour must be above 0 and at most {MAX_ARRIVALS_PER_HOUR}, not {arrivals}"
        )));
    }
    if !(1..=MAX_COUNTERS).contains(&q.counters) {
        return Err(out_of_range(format!(
            "counters must be 1 to {MAX_COUNTERS}, not {}",
            q.counters
        )));
    }
    if let Some(m) = q.mean_service_secs
        && !(m > 0.0 && m <= MAX_SECS)
    {
        return Err(out_of_range(format!(
            "mean_service_secs must be above 0 and at most {MAX_SECS}, not {m}"
        )));
    }
    if let Some(t) = q.target_wait_secs
        && f64::from(t) > MAX_SECS
    {
        return Err(out_of_range(format!(
            "target_wait_secs must be at most {MAX_SECS}, not {t}"
        )));
    }
    let config = config_of(&state, branch).await?;
    let service = config.service(q.service).ok_or_else(|| {
        ApiError::not_found("service_not_found", format!("no service {}", q.service))
    })?;
    let target = q.target_wait_secs.unwrap_or(service.target_wait_secs);
    let (mean, from) = match q.mean_service_secs {
        Some(m) => (m, "query"),
        None => {
            let tz = config.branch.time_zone;
            let (from, to) = dates(&state, tz, None, None)?;
            let cube = cube(&state, &config, from, to).await?;
            match forecast::mean_service_secs(&cube, from, to, |k| k.service == q.service) {
                Some(m) => (m, "history"),
                None => (f64::from(service.expected_service_secs.max(1)), "config"),
            }
        }
    };
    let question = WhatIf::new(arrivals, q.counters, mean, target);
    let asked = question.clone();
    let result = tokio::task::spawn_blocking(move || forecast::what_if(&asked))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "simulation_failed",
                e.to_string(),
            )
        })?
        .map_err(report_error)?;
    Ok(Json(WhatIfView {
        service: q.service,
        mean_service_from: from.to_owned(),
        question,
        result,
    }))
}
