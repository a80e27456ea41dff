//! [`ReportStore`] for [`PgStore`]: the tables `cem_report_hours`, `cem_report_days` and
//! `cem_report_cursors` (migration 0012).
//!
//! A write is one transaction that first moves the cursor with a conditional statement (an
//! `UPDATE … WHERE position = expected`, or for a cursor expected at 0 an upsert whose update
//! has that condition): the statement takes the cursor row's lock, so of two writers from one
//! value the second waits for the first to commit, then finds the row changed, changes
//! nothing and is refused. Only then are the branch-days' rows deleted and the new ones
//! inserted, with their sums by day in `cem_report_days`. A read (from the day rows when it
//! covers whole days and is not by hour) is two aggregate statements in one `REPEATABLE READ` snapshot: the counts
//! summed by group, and the histograms unnested and summed by group and bucket.

use std::collections::BTreeMap;

use async_trait::async_trait;
use cem_core::{
    BranchId, CURSOR_MOVED, HourFigures, HourKey, ReportBatch, ReportBy, ReportGroup, ReportKey,
    ReportQuery, ReportStore, ServiceId, StoreError,
};
use chrono::{NaiveDate, NaiveDateTime, Timelike};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::PgStore;
use crate::error::map_sqlx;

/// Rows per `INSERT`: 21 bound values each stays below PostgreSQL's 65 535.
const ROWS_PER_INSERT: usize = 2_000;

/// The SQL of a grouping's key.
fn group_sql(by: ReportBy) -> &'static str {
    match by {
        ReportBy::Branch => "branch",
        ReportBy::Service => "service",
        ReportBy::Day => "day",
        ReportBy::Hour => "hour::int",
        ReportBy::Weekday => "extract(isodow FROM day)::int",
        _ => "0",
    }
}

/// The key in column 0 of a row grouped by `by`.
fn group_key(by: ReportBy, row: &PgRow) -> Result<ReportKey, sqlx::Error> {
    Ok(match by {
        ReportBy::Branch => ReportKey::Branch(BranchId::new(row.try_get::<Uuid, _>(0)?)),
        ReportBy::Service => ReportKey::Service(ServiceId::new(row.try_get::<Uuid, _>(0)?)),
        ReportBy::Day => ReportKey::Day(row.try_get::<NaiveDate, _>(0)?),
        ReportBy::Hour => ReportKey::Hour(row.try_get::<i32, _>(0)? as u8),
        ReportBy::Weekday => ReportKey::Weekday(row.try_get::<i32, _>(0)? as u8),
        _ => ReportKey::All,
    })
}

/// `WHERE` of a query: its branches ($1) and its range of local hours ($2–$5).
const RANGE: &str = "WHERE branch = ANY($1) AND (day, hour) >= ($2, $3) AND (day, hour) < ($4, $5)";

/// `WHERE` of a query over whole days in the day rows: the same parameters, whose hours are 0.
const DAY_RANGE: &str =
    "WHERE branch = ANY($1) AND day >= $2 AND day < $4 AND $3::smallint = 0 AND $5::smallint = 0";

fn bind_range<'q>(
    q: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    query: &'q ReportQuery,
    branches: &'q [Uuid],
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    let (from, to) = (query.range.from(), query.range.to());
    q.bind(branches)
        .bind(from.date())
        .bind(hour_of(from))
        .bind(to.date())
        .bind(hour_of(to))
}

fn hour_of(t: NaiveDateTime) -> i16 {
    t.hour() as i16
}

/// The table a row goes to: hours, or days (their hours summed).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Grain {
    Hour,
    Day,
}

/// Inserts rows into the table of `grain` (a day row's key has hour 0, unused).
async fn insert(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    grain: Grain,
    rows: &[(HourKey, &HourFigures)],
) -> Result<(), StoreError> {
    let (table, hour) = match grain {
        Grain::Hour => ("cem_report_hours", "hour, "),
        Grain::Day => ("cem_report_days", ""),
    };
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Postgres>::new(format!(
            "INSERT INTO {table} (branch, day, {hour}service, {}, wait_buckets, wait_counts) ",
            HourFigures::COLUMNS.join(", ")
        ));
        insert.push_values(chunk, |mut b, (key, figures)| {
            b.push_bind(*key.branch.as_uuid()).push_bind(key.date);
            if grain == Grain::Hour {
                b.push_bind(i16::from(key.hour));
            }
            b.push_bind(*key.service.as_uuid());
            for c in figures.counts() {
                b.push_bind(c);
            }
            let (buckets, waits): (Vec<i16>, Vec<i64>) = (figures.waits.iter())
                .map(|&(b, n)| (b as i16, n as i64))
                .unzip();
            b.push_bind(buckets).push_bind(waits);
        });
        insert.build().execute(&mut **tx).await.map_err(map_sqlx)?;
    }
    Ok(())
}

fn moved(batch: &ReportBatch) -> StoreError {
    StoreError::Conflict {
        what: format!(
            "{CURSOR_MOVED}: cursor {} is not at {}",
            batch.cursor(),
            batch.expected()
        ),
    }
}

#[async_trait]
impl ReportStore for PgStore {
    async fn report_cursor(&self, cursor: &str) -> Result<u64, StoreError> {
        let at: Option<i64> =
            sqlx::query_scalar("SELECT position FROM cem_report_cursors WHERE name = $1")
                .bind(cursor)
                .fetch_optional(self.pool())
                .await
                .map_err(map_sqlx)?;
        Ok(at.unwrap_or(0) as u64)
    }

    async fn write_report_days(&self, batch: &ReportBatch) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        let sql = if batch.expected() == 0 {
            "INSERT INTO cem_report_cursors (name, position) VALUES ($1, $3) \
             ON CONFLICT (name) DO UPDATE SET position = excluded.position \
             WHERE cem_report_cursors.position = $2"
        } else {
            "UPDATE cem_report_cursors SET position = $3 WHERE name = $1 AND position = $2"
        };
        let done = sqlx::query(sql)
            .bind(batch.cursor())
            .bind(batch.expected() as i64)
            .bind(batch.to() as i64)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        if done.rows_affected() != 1 {
            return Err(moved(batch));
        }
        let (branches, days): (Vec<Uuid>, Vec<NaiveDate>) = (batch.days().iter())
            .map(|(b, d)| (*b.as_uuid(), *d))
            .unzip();
        for table in ["cem_report_hours", "cem_report_days"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE (branch, day) IN \
                 (SELECT * FROM unnest($1::uuid[], $2::date[]))"
            ))
            .bind(&branches)
            .bind(&days)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        }
        let hours: Vec<(HourKey, &HourFigures)> =
            batch.rows().iter().map(|r| (r.key, &r.figures)).collect();
        insert(&mut tx, Grain::Hour, &hours).await?;
        let mut by_day: BTreeMap<HourKey, HourFigures> = BTreeMap::new();
        for r in batch.rows() {
            let day = HourKey { hour: 0, ..r.key };
            by_day.entry(day).or_default().merge(&r.figures);
        }
        let days: Vec<(HourKey, &HourFigures)> = by_day.iter().map(|(k, f)| (*k, f)).collect();
        insert(&mut tx, Grain::Day, &days).await?;
        tx.commit().await.map_err(map_sqlx)
    }

    async fn report(&self, query: &ReportQuery) -> Result<Vec<ReportGroup>, StoreError> {
        let branches: Vec<Uuid> = query.branches.iter().map(|b| *b.as_uuid()).collect();
        let g = group_sql(query.by);
        let sums: Vec<String> = HourFigures::COLUMNS
            .iter()
            .map(|c| match *c {
                "wait_max_ms" => "max(wait_max_ms)".to_owned(),
                c => format!("sum({c})::bigint"),
            })
            .collect();
        // Whole days not grouped by hour read the day rows.
        let (from, to) = (query.range.from(), query.range.to());
        let (table, range) = if from.hour() == 0 && to.hour() == 0 && query.by != ReportBy::Hour {
            ("cem_report_days", DAY_RANGE)
        } else {
            ("cem_report_hours", RANGE)
        };
        let counts_sql = format!(
            "SELECT {g}, {} FROM {table} {range} GROUP BY 1",
            sums.join(", ")
        );
        let waits_sql = format!(
            "SELECT {g}, u.b, sum(u.n)::bigint FROM {table}, \
             unnest(wait_buckets, wait_counts) AS u(b, n) {range} GROUP BY 1, 2"
        );
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        let rows: Vec<PgRow> = bind_range(sqlx::query(&counts_sql), query, &branches)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        let mut groups: BTreeMap<ReportKey, HourFigures> = BTreeMap::new();
        for row in &rows {
            let mut c = [0i64; 15];
            for (i, v) in c.iter_mut().enumerate() {
                *v = row.try_get(i + 1).map_err(map_sqlx)?;
            }
            groups.insert(
                group_key(query.by, row).map_err(map_sqlx)?,
                HourFigures::from_counts(c, Vec::new()),
            );
        }
        let buckets: Vec<PgRow> = bind_range(sqlx::query(&waits_sql), query, &branches)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)?;
        for row in &buckets {
            let key = group_key(query.by, row).map_err(map_sqlx)?;
            let bucket: i16 = row.try_get(1).map_err(map_sqlx)?;
            let n: i64 = row.try_get(2).map_err(map_sqlx)?;
            if let Some(f) = groups.get_mut(&key) {
                f.waits.push((bucket as u16, n as u64));
            }
        }
        Ok(groups
            .into_iter()
            .map(|(key, mut figures)| {
                figures.waits.sort_unstable();
                ReportGroup { key, figures }
            })
            .collect())
    }
}
