//! Digital signage and the public information of branches over HTTP.
//!
//! - [`records`]: the administrators' layouts, playlists and news (a branch manager writes the
//!   news of their own branches).
//! - [`screens`]: the screens of a branch, and what a screen reads: itself (`/screens/me`),
//!   its content now (with an `ETag`), the files to fetch ahead, and its live stream, where
//!   every call carries its announcement in the screen's language.
//! - [`info`]: a branch's public information (address, hours, holidays, waits, news) and the
//!   best branch to go to.
//!
//! The rules are `cem-signage`'s; this module checks that records name only the caller's
//! organization (another organization's are not found), and keeps customers' personal data
//! away from screens: a screen learns display numbers, counter numbers and service names,
//! never a ticket id, a customer, a name or a contact.

pub(crate) mod info;
pub(crate) mod records;
pub(crate) mod screens;

use std::str::FromStr;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    DEVICE_TAKEN, LAYOUT_IN_USE, Language, LocalizedText, News, NewsId, OrganizationId, Priority,
    StoreError, Targets,
};
use cem_signage::SignageError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

pub use info::{
    BestBranch, BestQuery, BranchInfoRequest, BranchInfoView, HolidayView, InfoQuery, ServiceWait,
};
pub use records::{LayoutRequest, NewsRequest, PlaylistRequest};
pub use screens::{
    Board, ClockView, ManifestQuery, ScreenContent, ScreenLiveQuery, ScreenManifest, ScreenRequest,
    ScreenSummary, WaitingView,
};

/// A record refused by `cem-signage`'s rules: 422 with its code, naming the field.
fn refused(e: SignageError) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
}

/// A record refused by a rule of this layer (a target of another organization): 422 with
/// `code`.
fn unprocessable(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
}

/// A JSON body, or a problem: 422 with `code` when its shape is wrong (a field missing or of
/// the wrong type), 400 when it is not JSON at all.
fn body<T>(body: Result<Json<T>, JsonRejection>, code: &'static str) -> Result<T, ApiError> {
    match body {
        Ok(Json(body)) => Ok(body),
        Err(JsonRejection::JsonDataError(e)) => Err(unprocessable(code, e.body_text())),
        Err(e) => Err(ApiError::invalid(e.body_text())),
    }
}

/// A query string the handler could not read, as a problem document.
fn readable<T>(input: Result<T, impl std::fmt::Display>) -> Result<T, ApiError> {
    input.map_err(|e| ApiError::invalid(e.to_string()))
}

/// An id from a path: one that cannot be an id names nothing (404 with `code`).
fn parse_id<T: FromStr>(raw: &str, code: &'static str, what: &str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(code, format!("no {what} {raw}")))
}

/// A store error with the signage codes: `missing` for a record not found, 409
/// `layout_in_use` and `device_taken` for the store's own rules.
fn stored(e: StoreError, missing: &'static str) -> ApiError {
    match &e {
        StoreError::NotFound { what } => ApiError::not_found(missing, format!("no {what}")),
        StoreError::Conflict { what } if what == LAYOUT_IN_USE => ApiError::new(
            StatusCode::CONFLICT,
            "layout_in_use",
            "screens show this layout: give them another one first",
        ),
        StoreError::Conflict { what } if what == DEVICE_TAKEN => ApiError::new(
            StatusCode::CONFLICT,
            "device_taken",
            "this display device is another screen's",
        ),
        _ => e.into(),
    }
}

/// A language asked in a query string: normalized, or 400 when it cannot be a language tag.
fn language_param(raw: Option<&str>) -> Result<Option<Language>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let tag = Language::new(raw);
    let s = tag.as_str();
    let well_formed = (2..=35).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-');
    if well_formed {
        Ok(Some(tag))
    } else {
        Err(ApiError::invalid(format!(
            "language {raw:?}: a language tag such as en or fa"
        )))
    }
}

/// The translation of `text` for `language`, falling back to `fallback`, then any.
fn localized(text: &LocalizedText, language: &Language, fallback: &Language) -> String {
    text.get(language, fallback).unwrap_or_default().to_owned()
}

/// A piece of news as a screen or the public reads it, in one language.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewsView {
    /// Id.
    #[schema(value_type = String)]
    pub id: NewsId,
    /// The headline.
    pub title: String,
    /// The text (empty when there is none).
    pub body: String,
    /// `normal`, `high` or `urgent`: more urgent news comes first.
    #[schema(value_type = String, example = "urgent")]
    pub priority: Priority,
    /// Shown from this instant.
    pub publish_from: DateTime<Utc>,
    /// Shown until this instant (exclusive), when it ends.
    pub publish_until: Option<DateTime<Utc>>,
}

fn news_view(n: &News, language: &Language, fallback: &Language) -> NewsView {
    NewsView {
        id: n.id,
        title: localized(&n.title, language, fallback),
        body: localized(&n.body, language, fallback),
        priority: n.priority,
        publish_from: n.publish_from,
        publish_until: n.publish_until,
    }
}

/// Refuses targets that name a branch or a screen outside `organization`: a record would
/// show nowhere there, and naming another organization's says nothing good about it.
async fn check_targets(
    state: &AppState,
    organization: OrganizationId,
    targets: &Targets,
    code: &'static str,
) -> Result<(), ApiError> {
    match targets {
        Targets::All => Ok(()),
        Targets::Branches(branches) => {
            let ours = state.stores().org.branches(organization).await?;
            match branches.iter().find(|b| !ours.iter().any(|o| o.id == **b)) {
                Some(unknown) => Err(unprocessable(
                    code,
                    format!("targets: no branch {unknown} in the organization"),
                )),
                None => Ok(()),
            }
        }
        Targets::Screens(screens) => {
            for id in screens {
                match state.stores().signage.screen(*id).await {
                    Ok(s) if s.organization == organization => {}
                    Ok(_) | Err(StoreError::NotFound { .. }) => {
                        return Err(unprocessable(
                            code,
                            format!("targets: no screen {id} in the organization"),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_normalized_or_refused() {
        assert_eq!(
            language_param(Some(" FA-ir ")).unwrap().unwrap().as_str(),
            "fa-ir"
        );
        assert_eq!(language_param(None).unwrap(), None);
        for bad in ["", "x", "en us", "-en", "<script>"] {
            assert!(language_param(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_store_rules_keep_their_codes() {
        let conflict = |what: &str| StoreError::Conflict { what: what.into() };
        assert_eq!(stored(conflict(LAYOUT_IN_USE), "x").code(), "layout_in_use");
        assert_eq!(stored(conflict(DEVICE_TAKEN), "x").code(), "device_taken");
        assert_eq!(stored(conflict("other"), "x").code(), "conflict");
        let missing = StoreError::NotFound {
            what: "layout 1".into(),
        };
        let e = stored(missing, "layout_not_found");
        assert_eq!(
            (e.status(), e.code()),
            (StatusCode::NOT_FOUND, "layout_not_found")
        );
    }
}
