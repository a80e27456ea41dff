//! Report charts as SVG: the waiting-time distribution, the arrivals heat map, the service
//! level per day and the NPS/CSAT trends, in English or Persian.
//!
//! The queue charts read the history as the KPI report does (each branch's stream from the
//! start of the local day holding `from`, up to `to`) into an [`HourCube`], and keep the hours
//! from the one holding `from`: a chart is exact to the local hour. The words are written
//! here; the drawing is `cem_report::chart`'s.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use cem_core::chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc};
use cem_core::{BranchConfig, BranchId, Language, ResponseFilter, ServiceId, SurveyId};
use cem_report::chart::{self, ChartOptions, Digits, Points};
use cem_report::incremental::BUCKET_SECS;
use cem_report::{CellKey, CubeBy, CubeSpec, HourCube, Key, Window};
use serde::Deserialize;

use super::{branches_of, out_of_range, read_history, readable, responses_of, shared_zone, window};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::live::day_start;
use crate::state::AppState;

/// The window a chart covers when the query names none.
const DEFAULT_PERIOD: TimeDelta = TimeDelta::days(7);
/// The window of the arrivals heat map when the query names none.
const DEFAULT_ARRIVALS_PERIOD: TimeDelta = TimeDelta::days(28);
/// The width of a bar of the wait distribution, seconds.
const WAIT_BAR_SECS: i64 = 5 * 60;
/// Bars of the wait distribution before the last one, of longer waits.
const WAIT_BARS: i64 = 12;
/// The service level aimed at when the query names none, percent.
const DEFAULT_TARGET: f64 = 80.0;

/// What a chart covers and how it is written.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChartQuery {
    /// First instant covered (RFC 3339); 7 days before `to` when absent (28 for arrivals).
    pub from: Option<DateTime<Utc>>,
    /// First instant after (RFC 3339); now when absent. At most 366 days after `from`.
    pub to: Option<DateTime<Utc>>,
    /// Only this branch (a manager's own); when absent, every branch of the caller's.
    #[param(value_type = Option<String>)]
    pub branch: Option<BranchId>,
    /// Only this service's tickets (waits, arrivals, service level).
    #[param(value_type = Option<String>)]
    pub service: Option<ServiceId>,
    /// Only this survey's responses (satisfaction).
    #[param(value_type = Option<String>)]
    pub survey: Option<SurveyId>,
    /// The service level aimed at, percent 0–100 (service level); default 80.
    pub target: Option<f64>,
    /// `en` (default) or `fa`: the words, and Persian digits.
    pub language: Option<String>,
}

/// The language of a chart: English or Persian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Fa,
}

impl Lang {
    fn of(language: Option<&str>) -> Result<Self, ApiError> {
        match language {
            None | Some("en") => Ok(Self::En),
            Some("fa") => Ok(Self::Fa),
            Some(other) => Err(ApiError::invalid(format!(
                "language {other:?}: `en` or `fa`"
            ))),
        }
    }

    /// The English or the Persian.
    fn pick(self, en: &'static str, fa: &'static str) -> &'static str {
        match self {
            Self::En => en,
            Self::Fa => fa,
        }
    }

    fn digits(self) -> Digits {
        Digits::for_language(&match self {
            Self::En => Language::en(),
            Self::Fa => Language::fa(),
        })
    }

    fn options(
        self,
        x: (&'static str, &'static str),
        y: (&'static str, &'static str),
    ) -> ChartOptions {
        ChartOptions {
            digits: self.digits(),
            x_caption: self.pick(x.0, x.1).to_owned(),
            y_caption: self.pick(y.0, y.1).to_owned(),
            no_data: self.pick("no data", "داده‌ای نیست").to_owned(),
            target: self.pick("target", "هدف").to_owned(),
            ..ChartOptions::default()
        }
    }
}

/// A chart's question, read and checked.
struct Charted {
    window: Window,
    configs: Vec<BranchConfig>,
    lang: Lang,
}

async fn charted(
    state: &AppState,
    principal: &Principal,
    query: &ChartQuery,
    period: TimeDelta,
) -> Result<Charted, ApiError> {
    let lang = Lang::of(query.language.as_deref())?;
    let to = query.to.unwrap_or_else(|| state.now());
    let from = query.from.unwrap_or(to - period);
    let window = window(from, to)?;
    let configs = branches_of(state, principal, query.branch).await?;
    Ok(Charted {
        window,
        configs,
        lang,
    })
}

/// The branches' history over the window, hour by hour (see the [module docs](self)).
async fn cube(state: &AppState, charted: &Charted) -> Result<HourCube, ApiError> {
    let mut cube = HourCube::new(CubeSpec::of(&charted.configs));
    let store = state.stores().events.as_ref();
    let mut undecodable = 0_u64;
    for c in &charted.configs {
        let tz = c.branch.time_zone;
        let start = day_start(tz, charted.window.from.with_timezone(&tz).date_naive());
        read_history(store, c.branch.id, start, charted.window.to, |e| {
            if cube.apply_recorded(e).is_err() {
                undecodable += 1;
            }
        })
        .await?;
    }
    if undecodable > 0 {
        tracing::warn!(undecodable, "events that are not queue events were skipped");
    }
    Ok(cube)
}

/// Whether a cell is of the window (from the local hour holding `from`) and of the service
/// asked, if any.
fn keeps(
    cube: &HourCube,
    from: DateTime<Utc>,
    service: Option<ServiceId>,
) -> impl Fn(&CellKey) -> bool {
    let spec = cube.spec().clone();
    move |k: &CellKey| {
        let local = from.with_timezone(&spec.zone(k.branch)).naive_local();
        (k.date, u32::from(k.hour)) >= (local.date(), local.hour())
            && service.is_none_or(|s| s == k.service)
    }
}

fn svg(body: String) -> Response {
    ([(CONTENT_TYPE, "image/svg+xml")], body).into_response()
}

/// The wait distribution in bars of 5 minutes up to an hour, then one of longer waits, from
/// the 30-second buckets of a histogram.
fn wait_bars(buckets: impl Iterator<Item = (u16, u64)>, digits: Digits) -> Vec<(String, u64)> {
    let mut counts = [0_u64; WAIT_BARS as usize + 1];
    let mut any = false;
    for (bucket, count) in buckets {
        let bar = (i64::from(bucket) * BUCKET_SECS / WAIT_BAR_SECS).min(WAIT_BARS);
        counts[bar as usize] += count;
        any |= count > 0;
    }
    if !any {
        return Vec::new();
    }
    let minutes = WAIT_BAR_SECS / 60;
    counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let i = i as i64;
            let label = if i == WAIT_BARS {
                format!("{}+", WAIT_BARS * minutes)
            } else {
                format!("{}–{}", i * minutes, (i + 1) * minutes)
            };
            (digits.apply(&label), count)
        })
        .collect()
}

/// How long customers waited before their call, in bars of 5 minutes up to an hour and one
/// of longer waits.
#[utoipa::path(get, path = "/api/v1/reports/charts/waits.svg", tag = "reports",
    params(ChartQuery),
    responses((status = 200, content((String = "image/svg+xml"))),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`out_of_range`: a window too long")),
    security(("bearer" = [])))]
pub(crate) async fn waits(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<Query<ChartQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = readable(query)?;
    let charted = charted(&state, &principal, &query, DEFAULT_PERIOD).await?;
    let cube = cube(&state, &charted).await?;
    let all = cube.rollup(
        CubeBy::All,
        keeps(&cube, charted.window.from, query.service),
    );
    let lang = charted.lang;
    let bars = wait_bars(all.values().flat_map(|c| c.histogram.iter()), lang.digits());
    let options = lang.options(
        ("waiting time (minutes)", "زمان انتظار (دقیقه)"),
        ("tickets", "نوبت‌ها"),
    );
    let title = lang.pick("Waiting time", "زمان انتظار");
    Ok(svg(chart::wait_distribution(title, &bars, &options)))
}

/// Weekdays Monday first in English, Saturday first in Persian, as ISO numbers (1 = Monday).
fn weekdays(lang: Lang) -> [(u8, &'static str); 7] {
    match lang {
        Lang::En => [
            (1, "Monday"),
            (2, "Tuesday"),
            (3, "Wednesday"),
            (4, "Thursday"),
            (5, "Friday"),
            (6, "Saturday"),
            (7, "Sunday"),
        ],
        Lang::Fa => [
            (6, "شنبه"),
            (7, "یکشنبه"),
            (1, "دوشنبه"),
            (2, "سه‌شنبه"),
            (3, "چهارشنبه"),
            (4, "پنجشنبه"),
            (5, "جمعه"),
        ],
    }
}

/// The local dates of `[from, to)` in the zone of the charted branches, per ISO weekday.
fn dates_per_weekday(charted: &Charted) -> BTreeMap<u8, u32> {
    let tz = shared_zone(&charted.configs);
    let first = charted.window.from.with_timezone(&tz).date_naive();
    let last = (charted.window.to - TimeDelta::nanoseconds(1))
        .with_timezone(&tz)
        .date_naive();
    let mut out = BTreeMap::new();
    for date in first.iter_days().take_while(|d: &NaiveDate| *d <= last) {
        *out.entry(date.weekday().number_from_monday() as u8)
            .or_insert(0) += 1;
    }
    out
}

/// Mean arrivals per weekday and local hour over the window: a row per weekday (Monday first;
/// Saturday first in Persian), a column per hour from the first to the last holding arrivals.
#[utoipa::path(get, path = "/api/v1/reports/charts/arrivals.svg", tag = "reports",
    params(ChartQuery),
    responses((status = 200, content((String = "image/svg+xml"))),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`out_of_range`: a window too long")),
    security(("bearer" = [])))]
pub(crate) async fn arrivals(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<Query<ChartQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = readable(query)?;
    let charted = charted(&state, &principal, &query, DEFAULT_ARRIVALS_PERIOD).await?;
    let cube = cube(&state, &charted).await?;
    let keep = keeps(&cube, charted.window.from, query.service);
    let mut sums: BTreeMap<(u8, u8), u64> = BTreeMap::new();
    for (k, cell) in cube.cells().iter().filter(|(k, _)| keep(k)) {
        if cell.counts.arrived > 0 {
            let weekday = k.date.weekday().number_from_monday() as u8;
            *sums.entry((weekday, k.hour)).or_insert(0) += cell.counts.arrived;
        }
    }
    let lang = charted.lang;
    let days = dates_per_weekday(&charted);
    let hours: Vec<u8> = match (
        sums.keys().map(|(_, h)| *h).min(),
        sums.keys().map(|(_, h)| *h).max(),
    ) {
        (Some(lo), Some(hi)) => (lo..=hi).collect(),
        _ => Vec::new(),
    };
    let rows = weekdays(lang);
    let values: Vec<Vec<f64>> = rows
        .iter()
        .map(|(weekday, _)| {
            let n = f64::from(days.get(weekday).copied().unwrap_or(0).max(1));
            hours
                .iter()
                .map(|h| sums.get(&(*weekday, *h)).copied().unwrap_or(0) as f64 / n)
                .collect()
        })
        .collect();
    let row_labels: Vec<String> = rows.iter().map(|(_, name)| (*name).to_owned()).collect();
    let col_labels: Vec<String> = hours
        .iter()
        .map(|h| lang.digits().apply(&h.to_string()))
        .collect();
    let options = lang.options(("hour", "ساعت"), ("weekday", "روز هفته"));
    let title = lang.pick("Arrivals per hour", "ورود مشتریان در هر ساعت");
    Ok(svg(chart::arrivals_heat_map(
        title,
        &row_labels,
        &col_labels,
        &values,
        &options,
    )))
}

/// The share of customers called within their service's target wait, per local day, with
/// the level aimed at (`target`, default 80 %).
#[utoipa::path(get, path = "/api/v1/reports/charts/service-level.svg", tag = "reports",
    params(ChartQuery),
    responses((status = 200, content((String = "image/svg+xml"))),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`out_of_range`: a window too long, a target outside 0–100")),
    security(("bearer" = [])))]
pub(crate) async fn service_level(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<Query<ChartQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = readable(query)?;
    let target = query.target.unwrap_or(DEFAULT_TARGET);
    if !(0.0..=100.0).contains(&target) {
        return Err(out_of_range(format!(
            "target must be 0 to 100, not {target}"
        )));
    }
    let charted = charted(&state, &principal, &query, DEFAULT_PERIOD).await?;
    let cube = cube(&state, &charted).await?;
    let points: Points = cube
        .rows(
            CubeBy::Day,
            keeps(&cube, charted.window.from, query.service),
        )
        .into_iter()
        .filter_map(|r| match r.key {
            Key::Day(date) => Some((date, r.service_level_pct)),
            _ => None,
        })
        .collect();
    let lang = charted.lang;
    let options = lang.options(("day", "روز"), ("service level (%)", "سطح خدمت (٪)"));
    let title = lang.pick("Service level", "سطح خدمت");
    Ok(svg(chart::service_level(
        title,
        &points,
        Some(target),
        &options,
    )))
}

/// NPS and CSAT of the responses submitted each local day (from −100 to 100).
#[utoipa::path(get, path = "/api/v1/reports/charts/satisfaction.svg", tag = "reports",
    params(ChartQuery),
    responses((status = 200, content((String = "image/svg+xml"))),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`out_of_range`: a window too long")),
    security(("bearer" = [])))]
pub(crate) async fn satisfaction(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<Query<ChartQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = readable(query)?;
    let charted = charted(&state, &principal, &query, DEFAULT_PERIOD).await?;
    let filter = ResponseFilter {
        organization: principal.org()?,
        survey: query.survey,
        branches: Some(charted.configs.iter().map(|c| c.branch.id).collect()),
        from: charted.window.from,
        to: charted.window.to,
    };
    let (responses, surveys) = responses_of(&state, &filter).await?;
    let tz = shared_zone(&charted.configs);
    let groups = cem_survey::metrics::group(
        &responses,
        &surveys,
        cem_survey::metrics::GroupBy::Day(tz),
        state.0.settings.min_group,
    );
    let (mut nps, mut csat): (Points, Points) = (Vec::new(), Vec::new());
    for g in &groups {
        if let (cem_survey::metrics::GroupKey::Day(date), Some(scores)) = (g.key, &g.scores) {
            let summary = scores.summary();
            nps.push((date, summary.nps));
            csat.push((date, summary.csat));
        }
    }
    let lang = charted.lang;
    let series = [
        (lang.pick("NPS", "NPS").to_owned(), nps),
        (lang.pick("CSAT (%)", "رضایت CSAT (٪)").to_owned(), csat),
    ];
    let options = lang.options(("day", "روز"), ("score", "امتیاز"));
    let title = lang.pick("Satisfaction", "رضایت مشتریان");
    Ok(svg(chart::trends(
        title,
        &series,
        (-100.0, 100.0),
        &options,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_fall_in_bars_of_five_minutes_and_one_past_the_hour() {
        // 300 s, 640 s, 3580 s and two hours, in 30 s buckets.
        let bars = wait_bars(
            [(10, 1), (21, 1), (119, 1), (240, 2)].into_iter(),
            Digits::Latin,
        );
        assert_eq!(bars.len(), 13);
        assert_eq!(bars[0], ("0–5".to_owned(), 0));
        assert_eq!(bars[1], ("5–10".to_owned(), 1));
        assert_eq!(bars[2].1, 1);
        assert_eq!(bars[11], ("55–60".to_owned(), 1));
        assert_eq!(bars[12], ("60+".to_owned(), 2));
        assert!(wait_bars(std::iter::empty(), Digits::Latin).is_empty());
        assert_eq!(
            wait_bars([(0, 1)].into_iter(), Digits::Persian)[12].0,
            "۶۰+"
        );
    }

    #[test]
    fn languages_are_english_or_persian() {
        assert_eq!(Lang::of(None).unwrap(), Lang::En);
        assert_eq!(Lang::of(Some("fa")).unwrap(), Lang::Fa);
        assert!(Lang::of(Some("de")).is_err());
        assert_eq!(weekdays(Lang::Fa)[0].0, 6, "Saturday first");
    }
}
