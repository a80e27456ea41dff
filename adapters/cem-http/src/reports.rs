//! Reports over HTTP: queue KPIs and satisfaction beside them for administrators and the
//! managers of the branches, a branch's staffing forecast and what-if questions, its live
//! status with service-level alerts ([`alerts`]).
//!
//! The figures and their definitions are `cem-report`'s; this module reads the history,
//! keeps managers to their branches and another organization's branches out of sight (not
//! found), and writes JSON or CSV.
//!
//! # Reading the history
//! A report over `[from, to)` reads each branch's stream from the start of the branch's local
//! business day that contains `from` (so a ticket issued earlier that day and called inside
//! the window has its wait), up to the first event at or after `to`. The day's first event is
//! found by halving the stream's versions: about log₂(events of the stream) reads of one event, then
//! the events of the window and of the part of its first day before `from`, page by page. The
//! cost of a report therefore grows with the events of the window, not with the history. What
//! it cannot see: a ticket issued on an earlier day and still alive at the day's start (rare:
//! the queue carries over only tickets not yet finished at midnight) is left out and counted
//! in `ignored_events`, and a counter left open over midnight counts no open or busy time (nor
//! its signed-in agent) until it is opened again that day: its pause or close is skipped and
//! counted too. A window is at most [`MAX_WINDOW_DAYS`] days long.
//!
//! # Reading the aggregates
//! When the report projection ([`projector`]) has folded every event before `to`, a report
//! grouped by `all`, `branch`, `service`, `hour`, `day` or `weekday` whose window starts and
//! ends on whole local hours reads the hourly aggregates of the report store instead, summed
//! in the database: its cost no longer grows with the events of the window. The answer says
//! `"source": "aggregates"`. The figures are those of the fold, with three differences:
//! medians and p90s come from 30-second histogram buckets (at most 30 s above the exact
//! nearest-rank wait, never below; see `cem-report`'s `incremental` module), counters' open
//! and busy time are not kept (`busy_secs` and `open_secs` are 0, `utilization_pct` is
//! `null`, and an hour or day with nothing but open counters has no row), and
//! `ignored_events` is 0. Service levels use the targets the services had when
//! the projection read the events. Other groupings, windows off the hour (or on an hour a
//! clock change makes ambiguous), branches in several zones grouped by time, a projection
//! still behind `to`, and `source=events` fold the events as above
//! (`"source": "events"`).
//!
//! # Groups in local time
//! `hour`, `day` and `weekday` read instants in the branches' time zone when every branch
//! reported on is in the same one (one branch always is), else in UTC: pass `branch` for a
//! branch's local hours. The zone used is in the answer.

pub(crate) mod alerts;
pub(crate) mod charts;
pub(crate) mod forecast;
pub(crate) mod projector;

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use cem_core::chrono::{DateTime, TimeDelta, Utc};
use cem_core::chrono::{NaiveDateTime, TimeZone, Timelike};
use cem_core::chrono_tz::Tz;
use cem_core::{
    BranchConfig, BranchId, LocalRange, QueueEventStore, RecordedEvent, ReportBy, ReportKey,
    ResponseFilter, Survey,
};
use cem_report::{Cell, Fold, GroupBy, Key, KpiSpec, ReportError, Row, SatisfactionRow, Window};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::live::{day_start, first_version_at};
use crate::state::AppState;

/// The longest window a report reads, days.
pub const MAX_WINDOW_DAYS: i64 = 366;

/// The window KPIs cover when the query names none.
const DEFAULT_PERIOD: TimeDelta = TimeDelta::days(7);

/// Events read from the store at a time.
const PAGE: usize = 1_000;

// ---- Errors and input -----------------------------------------------------------------------

/// A report that cannot be made: 422 for inputs out of their range, 400 for a window that ends
/// before it starts, 500 for the rest (a mistake of ours).
pub(crate) fn report_error(e: ReportError) -> ApiError {
    match &e {
        ReportError::OutOfRange { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
            e.to_string(),
        ),
        ReportError::Simulation(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "simulation_refused",
            e.to_string(),
        ),
        ReportError::EmptyWindow { .. } => ApiError::invalid(e.to_string()),
        _ => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "report_failed",
            e.to_string(),
        ),
    }
}

/// 422 with the code `out_of_range`.
pub(crate) fn out_of_range(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "out_of_range", detail)
}

/// A query string the handler could not read, as a problem document.
pub(crate) fn readable<T>(input: Result<T, QueryRejection>) -> Result<T, ApiError> {
    input.map_err(|e| ApiError::invalid(e.body_text()))
}

/// Whether the answer is CSV (`format=csv`) or JSON (none, or `format=json`).
pub(crate) fn wants_csv(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::invalid(format!(
            "format {other:?}: `json` or `csv`"
        ))),
    }
}

/// A CSV body with its content type, offered for download as `filename`.
pub(crate) fn csv_response(filename: &'static str, body: String) -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, filename),
        ],
        body,
    )
        .into_response()
}

/// The grouping a `by` names, in `tz` for hours, days and weekdays.
fn group_by(by: &str, tz: Tz) -> Option<GroupBy> {
    Some(match by {
        "all" => GroupBy::All,
        "branch" => GroupBy::Branch,
        "service" => GroupBy::Service,
        "counter" => GroupBy::Counter,
        "agent" => GroupBy::Agent,
        "class" => GroupBy::Class,
        "hour" => GroupBy::HourOfDay(tz),
        "day" => GroupBy::Day(tz),
        "weekday" => GroupBy::Weekday(tz),
        _ => return None,
    })
}

/// `[from, to)` checked: `from` before `to`, at most [`MAX_WINDOW_DAYS`] long.
pub(crate) fn window(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Window, ApiError> {
    let window = Window::new(from, to).map_err(report_error)?;
    if to - from > TimeDelta::days(MAX_WINDOW_DAYS) {
        return Err(out_of_range(format!(
            "a report covers at most {MAX_WINDOW_DAYS} days"
        )));
    }
    Ok(window)
}

// ---- Scoping and the history ----------------------------------------------------------------

/// The configurations of the branches a query covers: the one asked (which must be the
/// caller's: another organization's is not found, another manager's forbidden), else every
/// branch of the caller's (an administrator's organization, a manager's own).
pub(crate) async fn branches_of(
    state: &AppState,
    principal: &Principal,
    branch: Option<BranchId>,
) -> Result<Vec<BranchConfig>, ApiError> {
    let ids = match crate::surveys::branches_of(state, principal, branch).await? {
        Some(ids) => ids,
        None => state
            .stores()
            .org
            .branches(principal.org()?)
            .await?
            .into_iter()
            .map(|b| b.id)
            .collect(),
    };
    let mut configs = Vec::with_capacity(ids.len());
    for id in ids {
        configs.push(config_of(state, id).await?);
    }
    Ok(configs)
}

/// The configuration of a branch as the queue uses it.
pub(crate) async fn config_of(
    state: &AppState,
    branch: BranchId,
) -> Result<BranchConfig, ApiError> {
    match state.queue().config(branch) {
        Some(c) => Ok((*c).clone()),
        None => state.reload_branch(branch).await,
    }
}

/// Hands `f` the events of `branch`'s stream from the first at or after `start` to the last
/// before `to`, in order (see [reading the history](self#reading-the-history)).
pub(crate) async fn read_history(
    store: &dyn QueueEventStore,
    branch: BranchId,
    start: DateTime<Utc>,
    to: DateTime<Utc>,
    mut f: impl FnMut(&RecordedEvent),
) -> Result<(), ApiError> {
    let version = store.stream_version(branch).await?;
    let mut after = first_version_at(store, branch, start, version + 1).await? - 1;
    while after < version {
        let page = store.read_stream(branch, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.version;
        for e in &page {
            if e.at >= to {
                return Ok(());
            }
            f(e);
        }
    }
    Ok(())
}

/// The zone the branches share, else UTC.
pub(crate) fn shared_zone(configs: &[BranchConfig]) -> Tz {
    let zones: BTreeSet<String> = configs
        .iter()
        .map(|c| c.branch.time_zone.name().to_owned())
        .collect();
    match (zones.len(), configs.first()) {
        (1, Some(c)) => c.branch.time_zone,
        _ => Tz::UTC,
    }
}

/// A report's question, read and checked.
struct Asked {
    window: Window,
    by_name: String,
    by: GroupBy,
    tz: Tz,
    configs: Vec<BranchConfig>,
    csv: bool,
    /// Only the events (`source=events`).
    events_only: bool,
}

/// Where a report's rows came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The hourly aggregates of the report store.
    Aggregates,
    /// The events, folded.
    Events,
}

async fn asked(
    state: &AppState,
    principal: &Principal,
    query: ReportQuery,
) -> Result<Asked, ApiError> {
    let csv = wants_csv(query.format.as_deref())?;
    let to = query.to.unwrap_or_else(|| state.now());
    let from = query.from.unwrap_or(to - DEFAULT_PERIOD);
    let window = window(from, to)?;
    let configs = branches_of(state, principal, query.branch).await?;
    let tz = shared_zone(&configs);
    let events_only = match query.source.as_deref() {
        None | Some("auto") => false,
        Some("events") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "source {other:?}: `auto` or `events`"
            )));
        }
    };
    let by_name = query.by.unwrap_or_else(|| "all".to_owned());
    let by = group_by(&by_name, tz).ok_or_else(|| {
        ApiError::invalid(format!(
            "by {by_name:?}: all, branch, service, counter, agent, class, hour, day or weekday"
        ))
    })?;
    Ok(Asked {
        window,
        by_name,
        by,
        tz,
        configs,
        csv,
        events_only,
    })
}

/// The KPI rows of a question, the events the fold skipped, and where the rows came from:
/// the aggregates when they can answer, else the events.
async fn kpis(state: &AppState, asked: &Asked) -> Result<(Vec<Row>, u64, Source), ApiError> {
    if !asked.events_only
        && let Some(rows) = kpis_from_aggregates(state, asked).await?
    {
        return Ok((rows, 0, Source::Aggregates));
    }
    let (rows, ignored) = kpis_from_events(state, asked).await?;
    Ok((rows, ignored, Source::Events))
}

/// The local hours of `window` in `tz`, when both ends fall on whole local hours that name
/// one instant each.
fn local_range(tz: Tz, window: &Window) -> Option<LocalRange> {
    let local = |at: DateTime<Utc>| -> Option<NaiveDateTime> {
        let l = at.with_timezone(&tz).naive_local();
        let whole = l.minute() == 0 && l.second() == 0 && l.nanosecond() == 0;
        let single = tz.from_local_datetime(&l).single().is_some();
        (whole && single).then_some(l)
    };
    LocalRange::new(local(window.from)?, local(window.to)?).ok()
}

/// Whether the projection has folded every event before `to`: the first event after its
/// cursor (if any) is at or after `to`, or, caught up, `to` has passed.
async fn projected_past(state: &AppState, to: DateTime<Utc>) -> Result<bool, ApiError> {
    let stores = state.stores();
    let cursor = stores
        .reports
        .report_cursor(cem_report::projection::CURSOR)
        .await?;
    Ok(match stores.events.read_all(cursor, 1).await?.first() {
        Some(next) => next.at >= to,
        None => to <= state.now(),
    })
}

/// The rows from the report store's aggregates, or `None` when they cannot answer the
/// question (see [reading the aggregates](self#reading-the-aggregates)).
async fn kpis_from_aggregates(
    state: &AppState,
    asked: &Asked,
) -> Result<Option<Vec<Row>>, ApiError> {
    let by = match asked.by {
        GroupBy::All => ReportBy::All,
        GroupBy::Branch => ReportBy::Branch,
        GroupBy::Service => ReportBy::Service,
        GroupBy::HourOfDay(_) => ReportBy::Hour,
        GroupBy::Day(_) => ReportBy::Day,
        GroupBy::Weekday(_) => ReportBy::Weekday,
        _ => return Ok(None),
    };
    let mut zones: BTreeMap<&str, (Tz, Vec<BranchId>)> = BTreeMap::new();
    for c in &asked.configs {
        let tz = c.branch.time_zone;
        zones
            .entry(tz.name())
            .or_insert((tz, Vec::new()))
            .1
            .push(c.branch.id);
    }
    let by_time = matches!(by, ReportBy::Hour | ReportBy::Day | ReportBy::Weekday);
    if by_time && zones.len() > 1 {
        return Ok(None);
    }
    let mut queries = Vec::with_capacity(zones.len());
    for (tz, branches) in zones.into_values() {
        let Some(range) = local_range(tz, &asked.window) else {
            return Ok(None);
        };
        queries.push(cem_core::ReportQuery {
            branches,
            range,
            by,
        });
    }
    if !projected_past(state, asked.window.to).await? {
        return Ok(None);
    }
    let mut groups: BTreeMap<Key, Cell> = BTreeMap::new();
    for q in &queries {
        for g in state.stores().reports.report(q).await? {
            let key = match g.key {
                ReportKey::Branch(b) => Key::Branch(b),
                ReportKey::Service(s) => Key::Service(s),
                ReportKey::Day(d) => Key::Day(d),
                ReportKey::Hour(h) => Key::HourOfDay(h),
                ReportKey::Weekday(w) => Key::Weekday(w),
                _ => Key::All,
            };
            groups
                .entry(key)
                .or_default()
                .merge(&Cell::from(&g.figures));
        }
    }
    Ok(Some(groups.iter().map(|(k, c)| c.row(*k)).collect()))
}

/// The KPI rows of a question folded from the events, and the events the fold skipped.
async fn kpis_from_events(state: &AppState, asked: &Asked) -> Result<(Vec<Row>, u64), ApiError> {
    let mut spec = KpiSpec::new(asked.window, [asked.by]);
    for c in &asked.configs {
        spec = spec.with_targets_of(c);
    }
    let mut fold = Fold::new(spec).map_err(report_error)?;
    let mut undecodable = 0;
    let store = state.stores().events.as_ref();
    for c in &asked.configs {
        let tz = c.branch.time_zone;
        let start = day_start(tz, asked.window.from.with_timezone(&tz).date_naive());
        read_history(store, c.branch.id, start, asked.window.to, |e| {
            if fold.apply_recorded(e).is_err() {
                undecodable += 1;
            }
        })
        .await?;
    }
    if undecodable > 0 {
        tracing::warn!(undecodable, "events that are not queue events were skipped");
    }
    Ok((fold.report(), fold.ignored() + undecodable))
}

/// The responses a filter keeps, and the survey versions they answered.
pub(crate) async fn responses_of(
    state: &AppState,
    filter: &ResponseFilter,
) -> Result<(Vec<cem_core::Response>, Vec<Survey>), ApiError> {
    let store = &state.stores().surveys;
    let responses = store.responses(filter).await?;
    let versions: BTreeSet<_> = responses.iter().map(|r| (r.survey, r.version)).collect();
    let mut surveys: Vec<Survey> = Vec::with_capacity(versions.len());
    for (id, version) in versions {
        match store.survey(id, Some(version)).await {
            Ok(s) => surveys.push(s),
            // A response of a version no longer stored counts without its questions' kinds.
            Err(cem_core::StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok((responses, surveys))
}

// ---- Endpoints ------------------------------------------------------------------------------

/// What a report covers.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First instant covered (RFC 3339); 7 days before `to` when absent.
    pub from: Option<DateTime<Utc>>,
    /// First instant after (RFC 3339); now when absent. At most 366 days after `from`.
    pub to: Option<DateTime<Utc>>,
    /// `all` (default), `branch`, `service`, `counter`, `agent`, `class`, `hour` (of the day),
    /// `day` or `weekday`; hours and days in the branches' zone when they share one, else UTC.
    pub by: Option<String>,
    /// Only this branch (a manager's own); when absent, every branch of the caller's.
    #[param(value_type = Option<String>)]
    pub branch: Option<BranchId>,
    /// `json` (default) or `csv`: a header, then one record per group.
    pub format: Option<String>,
    /// `auto` (default): the hourly aggregates when they can answer, else the events;
    /// `events`: always fold the events (for utilization, say).
    pub source: Option<String>,
}

/// Queue KPIs over a window.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiReport {
    /// First instant covered.
    pub from: DateTime<Utc>,
    /// First instant after.
    pub to: DateTime<Utc>,
    /// What the rows are grouped by.
    pub by: String,
    /// The zone of hours, days and weekdays.
    #[schema(value_type = String, example = "Europe/Berlin")]
    pub time_zone: Tz,
    /// The branches reported on.
    #[schema(value_type = Vec<String>)]
    pub branches: Vec<BranchId>,
    /// One row per group, sorted by key: `key` (`{"by": "service", "key": id}`), the counts
    /// (`arrived`, `called`, `served`, `no_show`, `cancelled`, `transferred_in`/`_out`), the
    /// waits (`wait_mean_secs`, `wait_median_secs`, `wait_p90_secs`, `wait_max_secs`),
    /// `service_time_mean_secs`, `service_level_pct` (waits within their service's target),
    /// `busy_secs`, `open_secs`, `utilization_pct`, and appointments' punctuality. A figure
    /// without a denominator is `null`.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Row>,
    /// Events skipped: mostly of tickets issued before the first day read.
    pub ignored_events: u64,
    /// `aggregates` (the hourly aggregates, without counter time) or `events` (folded).
    pub source: Source,
}

/// Queue KPIs of the caller's branches (or one) over a window, grouped, as JSON or CSV
/// (see the definitions in `cem-report`).
#[utoipa::path(get, path = "/api/v1/reports/kpis", tag = "reports",
    params(ReportQuery),
    responses((status = 200, content((KpiReport = "application/json"), (String = "text/csv"))),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`out_of_range`: a window too long")),
    security(("bearer" = [])))]
pub(crate) async fn kpi_report(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = readable(query)?;
    let asked = asked(&state, &principal, query).await?;
    let (rows, ignored_events, source) = kpis(&state, &asked).await?;
    if asked.csv {
        return Ok(csv_response(
            "attachment; filename=\"kpis.csv\"",
            cem_report::csv::to_csv(&rows),
        ));
    }
    Ok(Json(KpiReport {
        from: asked.window.from,
        to: asked.window.to,
        by: asked.by_name,
        time_zone: asked.tz,
        branches: asked.configs.iter().map(|c| c.branch.id).collect(),
        rows,
        ignored_events,
        source,
    })
    .into_response())
}

/// Queue KPIs with the satisfaction of the same groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct SatisfactionReport {
    /// First instant covered.
    pub from: DateTime<Utc>,
    /// First instant after.
    pub to: DateTime<Utc>,
    /// What the rows are grouped by.
    pub by: String,
    /// The zone of hours, days and weekdays.
    #[schema(value_type = String, example = "Europe/Berlin")]
    pub time_zone: Tz,
    /// The branches reported on.
    #[schema(value_type = Vec<String>)]
    pub branches: Vec<BranchId>,
    /// Fewer responses than this and a person's (agent's, counter's) figures are hidden.
    pub min_group: u32,
    /// One row per group: `kpi` (as in the KPI report), `suppressed`, and `satisfaction`
    /// (`responses`, `nps`, `csat`, `ces_ease`, `sentiment`, tags…) of the responses
    /// submitted in the window, `null` when hidden or when the grouping has no survey side
    /// (class, hour, weekday).
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<SatisfactionRow>,
    /// Events skipped: mostly of tickets issued before the first day read.
    pub ignored_events: u64,
    /// `aggregates` (the hourly aggregates, without counter time) or `events` (folded).
    pub source: Source,
}

/// Queue KPIs of the caller's branches (or one) beside the satisfaction of the same groups
/// (responses submitted in the window), as JSON or CSV. A person's figures are hidden below
/// the minimum group size, as in the survey results.
#[utoipa::path(get, path = "/api/v1/reports/satisfaction", tag = "reports",
    params(ReportQuery),
    responses((status = 200, content((SatisfactionReport = "application/json"), (String = "text/csv"))),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`out_of_range`: a window too long")),
    security(("bearer" = [])))]
pub(crate) async fn satisfaction_report(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = readable(query)?;
    let asked = asked(&state, &principal, query).await?;
    let (rows, ignored_events, source) = kpis(&state, &asked).await?;
    let branches: Vec<BranchId> = asked.configs.iter().map(|c| c.branch.id).collect();
    let filter = ResponseFilter {
        organization: principal.org()?,
        survey: None,
        branches: Some(branches.clone()),
        from: asked.window.from,
        to: asked.window.to,
    };
    let (responses, surveys) = responses_of(&state, &filter).await?;
    let min_group = state.0.settings.min_group;
    let rows = cem_report::join(asked.by, &rows, &responses, &surveys, min_group);
    if asked.csv {
        return Ok(csv_response(
            "attachment; filename=\"satisfaction.csv\"",
            cem_report::csv::to_csv(&rows),
        ));
    }
    Ok(Json(SatisfactionReport {
        from: asked.window.from,
        to: asked.window.to,
        by: asked.by_name,
        time_zone: asked.tz,
        branches,
        min_group,
        rows,
        ignored_events,
        source,
    })
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groupings_are_named_as_documented() {
        let tz = cem_core::chrono_tz::Europe::Berlin;
        for name in [
            "all", "branch", "service", "counter", "agent", "class", "hour", "day", "weekday",
        ] {
            let by = group_by(name, tz).unwrap();
            assert_eq!(by.kind(), name);
        }
        assert_eq!(group_by("hour", tz), Some(GroupBy::HourOfDay(tz)));
        assert!(group_by("week", tz).is_none());
    }

    #[test]
    fn windows_are_checked() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(window(at("2026-01-01T00:00:00Z"), at("2027-01-02T00:00:00Z")).is_ok());
        let long = window(at("2026-01-01T00:00:00Z"), at("2027-01-03T00:00:00Z")).unwrap_err();
        assert_eq!(long.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let empty = window(at("2026-01-02T00:00:00Z"), at("2026-01-01T00:00:00Z")).unwrap_err();
        assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    }
}
