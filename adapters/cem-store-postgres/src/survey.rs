//! [`SurveyStore`] for [`PgStore`]: the tables `cem_surveys`, `cem_survey_invitations`,
//! `cem_survey_responses` and `cem_survey_cases` (migration 0010).
//!
//! Reads are one statement each; every write is one transaction at PostgreSQL's default READ
//! COMMITTED, whose races are closed as follows:
//! - a survey version: the primary key `(id, version)` lets one of the writers of a version
//!   in; the others are `stale`;
//! - an invitation with a recipient key first takes the key's transaction-scoped advisory lock
//!   ([`lock_recipient`]): passes inviting one customer take turns, each checking the
//!   cooldown, in a statement after the lock (a fresh snapshot), against the invitations of
//!   every pass before it, which committed before releasing the lock;
//! - a response marks its invitation answered with a conditional UPDATE: concurrent
//!   submissions queue on the row's lock and re-check `answered_at IS NULL` once the first
//!   commits, so exactly one updates a row;
//! - a case update locks the case's row (`FOR UPDATE`) before it compares the revision.
//!
//! Messages are inserted in the same transaction, by the statement `enqueue` uses.

use async_trait::async_trait;
use cem_core::{
    ALREADY_ANSWERED, AgentId, BranchId, COOLDOWN, Case, CaseFilter, CaseId, CaseReason,
    CaseStatus, ClassId, CounterId, Invitation, InvitationId, InvitationSource, Language,
    OrganizationId, OutboundMessage, ReplyTo, Response, ResponseFilter, ResponseId, STALE,
    ServiceId, StoreError, Survey, SurveyId, SurveyStore, TicketId, UserId, VisitRef,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, Row, Transaction};
use uuid::Uuid;

use crate::PgStore;
use crate::error::map_sqlx;
use crate::outbox::insert_messages;

/// The `what` of the conflict a taken id or token gives.
const EXISTS: &str = "exists";

/// The first key of the recipients' advisory locks: b"CEMS" read as a big-endian integer,
/// beside the slots' b"CEMR" in the two-key lock space.
const RECIPIENT_LOCK_SPACE: i32 = 1_128_615_251;

/// The columns of a survey version, as [`decode_survey`] reads them (a literal, so `concat!`
/// can use it).
macro_rules! survey_columns {
    () => {
        "id, version, organization, name, title::text AS title, questions::text AS questions, \
         triggers::text AS triggers, active, created_at"
    };
}

/// The columns of an invitation, as [`decode_invitation`] reads them and the insert writes
/// them.
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
         counter, agent, class, language, answers::text AS answers, \
         analysis::text AS analysis, reply_phone, reply_email, reply_language, submitted_at"
    };
}

/// The columns of a case, as [`decode_case`] reads them and the insert writes them.
macro_rules! case_columns {
    () => {
        "id, organization, branch, response, survey, reason, reason_score, status, owner, \
         deadline, escalations, root_cause, resolution, reply_phone, reply_email, \
         reply_language, created_at, updated_at, resolved_at, revision"
    };
}

fn backend(message: impl ToString) -> StoreError {
    StoreError::Backend {
        message: message.to_string(),
    }
}

fn conflict(what: impl Into<String>) -> StoreError {
    StoreError::Conflict { what: what.into() }
}

fn not_found(what: String) -> StoreError {
    StoreError::NotFound { what }
}

/// A unique key refused the insert: the id (or token) is taken, and says `what`.
fn map_unique(error: sqlx::Error, what: &str) -> StoreError {
    match map_sqlx(error) {
        StoreError::Conflict { .. } => conflict(what),
        other => other,
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(backend)
}

/// `at` cut to the microsecond, as every store keeps it (sqlx alone would round instants
/// before 2000 toward that year).
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// The smallest whole microsecond at or after `at`: a stored instant is at or after `at`
/// exactly when it is at or after this one.
fn ceil_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    let floor = micros(at);
    if floor == at {
        floor
    } else {
        floor + TimeDelta::microseconds(1)
    }
}

/// Commits `tx` when `written` succeeded; otherwise rolls it back now.
async fn finish<T>(
    tx: Transaction<'static, Postgres>,
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
struct Columns<'r>(&'r PgRow);

impl Columns<'_> {
    fn get<'a, T>(&'a self, column: &str) -> Result<T, StoreError>
    where
        T: sqlx::Decode<'a, Postgres> + sqlx::Type<Postgres>,
    {
        self.0.try_get(column).map_err(map_sqlx)
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
            ticket: self.get::<Option<Uuid>>("ticket")?.map(TicketId::new),
            service: self.get::<Option<Uuid>>("service")?.map(ServiceId::new),
            counter: self.get::<Option<Uuid>>("counter")?.map(CounterId::new),
            agent: self.get::<Option<Uuid>>("agent")?.map(AgentId::new),
            class: self.get::<Option<Uuid>>("class")?.map(ClassId::new),
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

fn decode_survey(row: &PgRow) -> Result<Survey, StoreError> {
    let c = Columns(row);
    Ok(Survey {
        id: SurveyId::new(c.get("id")?),
        organization: OrganizationId::new(c.get("organization")?),
        version: c.number("version")?,
        name: c.get("name")?,
        title: c.json("title")?,
        questions: c.json("questions")?,
        triggers: c.json("triggers")?,
        active: c.get("active")?,
        created_at: c.get("created_at")?,
    })
}

fn decode_invitation(row: &PgRow) -> Result<Invitation, StoreError> {
    let c = Columns(row);
    Ok(Invitation {
        id: InvitationId::new(c.get("id")?),
        token: c.get("token")?,
        organization: OrganizationId::new(c.get("organization")?),
        survey: SurveyId::new(c.get("survey")?),
        branch: BranchId::new(c.get("branch")?),
        source: c.source()?,
        visit: c.visit()?,
        recipient_key: c.get("recipient_key")?,
        language: Language::new(c.get::<String>("language")?),
        created_at: c.get("created_at")?,
        expires_at: c.get("expires_at")?,
        answered_at: c.get("answered_at")?,
    })
}

fn decode_response(row: &PgRow) -> Result<Response, StoreError> {
    let c = Columns(row);
    Ok(Response {
        id: ResponseId::new(c.get("id")?),
        organization: OrganizationId::new(c.get("organization")?),
        survey: SurveyId::new(c.get("survey")?),
        version: c.number("version")?,
        invitation: InvitationId::new(c.get("invitation")?),
        branch: BranchId::new(c.get("branch")?),
        source: c.source()?,
        visit: c.visit()?,
        language: Language::new(c.get::<String>("language")?),
        answers: c.json("answers")?,
        analysis: c.optional_json("analysis")?,
        reply_to: c.reply_to()?,
        submitted_at: c.get("submitted_at")?,
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

fn decode_case(row: &PgRow) -> Result<Case, StoreError> {
    let c = Columns(row);
    let status: String = c.get("status")?;
    Ok(Case {
        id: CaseId::new(c.get("id")?),
        organization: OrganizationId::new(c.get("organization")?),
        branch: BranchId::new(c.get("branch")?),
        response: ResponseId::new(c.get("response")?),
        survey: SurveyId::new(c.get("survey")?),
        reason: parse_reason(&c.get::<String>("reason")?, c.get("reason_score")?)?,
        status: CaseStatus::parse(&status)
            .ok_or_else(|| backend(format!("corrupt case status {status:?}")))?,
        owner: c.get::<Option<Uuid>>("owner")?.map(UserId::new),
        deadline: c.get("deadline")?,
        escalations: c.number("escalations")?,
        root_cause: c.get("root_cause")?,
        resolution: c.get("resolution")?,
        reply_to: c.reply_to()?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
        resolved_at: c.get("resolved_at")?,
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
    query: Query<'q, Postgres, PgArguments>,
    case: &'q Case,
    revision: i64,
) -> Query<'q, Postgres, PgArguments> {
    let (reason, score) = reason_parts(case.reason);
    let reply = case.reply_to.as_ref();
    query
        .bind(reason)
        .bind(score)
        .bind(case.status.as_str())
        .bind(case.owner.map(|x| x.0))
        .bind(micros(case.deadline))
        .bind(i64::from(case.escalations))
        .bind(case.root_cause.as_deref())
        .bind(case.resolution.as_deref())
        .bind(reply.and_then(|r| r.phone.as_deref()))
        .bind(reply.and_then(|r| r.email.as_deref()))
        .bind(reply.map(|r| r.language.as_str()))
        .bind(micros(case.created_at))
        .bind(micros(case.updated_at))
        .bind(case.resolved_at.map(micros))
        .bind(revision)
}

async fn put_survey_in(conn: &mut PgConnection, survey: &Survey) -> Result<(), StoreError> {
    let latest: Option<(i64, Uuid)> = sqlx::query_as(
        "SELECT version, organization FROM cem_surveys WHERE id = $1 \
         ORDER BY version DESC LIMIT 1",
    )
    .bind(survey.id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    let ours = latest
        .as_ref()
        .is_some_and(|(_, organization)| *organization == survey.organization.0);
    if survey.version > 1 && !ours {
        return Err(not_found(format!("survey {}", survey.id)));
    }
    let current = latest.map_or(0, |(version, _)| version);
    if current + 1 != i64::from(survey.version) {
        return Err(conflict(STALE));
    }
    // A writer of the same version that committed after the read above: its row takes the
    // key first.
    sqlx::query(
        "INSERT INTO cem_surveys (id, version, organization, name, title, questions, \
         triggers, active, created_at) \
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8, $9)",
    )
    .bind(survey.id.0)
    .bind(i64::from(survey.version))
    .bind(survey.organization.0)
    .bind(&survey.name)
    .bind(to_json(&survey.title)?)
    .bind(to_json(&survey.questions)?)
    .bind(to_json(&survey.triggers)?)
    .bind(survey.active)
    .bind(micros(survey.created_at))
    .execute(&mut *conn)
    .await
    .map_err(|e| map_unique(e, STALE))?;
    Ok(())
}

/// Takes the advisory lock of an organization's recipient key until the end of the
/// transaction, hashed by the server so every instance computes the same one.
async fn lock_recipient(
    conn: &mut PgConnection,
    organization: OrganizationId,
    key: &str,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(RECIPIENT_LOCK_SPACE)
        .bind(format!("{organization}/{key}"))
        .execute(conn)
        .await
        .map_err(map_sqlx)?;
    Ok(())
}

async fn insert_invitation_in(
    conn: &mut PgConnection,
    invitation: &Invitation,
    cooldown_since: Option<DateTime<Utc>>,
    messages: &[OutboundMessage],
) -> Result<(), StoreError> {
    if let Some(key) = &invitation.recipient_key {
        lock_recipient(&mut *conn, invitation.organization, key).await?;
    }
    // Says a taken id or token before the cooldown is looked at: an invitation derived again
    // is in its own cooldown too. The unique keys decide when a racing insert commits after
    // this read.
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM cem_survey_invitations WHERE id = $1 OR token = $2)",
    )
    .bind(invitation.id.0)
    .bind(&invitation.token)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    if taken {
        return Err(conflict(EXISTS));
    }
    if let (Some(since), Some(key)) = (cooldown_since, &invitation.recipient_key) {
        let in_cooldown: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM cem_survey_invitations \
             WHERE organization = $1 AND recipient_key = $2 AND created_at >= $3)",
        )
        .bind(invitation.organization.0)
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
        "INSERT INTO cem_survey_invitations (",
        invitation_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    ))
    .bind(invitation.id.0)
    .bind(&invitation.token)
    .bind(invitation.organization.0)
    .bind(invitation.survey.0)
    .bind(invitation.branch.0)
    .bind(invitation.source.as_str())
    .bind(visit.ticket.map(|x| x.0))
    .bind(visit.service.map(|x| x.0))
    .bind(visit.counter.map(|x| x.0))
    .bind(visit.agent.map(|x| x.0))
    .bind(visit.class.map(|x| x.0))
    .bind(invitation.recipient_key.as_deref())
    .bind(invitation.language.as_str())
    .bind(micros(invitation.created_at))
    .bind(micros(invitation.expires_at))
    .bind(invitation.answered_at.map(micros))
    .execute(&mut *conn)
    .await
    .map_err(|e| map_unique(e, EXISTS))?;
    // Due at once: at the instant it was made.
    insert_messages(conn, messages, micros(invitation.created_at)).await
}

async fn submit_in(
    conn: &mut PgConnection,
    response: &Response,
    case: Option<&Case>,
) -> Result<(), StoreError> {
    let submitted = micros(response.submitted_at);
    // The row count decides: of many submissions one finds the invitation unanswered.
    let marked = sqlx::query(
        "UPDATE cem_survey_invitations SET answered_at = $3 \
         WHERE id = $1 AND organization = $2 AND answered_at IS NULL",
    )
    .bind(response.invitation.0)
    .bind(response.organization.0)
    .bind(submitted)
    .execute(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    if marked.rows_affected() == 0 {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM cem_survey_invitations \
             WHERE id = $1 AND organization = $2)",
        )
        .bind(response.invitation.0)
        .bind(response.organization.0)
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
    sqlx::query(
        "INSERT INTO cem_survey_responses (id, organization, survey, version, invitation, \
         branch, source, ticket, service, counter, agent, class, language, answers, analysis, \
         reply_phone, reply_email, reply_language, submitted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, \
         $15::jsonb, $16, $17, $18, $19)",
    )
    .bind(response.id.0)
    .bind(response.organization.0)
    .bind(response.survey.0)
    .bind(i64::from(response.version))
    .bind(response.invitation.0)
    .bind(response.branch.0)
    .bind(response.source.as_str())
    .bind(visit.ticket.map(|x| x.0))
    .bind(visit.service.map(|x| x.0))
    .bind(visit.counter.map(|x| x.0))
    .bind(visit.agent.map(|x| x.0))
    .bind(visit.class.map(|x| x.0))
    .bind(response.language.as_str())
    .bind(to_json(&response.answers)?)
    .bind(response.analysis.as_ref().map(to_json).transpose()?)
    .bind(reply.and_then(|r| r.phone.as_deref()))
    .bind(reply.and_then(|r| r.email.as_deref()))
    .bind(reply.map(|r| r.language.as_str()))
    .bind(submitted)
    .execute(&mut *conn)
    .await
    .map_err(|e| map_unique(e, EXISTS))?;
    if let Some(case) = case {
        insert_case(conn, case).await?;
    }
    Ok(())
}

async fn insert_case(conn: &mut PgConnection, case: &Case) -> Result<(), StoreError> {
    let query = sqlx::query(concat!(
        "INSERT INTO cem_survey_cases (",
        case_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20)"
    ))
    .bind(case.id.0)
    .bind(case.organization.0)
    .bind(case.branch.0)
    .bind(case.response.0)
    .bind(case.survey.0);
    bind_case_changeable(query, case, revision(case)?)
        .execute(&mut *conn)
        .await
        .map_err(|e| map_unique(e, EXISTS))?;
    Ok(())
}

async fn update_case_in(
    conn: &mut PgConnection,
    case: &Case,
    messages: &[OutboundMessage],
) -> Result<(), StoreError> {
    // The row lock makes concurrent updates of this case take turns: a later one reads the
    // revision the earlier one wrote.
    let stored: Option<i64> =
        sqlx::query_scalar("SELECT revision FROM cem_survey_cases WHERE id = $1 FOR UPDATE")
            .bind(case.id.0)
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
        "UPDATE cem_survey_cases SET reason = $2, reason_score = $3, status = $4, owner = $5, \
         deadline = $6, escalations = $7, root_cause = $8, resolution = $9, \
         reply_phone = $10, reply_email = $11, reply_language = $12, created_at = $13, \
         updated_at = $14, resolved_at = $15, revision = $16 WHERE id = $1",
    )
    .bind(case.id.0);
    bind_case_changeable(query, case, revision(case)?)
        .execute(&mut *conn)
        .await
        .map_err(map_sqlx)?;
    // Due at once: at the instant of the change.
    insert_messages(conn, messages, micros(case.updated_at)).await
}

async fn erase_in(
    conn: &mut PgConnection,
    organization: OrganizationId,
    to: &str,
) -> Result<u64, StoreError> {
    let responses = sqlx::query(
        "UPDATE cem_survey_responses \
         SET reply_phone = NULL, reply_email = NULL, reply_language = NULL \
         WHERE organization = $1 AND (reply_phone = $2 OR reply_email = $2)",
    )
    .bind(organization.0)
    .bind(to)
    .execute(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    // A case's revision moves on, so an update prepared before cannot write the contact back.
    let cases = sqlx::query(
        "UPDATE cem_survey_cases \
         SET reply_phone = NULL, reply_email = NULL, reply_language = NULL, \
         revision = revision + 1 \
         WHERE organization = $1 AND (reply_phone = $2 OR reply_email = $2)",
    )
    .bind(organization.0)
    .bind(to)
    .execute(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    Ok(responses.rows_affected() + cases.rows_affected())
}

/// The branches of a filter as a bound array: `None` (SQL NULL) for all.
fn branch_ids(branches: Option<&Vec<BranchId>>) -> Option<Vec<Uuid>> {
    branches.map(|b| b.iter().map(|id| id.0).collect())
}

#[async_trait]
impl SurveyStore for PgStore {
    async fn put_survey(&self, survey: &Survey) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        let written = put_survey_in(&mut tx, survey).await;
        finish(tx, written).await
    }

    async fn survey(&self, id: SurveyId, version: Option<u32>) -> Result<Survey, StoreError> {
        // Without a version, the highest: $2 is NULL.
        let row = sqlx::query(concat!(
            "SELECT ",
            survey_columns!(),
            " FROM cem_surveys WHERE id = $1 AND ($2::bigint IS NULL OR version = $2) \
             ORDER BY version DESC LIMIT 1"
        ))
        .bind(id.0)
        .bind(version.map(i64::from))
        .fetch_optional(self.pool())
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(
            || Err(not_found(format!("survey {id}"))),
            |r| decode_survey(&r),
        )
    }

    async fn surveys(&self, organization: OrganizationId) -> Result<Vec<Survey>, StoreError> {
        // Names compare by bytes (COLLATE "C"), as Rust's strings do, whatever the database's
        // collation.
        let rows = sqlx::query(concat!(
            "SELECT ",
            survey_columns!(),
            " FROM cem_surveys AS s WHERE organization = $1 \
             AND version = (SELECT max(version) FROM cem_surveys WHERE id = s.id) \
             ORDER BY name COLLATE \"C\", id"
        ))
        .bind(organization.0)
        .fetch_all(self.pool())
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
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        let written = insert_invitation_in(&mut tx, invitation, cooldown_since, messages).await;
        finish(tx, written).await
    }

    async fn invitation(&self, token: &str) -> Result<Invitation, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM cem_survey_invitations WHERE token = $1"
        ))
        .bind(token)
        .fetch_optional(self.pool())
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
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        let written = submit_in(&mut tx, response, case).await;
        finish(tx, written).await
    }

    async fn response(&self, id: ResponseId) -> Result<Response, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            response_columns!(),
            " FROM cem_survey_responses WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(
            || Err(not_found(format!("response {id}"))),
            |r| decode_response(&r),
        )
    }

    async fn responses(&self, filter: &ResponseFilter) -> Result<Vec<Response>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            response_columns!(),
            " FROM cem_survey_responses WHERE organization = $1 \
             AND submitted_at >= $2 AND submitted_at < $3 \
             AND ($4::uuid IS NULL OR survey = $4) \
             AND ($5::uuid[] IS NULL OR branch = ANY ($5)) \
             ORDER BY submitted_at, id"
        ))
        .bind(filter.organization.0)
        .bind(ceil_micros(filter.from))
        .bind(ceil_micros(filter.to))
        .bind(filter.survey.map(|s| s.0))
        .bind(branch_ids(filter.branches.as_ref()))
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        rows.iter().map(decode_response).collect()
    }

    async fn invitations_made(&self, filter: &ResponseFilter) -> Result<u64, StoreError> {
        let made: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM cem_survey_invitations WHERE organization = $1 \
             AND created_at >= $2 AND created_at < $3 AND ($4::uuid IS NULL OR survey = $4) \
             AND ($5::uuid[] IS NULL OR branch = ANY ($5))",
        )
        .bind(filter.organization.0)
        .bind(ceil_micros(filter.from))
        .bind(ceil_micros(filter.to))
        .bind(filter.survey.map(|s| s.0))
        .bind(branch_ids(filter.branches.as_ref()))
        .fetch_one(self.pool())
        .await
        .map_err(map_sqlx)?;
        u64::try_from(made).map_err(|_| backend(format!("negative count {made}")))
    }

    async fn update_case(
        &self,
        case: &Case,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        let written = update_case_in(&mut tx, case, messages).await;
        finish(tx, written).await
    }

    async fn case(&self, id: CaseId) -> Result<Case, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            case_columns!(),
            " FROM cem_survey_cases WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(|| Err(not_found(format!("case {id}"))), |r| decode_case(&r))
    }

    async fn cases(&self, filter: &CaseFilter) -> Result<Vec<Case>, StoreError> {
        // A whole-microsecond deadline is at or before `at` exactly when it is at or before
        // `at` cut to the microsecond.
        let rows = sqlx::query(concat!(
            "SELECT ",
            case_columns!(),
            " FROM cem_survey_cases WHERE organization = $1 \
             AND ($2::uuid[] IS NULL OR branch = ANY ($2)) \
             AND ($3::text IS NULL OR status = $3) \
             AND ($4::timestamptz IS NULL OR (status <> 'resolved' AND deadline <= $4)) \
             ORDER BY created_at, id"
        ))
        .bind(filter.organization.0)
        .bind(branch_ids(filter.branches.as_ref()))
        .bind(filter.status.map(CaseStatus::as_str))
        .bind(filter.overdue_at.map(micros))
        .fetch_all(self.pool())
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
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        let erased = erase_in(&mut tx, organization, to).await;
        finish(tx, erased).await
    }
}
