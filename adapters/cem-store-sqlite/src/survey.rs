//! [`SurveyStore`] for [`SqliteStore`]: the tables `surveys`, `survey_invitations`,
//! `survey_responses` and `survey_cases` (migration 0010).
//!
//! Reads are one statement each. Every write is one `BEGIN IMMEDIATE` transaction: it takes
//! SQLite's write lock before it reads, so its checks (the latest version, an id or token
//! taken, the cooldown, the invitation unanswered, the case's revision), its writes and its
//! messages' insert into the outbox see no other writer in between, whichever pool or process
//! the writers use. A refused write rolls back at once, releasing the lock.

use async_trait::async_trait;
use cem_core::{
    ALREADY_ANSWERED, AgentId, BranchId, COOLDOWN, Case, CaseFilter, CaseId, CaseReason,
    CaseStatus, ClassId, CounterId, Invitation, InvitationId, InvitationSource, Language,
    OrganizationId, OutboundMessage, ReplyTo, Response, ResponseFilter, ResponseId, STALE,
    ServiceId, StoreError, Survey, SurveyId, SurveyStore, TicketId, UserId, VisitRef,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};
use uuid::Uuid;

use crate::outbox::insert_messages;
use crate::{SqliteStore, backend, ceil_micros, from_micros, map_sqlx};

/// The `what` of the conflict a taken id or token gives.
const EXISTS: &str = "exists";

/// The columns of a survey version, as [`decode_survey`] reads them.
macro_rules! survey_columns {
    () => {
        "id, version, organization, name, title, questions, triggers, active, created_at"
    };
}

/// The columns of an invitation, as [`decode_invitation`] reads them.
macro_rules! invitation_columns {
    () => {
        "id, token, organization, survey, branch, source, ticket, service, counter, agent, \
         class, recipient_key, language, created_at, expires_at, answered_at"
    };
}

/// The columns of a response, as [`decode_response`] reads them.
macro_rules! response_columns {
    () => {
        "id, organization, survey, version, invitation, branch, source, ticket, service, \
         counter, agent, class, language, answers, analysis, reply_phone, reply_email, \
         reply_language, submitted_at"
    };
}

/// The columns of a case, as [`decode_case`] reads them.
macro_rules! case_columns {
    () => {
        "id, organization, branch, response, survey, reason, reason_score, status, owner, \
         deadline, escalations, root_cause, resolution, reply_phone, reply_email, \
         reply_language, created_at, updated_at, resolved_at, revision"
    };
}

fn conflict(what: impl Into<String>) -> StoreError {
    StoreError::Conflict { what: what.into() }
}

fn not_found(what: String) -> StoreError {
    StoreError::NotFound { what }
}

/// A unique key refused the insert: the id (or token) is taken.
fn map_insert(error: sqlx::Error) -> StoreError {
    match map_sqlx(error) {
        StoreError::Conflict { .. } => conflict(EXISTS),
        other => other,
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(backend)
}

fn bytes(id: &Uuid) -> &[u8] {
    id.as_bytes().as_slice()
}

/// Commits `tx` when `written` succeeded; otherwise rolls it back now, releasing the write
/// lock at once rather than when the dropped transaction is cleaned up.
async fn finish<T>(
    tx: Transaction<'static, Sqlite>,
    written: Result<T, StoreError>,
) -> Result<T, StoreError> {
    match written {
        Ok(value) => {
            tx.commit().await.map_err(map_sqlx)?;
            Ok(value)
        }
        Err(refused) => {
            // The refusal is the answer; a failed rollback closes the connection anyway.
            let _ = tx.rollback().await;
            Err(refused)
        }
    }
}

/// Reads the columns of one row by name.
struct Columns<'r>(&'r SqliteRow);

impl Columns<'_> {
    fn get<'a, T>(&'a self, column: &str) -> Result<T, StoreError>
    where
        T: sqlx::Decode<'a, Sqlite> + sqlx::Type<Sqlite>,
    {
        self.0.try_get(column).map_err(map_sqlx)
    }

    fn id(&self, column: &str) -> Result<Uuid, StoreError> {
        let raw: Vec<u8> = self.get(column)?;
        Uuid::from_slice(&raw).map_err(|e| backend(format!("corrupt {column} id: {e}")))
    }

    fn optional_id(&self, column: &str) -> Result<Option<Uuid>, StoreError> {
        let raw: Option<Vec<u8>> = self.get(column)?;
        raw.map(|b| Uuid::from_slice(&b).map_err(|e| backend(format!("corrupt {column} id: {e}"))))
            .transpose()
    }

    fn instant(&self, column: &str) -> Result<DateTime<Utc>, StoreError> {
        from_micros(self.get(column)?)
    }

    fn optional_instant(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.get::<Option<i64>>(column)?
            .map(from_micros)
            .transpose()
    }

    fn json<T: DeserializeOwned>(&self, column: &str) -> Result<T, StoreError> {
        let text: String = self.get(column)?;
        serde_json::from_str(&text).map_err(|e| backend(format!("corrupt {column}: {e}")))
    }

    fn optional_json<T: DeserializeOwned>(&self, column: &str) -> Result<Option<T>, StoreError> {
        self.get::<Option<String>>(column)?
            .map(|text| {
                serde_json::from_str(&text).map_err(|e| backend(format!("corrupt {column}: {e}")))
            })
            .transpose()
    }

    fn number<T: TryFrom<i64>>(&self, column: &str) -> Result<T, StoreError> {
        let n: i64 = self.get(column)?;
        T::try_from(n).map_err(|_| backend(format!("corrupt {column} {n}")))
    }

    fn source(&self) -> Result<InvitationSource, StoreError> {
        let name: String = self.get("source")?;
        InvitationSource::parse(&name).ok_or_else(|| backend(format!("corrupt source {name:?}")))
    }

    fn visit(&self) -> Result<VisitRef, StoreError> {
        Ok(VisitRef {
            ticket: self.optional_id("ticket")?.map(TicketId::new),
            service: self.optional_id("service")?.map(ServiceId::new),
            counter: self.optional_id("counter")?.map(CounterId::new),
            agent: self.optional_id("agent")?.map(AgentId::new),
            class: self.optional_id("class")?.map(ClassId::new),
        })
    }

    fn reply_to(&self) -> Result<Option<ReplyTo>, StoreError> {
        let language: Option<String> = self.get("reply_language")?;
        language
            .map(|language| {
                Ok(ReplyTo {
                    phone: self.get("reply_phone")?,
                    email: self.get("reply_email")?,
                    language: Language::new(language),
                })
            })
            .transpose()
    }
}

fn decode_survey(row: &SqliteRow) -> Result<Survey, StoreError> {
    let c = Columns(row);
    Ok(Survey {
        id: SurveyId::new(c.id("id")?),
        organization: OrganizationId::new(c.id("organization")?),
        version: c.number("version")?,
        name: c.get("name")?,
        title: c.json("title")?,
        questions: c.json("questions")?,
        triggers: c.json("triggers")?,
        active: c.get("active")?,
        created_at: c.instant("created_at")?,
    })
}

fn decode_invitation(row: &SqliteRow) -> Result<Invitation, StoreError> {
    let c = Columns(row);
    Ok(Invitation {
        id: InvitationId::new(c.id("id")?),
        token: c.get("token")?,
        organization: OrganizationId::new(c.id("organization")?),
        survey: SurveyId::new(c.id("survey")?),
        branch: BranchId::new(c.id("branch")?),
        source: c.source()?,
        visit: c.visit()?,
        recipient_key: c.get("recipient_key")?,
        language: Language::new(c.get::<String>("language")?),
        created_at: c.instant("created_at")?,
        expires_at: c.instant("expires_at")?,
        answered_at: c.optional_instant("answered_at")?,
    })
}

fn decode_response(row: &SqliteRow) -> Result<Response, StoreError> {
    let c = Columns(row);
    Ok(Response {
        id: ResponseId::new(c.id("id")?),
        organization: OrganizationId::new(c.id("organization")?),
        survey: SurveyId::new(c.id("survey")?),
        version: c.number("version")?,
        invitation: InvitationId::new(c.id("invitation")?),
        branch: BranchId::new(c.id("branch")?),
        source: c.source()?,
        visit: c.visit()?,
        language: Language::new(c.get::<String>("language")?),
        answers: c.json("answers")?,
        analysis: c.optional_json("analysis")?,
        reply_to: c.reply_to()?,
        submitted_at: c.instant("submitted_at")?,
    })
}

/// A reason as its kind's name and its score.
fn reason_parts(reason: CaseReason) -> (&'static str, Option<i32>) {
    match reason {
        CaseReason::Detractor(score) => ("detractor", Some(score)),
        CaseReason::LowCsat(score) => ("low_csat", Some(score)),
        CaseReason::NegativeText => ("negative_text", None),
    }
}

fn parse_reason(kind: &str, score: Option<i32>) -> Result<CaseReason, StoreError> {
    match (kind, score) {
        ("detractor", Some(score)) => Ok(CaseReason::Detractor(score)),
        ("low_csat", Some(score)) => Ok(CaseReason::LowCsat(score)),
        ("negative_text", None) => Ok(CaseReason::NegativeText),
        _ => Err(backend(format!("corrupt case reason {kind:?} {score:?}"))),
    }
}

fn decode_case(row: &SqliteRow) -> Result<Case, StoreError> {
    let c = Columns(row);
    let status: String = c.get("status")?;
    Ok(Case {
        id: CaseId::new(c.id("id")?),
        organization: OrganizationId::new(c.id("organization")?),
        branch: BranchId::new(c.id("branch")?),
        response: ResponseId::new(c.id("response")?),
        survey: SurveyId::new(c.id("survey")?),
        reason: parse_reason(&c.get::<String>("reason")?, c.get("reason_score")?)?,
        status: CaseStatus::parse(&status)
            .ok_or_else(|| backend(format!("corrupt case status {status:?}")))?,
        owner: c.optional_id("owner")?.map(UserId::new),
        deadline: c.instant("deadline")?,
        escalations: c.number("escalations")?,
        root_cause: c.get("root_cause")?,
        resolution: c.get("resolution")?,
        reply_to: c.reply_to()?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        resolved_at: c.optional_instant("resolved_at")?,
        revision: c.number("revision")?,
    })
}

fn revision(case: &Case) -> Result<i64, StoreError> {
    i64::try_from(case.revision).map_err(|_| {
        backend(format!(
            "revision {} of case {} too large",
            case.revision, case.id
        ))
    })
}

/// Binds what an update may change, from `reason` to `revision` in `case_columns!`'s order:
/// the tail of an insert's values and all of an update's after the id.
fn bind_case_changeable<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    case: &'q Case,
    revision: i64,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    let (reason, score) = reason_parts(case.reason);
    let reply = case.reply_to.as_ref();
    query
        .bind(reason)
        .bind(score)
        .bind(case.status.as_str())
        .bind(case.owner.as_ref().map(|x| bytes(&x.0)))
        .bind(case.deadline.timestamp_micros())
        .bind(i64::from(case.escalations))
        .bind(case.root_cause.as_deref())
        .bind(case.resolution.as_deref())
        .bind(reply.and_then(|r| r.phone.as_deref()))
        .bind(reply.and_then(|r| r.email.as_deref()))
        .bind(reply.map(|r| r.language.as_str()))
        .bind(case.created_at.timestamp_micros())
        .bind(case.updated_at.timestamp_micros())
        .bind(case.resolved_at.map(|t| t.timestamp_micros()))
        .bind(revision)
}

async fn put_survey_in(conn: &mut SqliteConnection, survey: &Survey) -> Result<(), StoreError> {
    let latest: Option<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT version, organization FROM surveys WHERE id = ?1 ORDER BY version DESC LIMIT 1",
    )
    .bind(bytes(&survey.id.0))
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    let ours = latest
        .as_ref()
        .is_some_and(|(_, organization)| organization == survey.organization.0.as_bytes());
    if survey.version > 1 && !ours {
        return Err(not_found(format!("survey {}", survey.id)));
    }
    let current = latest.map_or(0, |(version, _)| version);
    if current + 1 != i64::from(survey.version) {
        return Err(conflict(STALE));
    }
    sqlx::query(concat!(
        "INSERT INTO surveys (",
        survey_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))
    .bind(bytes(&survey.id.0))
    .bind(i64::from(survey.version))
    .bind(bytes(&survey.organization.0))
    .bind(&survey.name)
    .bind(to_json(&survey.title)?)
    .bind(to_json(&survey.questions)?)
    .bind(to_json(&survey.triggers)?)
    .bind(survey.active)
    .bind(survey.created_at.timestamp_micros())
    .execute(&mut *conn)
    .await
    .map_err(|e| match map_sqlx(e) {
        // Under the write lock only a bug leads here; the version is taken all the same.
        StoreError::Conflict { .. } => conflict(STALE),
        other => other,
    })?;
    Ok(())
}

async fn insert_invitation_in(
    conn: &mut SqliteConnection,
    invitation: &Invitation,
    cooldown_since: Option<DateTime<Utc>>,
    messages: &[OutboundMessage],
) -> Result<(), StoreError> {
    // Under the write lock, so these checks stay true until the commit. An invitation derived
    // again is in its own cooldown too: `exists` says what happened.
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM survey_invitations WHERE id = ?1 OR token = ?2)",
    )
    .bind(bytes(&invitation.id.0))
    .bind(&invitation.token)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    if taken {
        return Err(conflict(EXISTS));
    }
    if let (Some(since), Some(key)) = (cooldown_since, &invitation.recipient_key) {
        let in_cooldown: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM survey_invitations \
             WHERE organization = ?1 AND recipient_key = ?2 AND created_at >= ?3)",
        )
        .bind(bytes(&invitation.organization.0))
        .bind(key)
        .bind(ceil_micros(since))
        .fetch_one(&mut *conn)
        .await
        .map_err(map_sqlx)?;
        if in_cooldown {
            return Err(conflict(COOLDOWN));
        }
    }
    let visit = &invitation.visit;
    sqlx::query(concat!(
        "INSERT INTO survey_invitations (",
        invitation_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    ))
    .bind(bytes(&invitation.id.0))
    .bind(&invitation.token)
    .bind(bytes(&invitation.organization.0))
    .bind(bytes(&invitation.survey.0))
    .bind(bytes(&invitation.branch.0))
    .bind(invitation.source.as_str())
    .bind(visit.ticket.as_ref().map(|x| bytes(&x.0)))
    .bind(visit.service.as_ref().map(|x| bytes(&x.0)))
    .bind(visit.counter.as_ref().map(|x| bytes(&x.0)))
    .bind(visit.agent.as_ref().map(|x| bytes(&x.0)))
    .bind(visit.class.as_ref().map(|x| bytes(&x.0)))
    .bind(invitation.recipient_key.as_deref())
    .bind(invitation.language.as_str())
    .bind(invitation.created_at.timestamp_micros())
    .bind(invitation.expires_at.timestamp_micros())
    .bind(invitation.answered_at.map(|t| t.timestamp_micros()))
    .execute(&mut *conn)
    .await
    .map_err(map_insert)?;
    // Due at once: at the instant it was made.
    insert_messages(conn, messages, invitation.created_at.timestamp_micros())
        .await
        .map_err(map_sqlx)
}

async fn submit_in(
    conn: &mut SqliteConnection,
    response: &Response,
    case: Option<&Case>,
) -> Result<(), StoreError> {
    let submitted = response.submitted_at.timestamp_micros();
    // The row count decides: of many submissions one finds the invitation unanswered.
    let marked = sqlx::query(
        "UPDATE survey_invitations SET answered_at = ?3 \
         WHERE id = ?1 AND organization = ?2 AND answered_at IS NULL",
    )
    .bind(bytes(&response.invitation.0))
    .bind(bytes(&response.organization.0))
    .bind(submitted)
    .execute(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    if marked.rows_affected() == 0 {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM survey_invitations WHERE id = ?1 AND organization = ?2)",
        )
        .bind(bytes(&response.invitation.0))
        .bind(bytes(&response.organization.0))
        .fetch_one(&mut *conn)
        .await
        .map_err(map_sqlx)?;
        return Err(if exists {
            conflict(ALREADY_ANSWERED)
        } else {
            not_found(format!("invitation {}", response.invitation))
        });
    }
    let visit = &response.visit;
    let reply = response.reply_to.as_ref();
    sqlx::query(concat!(
        "INSERT INTO survey_responses (",
        response_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?19)"
    ))
    .bind(bytes(&response.id.0))
    .bind(bytes(&response.organization.0))
    .bind(bytes(&response.survey.0))
    .bind(i64::from(response.version))
    .bind(bytes(&response.invitation.0))
    .bind(bytes(&response.branch.0))
    .bind(response.source.as_str())
    .bind(visit.ticket.as_ref().map(|x| bytes(&x.0)))
    .bind(visit.service.as_ref().map(|x| bytes(&x.0)))
    .bind(visit.counter.as_ref().map(|x| bytes(&x.0)))
    .bind(visit.agent.as_ref().map(|x| bytes(&x.0)))
    .bind(visit.class.as_ref().map(|x| bytes(&x.0)))
    .bind(response.language.as_str())
    .bind(to_json(&response.answers)?)
    .bind(response.analysis.as_ref().map(to_json).transpose()?)
    .bind(reply.and_then(|r| r.phone.as_deref()))
    .bind(reply.and_then(|r| r.email.as_deref()))
    .bind(reply.map(|r| r.language.as_str()))
    .bind(submitted)
    .execute(&mut *conn)
    .await
    .map_err(map_insert)?;
    if let Some(case) = case {
        insert_case(conn, case).await?;
    }
    Ok(())
}

async fn insert_case(conn: &mut SqliteConnection, case: &Case) -> Result<(), StoreError> {
    let query = sqlx::query(concat!(
        "INSERT INTO survey_cases (",
        case_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?19, ?20)"
    ))
    .bind(bytes(&case.id.0))
    .bind(bytes(&case.organization.0))
    .bind(bytes(&case.branch.0))
    .bind(bytes(&case.response.0))
    .bind(bytes(&case.survey.0));
    bind_case_changeable(query, case, revision(case)?)
        .execute(&mut *conn)
        .await
        .map_err(map_insert)?;
    Ok(())
}

async fn update_case_in(
    conn: &mut SqliteConnection,
    case: &Case,
    messages: &[OutboundMessage],
) -> Result<(), StoreError> {
    let stored: Option<i64> = sqlx::query_scalar("SELECT revision FROM survey_cases WHERE id = ?1")
        .bind(bytes(&case.id.0))
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_sqlx)?;
    let Some(stored) = stored else {
        return Err(not_found(format!("case {}", case.id)));
    };
    let previous = case
        .revision
        .checked_sub(1)
        .and_then(|r| i64::try_from(r).ok());
    if previous != Some(stored) {
        return Err(conflict(STALE));
    }
    // What identifies the case (id, organization, branch, response, survey) is not written.
    let query = sqlx::query(
        "UPDATE survey_cases SET reason = ?2, reason_score = ?3, status = ?4, owner = ?5, \
         deadline = ?6, escalations = ?7, root_cause = ?8, resolution = ?9, \
         reply_phone = ?10, reply_email = ?11, reply_language = ?12, created_at = ?13, \
         updated_at = ?14, resolved_at = ?15, revision = ?16 WHERE id = ?1",
    )
    .bind(bytes(&case.id.0));
    bind_case_changeable(query, case, revision(case)?)
        .execute(&mut *conn)
        .await
        .map_err(map_sqlx)?;
    // Due at once: at the instant of the change.
    insert_messages(conn, messages, case.updated_at.timestamp_micros())
        .await
        .map_err(map_sqlx)
}

async fn erase_in(
    conn: &mut SqliteConnection,
    organization: OrganizationId,
    to: &str,
) -> Result<u64, StoreError> {
    let responses = sqlx::query(
        "UPDATE survey_responses \
         SET reply_phone = NULL, reply_email = NULL, reply_language = NULL \
         WHERE organization = ?1 AND (reply_phone = ?2 OR reply_email = ?2)",
    )
    .bind(bytes(&organization.0))
    .bind(to)
    .execute(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    // A case's revision moves on, so an update prepared before cannot write the contact back.
    let cases = sqlx::query(
        "UPDATE survey_cases \
         SET reply_phone = NULL, reply_email = NULL, reply_language = NULL, \
         revision = revision + 1 \
         WHERE organization = ?1 AND (reply_phone = ?2 OR reply_email = ?2)",
    )
    .bind(bytes(&organization.0))
    .bind(to)
    .execute(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    Ok(responses.rows_affected() + cases.rows_affected())
}

/// Appends ` AND branch IN (…)` for the branches given.
fn push_branches<'a>(query: &mut QueryBuilder<'a, Sqlite>, branches: &'a [BranchId]) {
    query.push(" AND branch IN (");
    let mut list = query.separated(", ");
    for b in branches {
        list.push_bind(bytes(&b.0));
    }
    query.push(")");
}

impl SqliteStore {
    async fn begin_immediate(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_sqlx)
    }
}

#[async_trait]
impl SurveyStore for SqliteStore {
    async fn put_survey(&self, survey: &Survey) -> Result<(), StoreError> {
        let mut tx = self.begin_immediate().await?;
        let written = put_survey_in(&mut tx, survey).await;
        finish(tx, written).await
    }

    async fn survey(&self, id: SurveyId, version: Option<u32>) -> Result<Survey, StoreError> {
        // Without a version, the highest: ?2 is NULL.
        let row = sqlx::query(concat!(
            "SELECT ",
            survey_columns!(),
            " FROM surveys WHERE id = ?1 AND (?2 IS NULL OR version = ?2) \
             ORDER BY version DESC LIMIT 1"
        ))
        .bind(bytes(&id.0))
        .bind(version.map(i64::from))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(
            || Err(not_found(format!("survey {id}"))),
            |r| decode_survey(&r),
        )
    }

    async fn surveys(&self, organization: OrganizationId) -> Result<Vec<Survey>, StoreError> {
        // Names compare by bytes (SQLite's BINARY collation), as Rust's strings do.
        let rows = sqlx::query(concat!(
            "SELECT ",
            survey_columns!(),
            " FROM surveys AS s WHERE organization = ?1 \
             AND version = (SELECT max(version) FROM surveys WHERE id = s.id) \
             ORDER BY name, id"
        ))
        .bind(bytes(&organization.0))
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        rows.iter().map(decode_survey).collect()
    }

    async fn insert_invitation(
        &self,
        invitation: &Invitation,
        cooldown_since: Option<DateTime<Utc>>,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_immediate().await?;
        let written = insert_invitation_in(&mut tx, invitation, cooldown_since, messages).await;
        finish(tx, written).await
    }

    async fn invitation(&self, token: &str) -> Result<Invitation, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM survey_invitations WHERE token = ?1"
        ))
        .bind(token)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(
            || Err(not_found("invitation with that token".to_owned())),
            |r| decode_invitation(&r),
        )
    }

    async fn submit_response(
        &self,
        response: &Response,
        case: Option<&Case>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_immediate().await?;
        let written = submit_in(&mut tx, response, case).await;
        finish(tx, written).await
    }

    async fn response(&self, id: ResponseId) -> Result<Response, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            response_columns!(),
            " FROM survey_responses WHERE id = ?1"
        ))
        .bind(bytes(&id.0))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(
            || Err(not_found(format!("response {id}"))),
            |r| decode_response(&r),
        )
    }

    async fn responses(&self, filter: &ResponseFilter) -> Result<Vec<Response>, StoreError> {
        if filter.branches.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        // Stored instants are whole microseconds: `at >= from` is `at >= ceil(from)`, and
        // likewise for `to`.
        let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(concat!(
            "SELECT ",
            response_columns!(),
            " FROM survey_responses WHERE organization = "
        ));
        query.push_bind(bytes(&filter.organization.0));
        query.push(" AND submitted_at >= ");
        query.push_bind(ceil_micros(filter.from));
        query.push(" AND submitted_at < ");
        query.push_bind(ceil_micros(filter.to));
        if let Some(survey) = &filter.survey {
            query.push(" AND survey = ");
            query.push_bind(bytes(&survey.0));
        }
        if let Some(branches) = &filter.branches {
            push_branches(&mut query, branches);
        }
        query.push(" ORDER BY submitted_at, id");
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_sqlx)?;
        rows.iter().map(decode_response).collect()
    }

    async fn invitations_made(&self, filter: &ResponseFilter) -> Result<u64, StoreError> {
        if filter.branches.as_ref().is_some_and(Vec::is_empty) {
            return Ok(0);
        }
        let mut query: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new("SELECT count(*) FROM survey_invitations WHERE organization = ");
        query.push_bind(bytes(&filter.organization.0));
        query.push(" AND created_at >= ");
        query.push_bind(ceil_micros(filter.from));
        query.push(" AND created_at < ");
        query.push_bind(ceil_micros(filter.to));
        if let Some(survey) = &filter.survey {
            query.push(" AND survey = ");
            query.push_bind(bytes(&survey.0));
        }
        if let Some(branches) = &filter.branches {
            push_branches(&mut query, branches);
        }
        let made: i64 = query
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(map_sqlx)?;
        u64::try_from(made).map_err(|_| backend(format!("negative count {made}")))
    }

    async fn update_case(
        &self,
        case: &Case,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_immediate().await?;
        let written = update_case_in(&mut tx, case, messages).await;
        finish(tx, written).await
    }

    async fn case(&self, id: CaseId) -> Result<Case, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            case_columns!(),
            " FROM survey_cases WHERE id = ?1"
        ))
        .bind(bytes(&id.0))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(|| Err(not_found(format!("case {id}"))), |r| decode_case(&r))
    }

    async fn cases(&self, filter: &CaseFilter) -> Result<Vec<Case>, StoreError> {
        if filter.branches.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(concat!(
            "SELECT ",
            case_columns!(),
            " FROM survey_cases WHERE organization = "
        ));
        query.push_bind(bytes(&filter.organization.0));
        if let Some(branches) = &filter.branches {
            push_branches(&mut query, branches);
        }
        if let Some(status) = filter.status {
            query.push(" AND status = ");
            query.push_bind(status.as_str());
        }
        if let Some(at) = filter.overdue_at {
            // A whole-microsecond deadline is at or before `at` exactly when it is at or before
            // `at` cut to the microsecond.
            query.push(" AND status <> 'resolved' AND deadline <= ");
            query.push_bind(at.timestamp_micros());
        }
        query.push(" ORDER BY created_at, id");
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_sqlx)?;
        rows.iter().map(decode_case).collect()
    }

    async fn erase_reply_to(
        &self,
        organization: OrganizationId,
        to: &str,
    ) -> Result<u64, StoreError> {
        // A blank address is nobody's.
        if to.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_immediate().await?;
        let erased = erase_in(&mut tx, organization, to).await;
        finish(tx, erased).await
    }
}
