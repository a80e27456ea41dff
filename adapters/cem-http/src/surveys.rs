//! Surveys over HTTP: the respondent's side (an invitation read and answered by its token,
//! walk-up invitations from a branch's link, QR code or kiosk), the administrators' survey
//! definitions in versions, the managers' results, and the closed loop of cases.
//!
//! The rules are `cem-survey`'s and run in its [`SurveyService`](cem_survey::SurveyService);
//! this module translates, keeps every organization's surveys and cases to itself (another
//! organization's are not found), keeps managers to their branches, and hands a resolved
//! case the follow-up message its respondent gets (`cem_notify::case_messages`).
//!
//! A respondent is never told whether their response opened a case, nor what the text
//! analysis found; managers never see the contact a respondent left, only whether there is
//! one.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use cem_core::chrono::{DateTime, TimeDelta, Utc, Weekday};
use cem_core::chrono_tz::Tz;
use cem_core::{
    Answer, BranchId, Case, CaseFilter, CaseId, CaseReason, CaseStatus, Invitation,
    InvitationSource, Language, LocalizedText, OrganizationId, Question, ReplyTo, ResponseFilter,
    ResponseId, STALE, StoreError, Survey, SurveyId, TextAnalysis, Triggers, UserId, VisitRef,
};
use cem_survey::{
    GroupBy, GroupKey, MAX_NOTE_CHARS, ServiceError, Submission, Summary, SurveyError, is_overdue,
    offered,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::record;
use crate::auth::{ApiRole, Principal};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest token looked up; the service's tokens have 32 characters.
const MAX_TOKEN_LEN: usize = 128;

/// The period results cover when the query names none.
const DEFAULT_PERIOD: TimeDelta = TimeDelta::days(30);

// ---- Errors -------------------------------------------------------------------------------

/// A refused decision: 422 for answers, definitions and notes the caller can correct, 410
/// for an expired invitation, 409 for what does not fit the records as they stand.
fn refused(e: SurveyError) -> ApiError {
    let status = match &e {
        SurveyError::InvitationExpired { .. } => StatusCode::GONE,
        SurveyError::InvalidSurvey(_)
        | SurveyError::NoteRequired { .. }
        | SurveyError::NoteTooLong { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        e if e.is_answer_error() => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::CONFLICT,
    };
    ApiError::new(status, e.code(), e.to_string())
}

/// A failed service call; `missing` is the code of a record not found.
fn failed(e: ServiceError, missing: &'static str) -> ApiError {
    match e {
        ServiceError::Refused(r) => refused(r),
        ServiceError::NotOffered { .. } => {
            ApiError::new(StatusCode::CONFLICT, "survey_not_offered", e.to_string())
        }
        ServiceError::Store(StoreError::NotFound { what }) => {
            ApiError::not_found(missing, format!("no {what}"))
        }
        ServiceError::Store(s) => s.into(),
        other => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            other.code(),
            other.to_string(),
        ),
    }
}

fn survey_not_found(id: impl std::fmt::Display) -> ApiError {
    ApiError::not_found("survey_not_found", format!("no survey {id}"))
}

fn case_not_found(id: impl std::fmt::Display) -> ApiError {
    ApiError::not_found("case_not_found", format!("no case {id}"))
}

fn invitation_not_found() -> ApiError {
    ApiError::not_found("invitation_not_found", "no invitation with this token")
}

/// A body or query string the handler could not read, as a problem document.
fn readable<T>(input: Result<T, impl std::fmt::Display>) -> Result<T, ApiError> {
    input.map_err(|e| ApiError::invalid(e.to_string()))
}

/// A language tag as a respondent sends it: normalized, and refused when it cannot be one.
fn language(tag: Language) -> Result<Language, ApiError> {
    let tag = Language::new(tag.as_str());
    let s = tag.as_str();
    let well_formed = (2..=35).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-');
    if well_formed {
        Ok(tag)
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_language",
            format!("{s:?} is not a language tag such as en or fa"),
        ))
    }
}

// ---- Scoping ------------------------------------------------------------------------------

/// A survey of the caller's organization, at its latest version or the one asked; another
/// organization's is not found.
async fn our_survey(
    state: &AppState,
    organization: OrganizationId,
    raw: &str,
    version: Option<u32>,
) -> Result<Survey, ApiError> {
    let id: SurveyId = raw.parse().map_err(|_| survey_not_found(raw))?;
    // The latest version says whose survey it is: an earlier one could only say the same.
    let latest = state
        .surveys()
        .survey(id, None)
        .await
        .map_err(|e| failed(e, "survey_not_found"))?;
    if latest.organization != organization {
        return Err(survey_not_found(id));
    }
    match version {
        None => Ok(latest),
        Some(v) => state
            .surveys()
            .survey(id, Some(v))
            .await
            .map_err(|e| failed(e, "survey_version_not_found")),
    }
}

/// A case the caller may see: of their organization (else not found) and, for a manager,
/// of one of their branches (else forbidden, as for the branch itself).
async fn our_case(state: &AppState, principal: &Principal, raw: &str) -> Result<Case, ApiError> {
    let id: CaseId = raw.parse().map_err(|_| case_not_found(raw))?;
    let case = state
        .surveys()
        .case(id)
        .await
        .map_err(|e| failed(e, "case_not_found"))?;
    if principal.organization != Some(case.organization) {
        return Err(case_not_found(id));
    }
    if !principal.reaches(case.organization, case.branch) {
        return Err(ApiError::forbidden(format!(
            "case {id} is of branch {}, which is not one of yours",
            case.branch
        )));
    }
    Ok(case)
}

/// The branches a manager's query covers: the one asked (which must be the caller's: another
/// organization's is not found, another manager's forbidden), else all of theirs; `None` for
/// an administrator who asked for none (every branch).
pub(crate) async fn branches_of(
    state: &AppState,
    principal: &Principal,
    branch: Option<BranchId>,
) -> Result<Option<Vec<BranchId>>, ApiError> {
    if let Some(branch) = branch {
        match state.find_branch_organization(branch).await? {
            Some(org) if principal.reaches(org, branch) => {}
            Some(org) if principal.organization == Some(org) => {
                return Err(ApiError::forbidden(format!(
                    "branch {branch} is not one of yours"
                )));
            }
            _ => {
                return Err(ApiError::not_found(
                    "branch_not_found",
                    format!("no branch {branch}"),
                ));
            }
        }
        return Ok(Some(vec![branch]));
    }
    Ok(match principal.role {
        ApiRole::Admin => None,
        _ => Some(principal.branches.clone()),
    })
}

// ---- The respondent's side ----------------------------------------------------------------

/// An invitation as its respondent sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    /// The token that reads and answers it.
    pub token: String,
    /// The survey.
    #[schema(value_type = String)]
    pub survey: SurveyId,
    /// The branch the feedback is about.
    #[schema(value_type = String)]
    pub branch: BranchId,
    /// How it came about: `after_service`, `link` or `kiosk`.
    #[schema(value_type = String, example = "link")]
    pub source: InvitationSource,
    /// The language to ask in.
    #[schema(value_type = String, example = "en")]
    pub language: Language,
    /// After this it can no longer be answered.
    pub expires_at: DateTime<Utc>,
}

/// The survey a respondent is shown: its title and questions as stored (every translation,
/// with skip conditions).
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyForm {
    /// Id.
    #[schema(value_type = String)]
    pub id: SurveyId,
    /// The version shown; the response names it.
    pub version: u32,
    /// Title, per language.
    #[schema(value_type = Object)]
    pub title: LocalizedText,
    /// The questions in the order asked: `key`, `prompt` per language, `kind` (`type`
    /// `nps`, `csat`, `ces`, `rating`, `single_choice`, `multiple_choice` or `free_text`,
    /// with their options or limits), `required`, and `show_if` (shown only when an
    /// earlier answer passes a test).
    #[schema(value_type = Vec<Object>)]
    pub questions: Vec<Question>,
}

/// An invitation and the survey it asks to answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationDocument {
    /// The invitation.
    pub invitation: InvitationView,
    /// The survey to show.
    pub survey: SurveyForm,
}

fn document(invitation: Invitation, survey: Survey) -> InvitationDocument {
    InvitationDocument {
        invitation: InvitationView {
            token: invitation.token,
            survey: invitation.survey,
            branch: invitation.branch,
            source: invitation.source,
            language: invitation.language,
            expires_at: invitation.expires_at,
        },
        survey: SurveyForm {
            id: survey.id,
            version: survey.version,
            title: survey.title,
            questions: survey.questions,
        },
    }
}

/// An invitation by its token, with the survey to show (its latest version).
#[utoipa::path(get, path = "/api/v1/surveys/invitations/{token}", tag = "surveys",
    params(("token" = String, Path, description = "The invitation's token")),
    responses((status = 200, body = InvitationDocument), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem, description = "`already_answered`, `survey_inactive`"),
        (status = 410, body = crate::Problem, description = "`invitation_expired`")))]
pub(crate) async fn invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<InvitationDocument>, ApiError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(invitation_not_found());
    }
    let (invitation, survey) = state
        .surveys()
        .invitation(&token)
        .await
        .map_err(|e| failed(e, "invitation_not_found"))?;
    Ok(Json(document(invitation, survey)))
}

/// Where a respondent may be contacted back about their feedback: a phone number
/// (international form) or an e-mail address, or both.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReplyToRequest {
    /// A mobile number in international form (`+4930123456`).
    #[serde(default)]
    pub phone: Option<String>,
    /// An e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// The language to write in; the response's when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
}

/// A response to an invitation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResponseRequest {
    /// The survey version the respondent was shown (the invitation document's).
    pub version: u32,
    /// The language they answered in.
    #[schema(value_type = String, example = "en")]
    pub language: Language,
    /// The answers: `{question, value}` with a score (a number), the options chosen (an
    /// array of option keys) or a text.
    #[schema(value_type = Vec<Object>)]
    pub answers: Vec<Answer>,
    /// Where they may be contacted back, when they choose to leave it.
    #[serde(default)]
    pub reply_to: Option<ReplyToRequest>,
}

/// A response taken.
#[derive(Debug, Serialize, ToSchema)]
pub struct Submitted {
    /// The response's id.
    #[schema(value_type = String)]
    pub id: ResponseId,
    /// When it was taken.
    pub submitted_at: DateTime<Utc>,
}

/// The contact a respondent left, checked like a ticket's.
fn reply_to(r: ReplyToRequest, answered_in: &Language) -> Result<ReplyTo, ApiError> {
    let clean = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let (phone, email) = (clean(r.phone), clean(r.email));
    cem_core::contact::check_reach(phone.as_deref(), email.as_deref()).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_contact",
            e.to_string(),
        )
    })?;
    Ok(ReplyTo {
        phone,
        email,
        language: match r.language {
            Some(l) => language(l)?,
            None => answered_in.clone(),
        },
    })
}

/// Answers an invitation, once: the answers are checked against the version shown (a
/// response keeps that version, even when the survey changed since). The answer says only
/// that the response was taken.
#[utoipa::path(post, path = "/api/v1/surveys/invitations/{token}/response", tag = "surveys",
    params(("token" = String, Path, description = "The invitation's token")),
    request_body = ResponseRequest,
    responses((status = 201, body = Submitted), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem, description = "`already_answered`, `survey_inactive`"),
        (status = 410, body = crate::Problem, description = "`invitation_expired`"),
        (status = 422, body = crate::Problem,
            description = "an answer error (`answer_required`, `answer_out_of_range`, …), `invalid_contact`, `unknown_version`")))]
pub(crate) async fn respond(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Result<Json<ResponseRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(invitation_not_found());
    }
    let Json(body) = readable(body)?;
    let answered_in = language(body.language)?;
    let reply_to = body
        .reply_to
        .map(|r| reply_to(r, &answered_in))
        .transpose()?;
    let submission = Submission {
        version: body.version,
        language: answered_in,
        answers: body.answers,
        reply_to,
    };
    let version = submission.version;
    let taken = state
        .surveys()
        .submit(
            &token,
            submission,
            ResponseId::new(uuid::Uuid::new_v4()),
            CaseId::new(uuid::Uuid::new_v4()),
        )
        .await;
    match taken {
        Ok((response, _case)) => Ok((
            StatusCode::CREATED,
            Json(Submitted {
                id: response.id,
                submitted_at: response.submitted_at,
            }),
        )),
        // The invitation exists: what is missing is the version.
        Err(ServiceError::Store(StoreError::NotFound { .. })) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_version",
            format!("the survey has no version {version}"),
        )),
        Err(e) => Err(failed(e, "invitation_not_found")),
    }
}

/// How a walk-up invitation comes about.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WalkUpSource {
    /// The branch's survey link or QR code.
    Link,
    /// A kiosk or tablet that opens one for each respondent in turn.
    Kiosk,
}

/// A walk-up invitation asked for.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OpenRequest {
    /// `link` or `kiosk`: the survey must be offered that way.
    pub source: WalkUpSource,
    /// The language to ask in; the organization's default when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
}

/// Opens an invitation for a walk-up respondent at a branch: from the branch's survey link or
/// QR code, or on a kiosk or tablet, which opens a fresh one for each respondent. The answer
/// is the invitation document, with the token to answer it by (valid for two hours).
#[utoipa::path(post, path = "/api/v1/branches/{branch}/surveys/{survey}/invitations", tag = "surveys",
    params(("branch" = String, Path), ("survey" = String, Path)),
    request_body = OpenRequest,
    responses((status = 201, body = InvitationDocument), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem, description = "`survey_not_offered`")),
    security((), ("bearer" = [])))]
pub(crate) async fn open(
    State(state): State<AppState>,
    Path((branch, raw)): Path<(BranchId, String)>,
    body: Result<Json<OpenRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<InvitationDocument>), ApiError> {
    let Json(body) = readable(body)?;
    let organization = branch_organization(&state, branch).await?;
    let survey = our_survey(&state, organization, &raw, None).await?;
    let language = match body.language {
        Some(l) => language(l)?,
        None => {
            state
                .stores()
                .org
                .organization(organization)
                .await?
                .default_language
        }
    };
    let source = match body.source {
        WalkUpSource::Link => InvitationSource::Link,
        WalkUpSource::Kiosk => InvitationSource::Kiosk,
    };
    let (invitation, survey) = state
        .surveys()
        .open(survey.id, branch, source, language)
        .await
        .map_err(|e| failed(e, "survey_not_found"))?;
    Ok((StatusCode::CREATED, Json(document(invitation, survey))))
}

/// The organization of a branch the route layer has let through.
async fn branch_organization(
    state: &AppState,
    branch: BranchId,
) -> Result<OrganizationId, ApiError> {
    state
        .find_branch_organization(branch)
        .await?
        .ok_or_else(|| ApiError::not_found("branch_not_found", format!("no branch {branch}")))
}

/// The QR code of a branch's survey link (`image/svg+xml`), for a poster or a receipt: it
/// holds the walk-up page `<public_url>/survey/<branch>/<survey>`, which opens an invitation
/// for each respondent.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/surveys/{survey}/qr.svg", tag = "surveys",
    params(("branch" = String, Path), ("survey" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String),
        (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem, description = "`survey_not_offered`")))]
pub(crate) async fn qr(
    State(state): State<AppState>,
    Path((branch, raw)): Path<(BranchId, String)>,
) -> Result<Response, ApiError> {
    let organization = branch_organization(&state, branch).await?;
    let survey = our_survey(&state, organization, &raw, None).await?;
    if !offered(&survey, InvitationSource::Link) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "survey_not_offered",
            format!("survey {} is not offered by link", survey.id),
        ));
    }
    let link = format!(
        "{}/survey/{branch}/{}",
        state.0.settings.public_url.trim_end_matches('/'),
        survey.id
    );
    let qr = qrcode::QrCode::new(link.as_bytes()).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "qr_failed",
            e.to_string(),
        )
    })?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build();
    Ok(([(CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

// ---- Definitions --------------------------------------------------------------------------

/// A survey definition as an administrator writes it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SurveyDefinition {
    /// Name shown to managers.
    pub name: String,
    /// Title shown to respondents, per language (`{"en": "How was your visit?"}`).
    #[schema(value_type = Object)]
    pub title: LocalizedText,
    /// The questions in the order asked (see the invitation document's `questions`).
    #[schema(value_type = Vec<Object>)]
    pub questions: Vec<Question>,
    /// When and to whom it is offered: `after_service` (a rule: branches, services, classes,
    /// `sample_rate`, `cooldown_days`, `valid_hours`), `link`, `kiosk`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub triggers: Triggers,
    /// Whether it invites and takes responses (default true).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl SurveyDefinition {
    /// The survey record; the service sets its version and instant.
    fn survey(self, id: SurveyId, organization: OrganizationId, now: DateTime<Utc>) -> Survey {
        Survey {
            id,
            organization,
            version: 1,
            name: self.name,
            title: self.title,
            questions: self.questions,
            triggers: self.triggers,
            active: self.active,
            created_at: now,
        }
    }
}

/// A change of a survey: its whole new definition and the version it was made from.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SurveyChange {
    /// The version the change was made from: the latest, or the change is refused (409).
    pub expected_version: u32,
    /// The new definition.
    #[serde(flatten)]
    pub definition: SurveyDefinition,
}

/// A definition the handler could not read: 422 naming the field when its shape is wrong.
fn definition<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    match body {
        Ok(Json(body)) => Ok(body),
        Err(JsonRejection::JsonDataError(e)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_survey",
            e.body_text(),
        )),
        Err(e) => Err(ApiError::invalid(e.body_text())),
    }
}

/// Refuses a survey whose after-service rule names a branch that is not the organization's:
/// it would never invite anyone there, and naming other organizations' branches says nothing
/// good about the definition.
async fn check_branches(
    state: &AppState,
    organization: OrganizationId,
    survey: &Survey,
) -> Result<(), ApiError> {
    let Some(rule) = &survey.triggers.after_service else {
        return Ok(());
    };
    if rule.branches.is_empty() {
        return Ok(());
    }
    let ours = state.stores().org.branches(organization).await?;
    match rule
        .branches
        .iter()
        .find(|b| !ours.iter().any(|o| o.id == **b))
    {
        Some(unknown) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_survey",
            format!("triggers.after_service.branches: no branch {unknown} in the organization"),
        )),
        None => Ok(()),
    }
}

/// The latest version of each survey of the organization, by name.
#[utoipa::path(get, path = "/api/v1/surveys", tag = "surveys",
    responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<Survey>>, ApiError> {
    Ok(Json(
        state
            .surveys()
            .surveys(principal.org()?)
            .await
            .map_err(|e| failed(e, "survey_not_found"))?,
    ))
}

/// Creates a survey (version 1) from its definition; its id is made here.
#[utoipa::path(post, path = "/api/v1/surveys", tag = "surveys",
    request_body = SurveyDefinition,
    responses((status = 201, body = Object), (status = 400, body = crate::Problem),
        (status = 422, body = crate::Problem, description = "`invalid_survey`, naming the field")),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Result<Json<SurveyDefinition>, JsonRejection>,
) -> Result<(StatusCode, Json<Survey>), ApiError> {
    let body = definition(body)?;
    let survey = body.survey(
        SurveyId::new(uuid::Uuid::new_v4()),
        principal.org()?,
        state.now(),
    );
    check_branches(&state, survey.organization, &survey).await?;
    let survey = state
        .surveys()
        .create(survey)
        .await
        .map_err(|e| failed(e, "survey_not_found"))?;
    record(
        &state,
        &principal,
        "survey.create",
        &survey.id.to_string(),
        &survey,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(survey)))
}

/// Which version of a survey.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A version; the latest when absent.
    pub version: Option<u32>,
}

/// A survey at its latest version or the one asked.
#[utoipa::path(get, path = "/api/v1/surveys/{survey}", tag = "surveys",
    params(("survey" = String, Path), VersionQuery),
    responses((status = 200, body = Object), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
    query: Result<Query<VersionQuery>, QueryRejection>,
) -> Result<Json<Survey>, ApiError> {
    let Query(query) = readable(query)?;
    Ok(Json(
        our_survey(&state, principal.org()?, &raw, query.version).await?,
    ))
}

/// Changes a survey: the definition is stored as the next version, and responses keep the
/// version they answered. A question keeps its kind across versions.
#[utoipa::path(put, path = "/api/v1/surveys/{survey}", tag = "surveys",
    params(("survey" = String, Path)), request_body = SurveyChange,
    responses((status = 200, body = Object), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem, description = "`stale_version`: another change came first"),
        (status = 422, body = crate::Problem, description = "`invalid_survey`, naming the field")),
    security(("bearer" = [])))]
pub(crate) async fn change(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
    body: Result<Json<SurveyChange>, JsonRejection>,
) -> Result<Json<Survey>, ApiError> {
    let body = definition(body)?;
    let organization = principal.org()?;
    let previous = our_survey(&state, organization, &raw, None).await?;
    let expected = body.expected_version;
    let changed = body
        .definition
        .survey(previous.id, organization, state.now());
    check_branches(&state, organization, &changed).await?;
    let survey = match state.surveys().change(previous.id, expected, changed).await {
        Ok(survey) => survey,
        Err(ServiceError::Store(StoreError::Conflict { what })) if what == STALE => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "stale_version",
                format!(
                    "version {expected} of survey {} is not the latest; read it again and retry",
                    previous.id
                ),
            ));
        }
        Err(e) => return Err(failed(e, "survey_not_found")),
    };
    record(
        &state,
        &principal,
        "survey.change",
        &survey.id.to_string(),
        &survey,
    )
    .await?;
    Ok(Json(survey))
}

// ---- Results ------------------------------------------------------------------------------

/// Which responses to report and how to group them.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// Only this survey's responses.
    #[param(value_type = Option<String>)]
    pub survey: Option<SurveyId>,
    /// Submitted at or after this instant (RFC 3339); 30 days before `to` when absent.
    pub from: Option<DateTime<Utc>>,
    /// Submitted before this instant (RFC 3339); everything so far when absent.
    pub to: Option<DateTime<Utc>>,
    /// `all` (default), `branch`, `service`, `counter`, `agent`, `survey`, `day`, `week`
    /// (from Monday) or `month`; periods in the time zone of `branch`, else UTC.
    pub by: Option<String>,
    /// Only this branch's responses (a manager's own; theirs all when absent).
    #[param(value_type = Option<String>)]
    pub branch: Option<BranchId>,
    /// `json` (default) or `csv`: one row per group.
    pub format: Option<String>,
}

/// One group of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    /// What the group's responses share: a branch, service, counter, agent or survey id, a
    /// local date (`2026-11-30`; a week's Monday, a month's first day), or `all`; `null` for
    /// responses without one (a walk-up response has no agent).
    pub key: Option<String>,
    /// Whether the figures are hidden: a person's group (agent, counter) with fewer responses
    /// than the minimum group size.
    pub suppressed: bool,
    /// The figures (responses, NPS, CSAT, CES, sentiment, tags); `null` when suppressed.
    #[schema(value_type = Option<Object>)]
    pub figures: Option<Summary>,
}

/// Survey results over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyResults {
    /// Start of the period.
    pub from: DateTime<Utc>,
    /// End of the period (excluded).
    pub to: DateTime<Utc>,
    /// What the groups are by.
    pub by: String,
    /// Every response of the selection together.
    #[schema(value_type = Object)]
    pub overall: Summary,
    /// Invitations made in the period, of the survey and branches selected.
    pub invitations: u64,
    /// Responses over invitations, in percent; `null` without invitations.
    pub response_rate: Option<f64>,
    /// The groups, by key.
    pub groups: Vec<GroupView>,
}

fn group_by(by: &str, tz: Tz) -> Option<GroupBy> {
    Some(match by {
        "all" => GroupBy::All,
        "branch" => GroupBy::Branch,
        "service" => GroupBy::Service,
        "counter" => GroupBy::Counter,
        "agent" => GroupBy::Agent,
        "survey" => GroupBy::Survey,
        "day" => GroupBy::Day(tz),
        "week" => GroupBy::Week(tz, Weekday::Mon),
        "month" => GroupBy::Month(tz),
        _ => return None,
    })
}

fn key_text(key: &GroupKey) -> Option<String> {
    match key {
        GroupKey::All => Some("all".to_owned()),
        GroupKey::Branch(b) => Some(b.to_string()),
        GroupKey::Service(s) => s.map(|s| s.to_string()),
        GroupKey::Counter(c) => c.map(|c| c.to_string()),
        GroupKey::Agent(a) => a.map(|a| a.to_string()),
        GroupKey::Survey(s) => Some(s.to_string()),
        GroupKey::Day(d) | GroupKey::Week(d) | GroupKey::Month(d) => Some(d.to_string()),
    }
}

/// The results of the organization's responses (a manager's: of their branches), grouped,
/// with the groups of people (agents, counters) smaller than the minimum group size hidden.
/// With `format=csv`, a `text/csv` table: `key,responses,nps,csat,ces_mean,ces_ease,
/// sentiment,suppressed`, a hidden group's figure cells empty.
#[utoipa::path(get, path = "/api/v1/surveys/results", tag = "surveys",
    params(ResultsQuery),
    responses((status = 200, content((SurveyResults = "application/json"), (String = "text/csv"))),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn results(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<Query<ResultsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = readable(query)?;
    let organization = principal.org()?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "format {other:?}: `json` or `csv`"
            )));
        }
    };
    // Everything submitted so far: the store's `to` is excluded.
    let to = query
        .to
        .unwrap_or_else(|| state.now() + TimeDelta::seconds(1));
    let from = query.from.unwrap_or(to - DEFAULT_PERIOD);
    if from >= to {
        return Err(ApiError::invalid("`from` must be before `to`"));
    }
    let branches = branches_of(&state, &principal, query.branch).await?;
    let tz = match query.branch {
        Some(b) => state.stores().org.branch(b).await?.time_zone,
        None => Tz::UTC,
    };
    let by_name = query.by.unwrap_or_else(|| "all".to_owned());
    let by = group_by(&by_name, tz).ok_or_else(|| {
        ApiError::invalid(format!(
            "by {by_name:?}: all, branch, service, counter, agent, survey, day, week or month"
        ))
    })?;
    if let Some(survey) = query.survey {
        our_survey(&state, organization, &survey.to_string(), None).await?;
    }
    let filter = ResponseFilter {
        organization,
        survey: query.survey,
        branches,
        from,
        to,
    };
    let results = state
        .surveys()
        .results(&filter, by, state.0.settings.min_group)
        .await
        .map_err(|e| failed(e, "survey_not_found"))?;
    let groups: Vec<GroupView> = results
        .groups
        .into_iter()
        .map(|g| GroupView {
            key: key_text(&g.key),
            suppressed: g.suppressed,
            figures: g.scores.map(|s| s.summary()),
        })
        .collect();
    if csv {
        return Ok((
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    CONTENT_DISPOSITION,
                    "attachment; filename=\"survey-results.csv\"",
                ),
            ],
            csv_table(&groups),
        )
            .into_response());
    }
    Ok(Json(SurveyResults {
        from,
        to,
        by: by_name,
        overall: results.overall,
        invitations: results.invitations,
        response_rate: results.response_rate,
        groups,
    })
    .into_response())
}

/// The groups as CSV (RFC 4180), figures rounded to two decimals.
fn csv_table(groups: &[GroupView]) -> String {
    let mut out = String::from("key,responses,nps,csat,ces_mean,ces_ease,sentiment,suppressed\r\n");
    let number = |v: Option<f64>| {
        v.map(|x| ((x * 100.0).round() / 100.0).to_string())
            .unwrap_or_default()
    };
    for g in groups {
        let f = g.figures.as_ref();
        let cells = [
            field(g.key.as_deref().unwrap_or_default()),
            f.map(|f| f.responses.to_string()).unwrap_or_default(),
            number(f.and_then(|f| f.nps)),
            number(f.and_then(|f| f.csat)),
            number(f.and_then(|f| f.ces.map(|c| c.mean))),
            number(f.and_then(|f| f.ces_ease)),
            number(f.and_then(|f| f.sentiment)),
            g.suppressed.to_string(),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A CSV cell, quoted when it must be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

// ---- Cases --------------------------------------------------------------------------------

/// A case as managers see it: the respondent's contact is never shown, only whether there
/// is one to send the follow-up to.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    /// Id.
    #[schema(value_type = String)]
    pub id: CaseId,
    /// The branch, whose managers own it.
    #[schema(value_type = String)]
    pub branch: BranchId,
    /// The survey answered.
    #[schema(value_type = String)]
    pub survey: SurveyId,
    /// The response that opened it.
    #[schema(value_type = String)]
    pub response: ResponseId,
    /// Why it was opened: `{"kind": "detractor", "score": 3}`, `{"kind": "low_csat",
    /// "score": 1}` or `{"kind": "negative_text"}`.
    #[schema(value_type = Object)]
    pub reason: CaseReason,
    /// `open`, `in_progress` or `resolved`.
    #[schema(value_type = String, example = "open")]
    pub status: CaseStatus,
    /// The user working on it.
    #[schema(value_type = Option<String>)]
    pub owner: Option<UserId>,
    /// When it should be resolved.
    pub deadline: DateTime<Utc>,
    /// Whether it is unresolved past its deadline.
    pub overdue: bool,
    /// How many times it escalated.
    pub escalations: u32,
    /// The root cause found.
    pub root_cause: Option<String>,
    /// What was done.
    pub resolution: Option<String>,
    /// Whether the respondent left a contact for the follow-up.
    pub has_reply_to: bool,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Revision, one more on every change.
    pub revision: u64,
}

fn case_view(c: &Case, now: DateTime<Utc>) -> CaseView {
    CaseView {
        id: c.id,
        branch: c.branch,
        survey: c.survey,
        response: c.response,
        reason: c.reason,
        status: c.status,
        owner: c.owner,
        deadline: c.deadline,
        overdue: is_overdue(c, now),
        escalations: c.escalations,
        root_cause: c.root_cause.clone(),
        resolution: c.resolution.clone(),
        has_reply_to: c.reply_to.is_some(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        resolved_at: c.resolved_at,
        revision: c.revision,
    }
}

/// The response behind a case, without the respondent's contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseResponse {
    /// Id.
    #[schema(value_type = String)]
    pub id: ResponseId,
    /// The survey version answered.
    pub version: u32,
    /// How the invitation came about.
    #[schema(value_type = String, example = "link")]
    pub source: InvitationSource,
    /// The visit: ticket, service, counter, agent and class, where known.
    #[schema(value_type = Object)]
    pub visit: VisitRef,
    /// The language answered in.
    #[schema(value_type = String)]
    pub language: Language,
    /// The answers, in question order.
    #[schema(value_type = Vec<Object>)]
    pub answers: Vec<Answer>,
    /// What text analytics found in the free text: language, sentiment score and label,
    /// topic tags.
    #[schema(value_type = Option<Object>)]
    pub analysis: Option<TextAnalysis>,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
}

/// A case with the response that opened it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    /// The case.
    pub case: CaseView,
    /// Its response.
    pub response: CaseResponse,
}

/// Which cases to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CasesQuery {
    /// `open`, `in_progress` or `resolved`.
    pub status: Option<String>,
    /// Only this branch's (a manager's own; theirs all when absent).
    #[param(value_type = Option<String>)]
    pub branch: Option<BranchId>,
    /// Only unresolved cases past their deadline.
    pub overdue: Option<bool>,
}

/// The organization's cases (a manager's: of their branches), oldest first.
#[utoipa::path(get, path = "/api/v1/cases", tag = "surveys",
    params(CasesQuery),
    responses((status = 200, body = [CaseView]), (status = 400, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn cases(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<Query<CasesQuery>, QueryRejection>,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    let Query(query) = readable(query)?;
    let status = query
        .status
        .as_deref()
        .map(|s| {
            CaseStatus::parse(s).ok_or_else(|| {
                ApiError::invalid(format!("status {s:?}: open, in_progress or resolved"))
            })
        })
        .transpose()?;
    let now = state.now();
    let filter = CaseFilter {
        organization: principal.org()?,
        branches: branches_of(&state, &principal, query.branch).await?,
        status,
        overdue_at: query.overdue.unwrap_or(false).then_some(now),
    };
    let cases = state
        .surveys()
        .cases(&filter)
        .await
        .map_err(|e| failed(e, "case_not_found"))?;
    Ok(Json(cases.iter().map(|c| case_view(c, now)).collect()))
}

/// A case with its response's answers and analysis.
#[utoipa::path(get, path = "/api/v1/cases/{case}", tag = "surveys",
    params(("case" = String, Path)),
    responses((status = 200, body = CaseDetail), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn case(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    let case = our_case(&state, &principal, &raw).await?;
    let r = state
        .surveys()
        .response(case.response)
        .await
        .map_err(|e| failed(e, "response_not_found"))?;
    Ok(Json(CaseDetail {
        case: case_view(&case, state.now()),
        response: CaseResponse {
            id: r.id,
            version: r.version,
            source: r.source,
            visit: r.visit,
            language: r.language,
            answers: r.answers,
            analysis: r.analysis,
            submitted_at: r.submitted_at,
        },
    }))
}

/// Takes a case: the caller works on it (a case taken by someone else is reassigned).
#[utoipa::path(post, path = "/api/v1/cases/{case}/take", tag = "surveys",
    params(("case" = String, Path)),
    responses((status = 200, body = CaseView), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem, description = "`case_resolved`")),
    security(("bearer" = [])))]
pub(crate) async fn take(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let case = our_case(&state, &principal, &raw).await?;
    let owner = principal
        .user
        .ok_or_else(|| ApiError::forbidden("only a user takes a case"))?;
    let case = state
        .surveys()
        .take(case.id, owner)
        .await
        .map_err(|e| failed(e, "case_not_found"))?;
    let view = case_view(&case, state.now());
    record(&state, &principal, "case.take", &case.id.to_string(), &view).await?;
    Ok(Json(view))
}

/// How a case was resolved.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResolveRequest {
    /// The root cause found (required).
    #[serde(default)]
    pub root_cause: String,
    /// What was done (required).
    #[serde(default)]
    pub resolution: String,
    /// What to tell the respondent, when they left a contact: sent in their language with
    /// the branch's name. Nothing is sent when absent or empty.
    #[serde(default)]
    pub reply: Option<String>,
}

/// Resolves a case with its root cause and resolution; with a `reply`, the respondent who
/// left a contact is sent it, written with the case.
#[utoipa::path(post, path = "/api/v1/cases/{case}/resolve", tag = "surveys",
    params(("case" = String, Path)), request_body = ResolveRequest,
    responses((status = 200, body = CaseView), (status = 400, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem, description = "`case_resolved`"),
        (status = 422, body = crate::Problem, description = "`note_required`, `note_too_long`")),
    security(("bearer" = [])))]
pub(crate) async fn resolve(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
    body: Result<Json<ResolveRequest>, JsonRejection>,
) -> Result<Json<CaseView>, ApiError> {
    let Json(body) = readable(body)?;
    let case = our_case(&state, &principal, &raw).await?;
    let reply = body
        .reply
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if let Some(r) = &reply {
        let chars = r.chars().count();
        if chars > MAX_NOTE_CHARS {
            return Err(refused(SurveyError::NoteTooLong {
                field: "reply",
                chars,
                max: MAX_NOTE_CHARS,
            }));
        }
    }
    let branch = state.stores().org.branch(case.branch).await?.name;
    let follow_up = move |c: &Case| match &reply {
        Some(text) => cem_notify::case_messages(c, &branch, text).unwrap_or_else(|e| {
            tracing::error!(error = %e, case = %c.id, "cannot write a case's follow-up");
            Vec::new()
        }),
        None => Vec::new(),
    };
    let case = state
        .surveys()
        .resolve(case.id, body.root_cause, body.resolution, &follow_up)
        .await
        .map_err(|e| failed(e, "case_not_found"))?;
    let view = case_view(&case, state.now());
    record(
        &state,
        &principal,
        "case.resolve",
        &case.id.to_string(),
        &view,
    )
    .await?;
    Ok(Json(view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_it_must() {
        assert_eq!(field("2026-11-30"), "2026-11-30");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn a_hidden_group_has_empty_figure_cells() {
        let table = csv_table(&[GroupView {
            key: None,
            suppressed: true,
            figures: None,
        }]);
        assert_eq!(
            table,
            "key,responses,nps,csat,ces_mean,ces_ease,sentiment,suppressed\r\n,,,,,,,true\r\n"
        );
    }

    #[test]
    fn language_tags_are_normalized_or_refused() {
        assert_eq!(
            language(Language::new(" FA-ir ")).unwrap().as_str(),
            "fa-ir"
        );
        for bad in ["", "x", "en us", "-en", "<script>"] {
            assert!(language(Language::new(bad)).is_err(), "{bad:?}");
        }
    }
}
