//! [`ReportStore`] for [`SqliteStore`]: the tables `report_hours` and `report_cursors`
//! (migration 0012).
//!
//! A write is one `BEGIN IMMEDIATE` transaction: it takes SQLite's write lock before it
//! checks the cursor, so writers in any pool or process take turns and the second of two
//! writers from one value finds the cursor moved and writes nothing. A read is two aggregate
//! statements in one transaction (one WAL snapshot): the counts summed by group, and the
//! histograms (`[bucket, count]` JSON pairs) unnested with `json_each` and summed by group and
//! bucket.

use std::collections::BTreeMap;

use async_trait::async_trait;
use cem_core::{
    BranchId, CURSOR_MOVED, HourFigures, ReportBatch, ReportBy, ReportGroup, ReportKey,
    ReportQuery, ReportStore, ServiceId, StoreError,
};
use chrono::{NaiveDate, NaiveDateTime, Timelike};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use uuid::Uuid;

use crate::{SqliteStore, backend, map_sqlx};

/// Rows per `INSERT`: 20 bound values each stays far below SQLite's 32 766.
const ROWS_PER_INSERT: usize = 1_000;

/// The SQL of a grouping's key; weekdays 1 (Monday) to 7 from `%w` (0 is Sunday).
fn group_sql(by: ReportBy) -> &'static str {
    match by {
        ReportBy::Branch => "branch",
        ReportBy::Service => "service",
        ReportBy::Day => "day",
        ReportBy::Hour => "hour",
        ReportBy::Weekday => "(CAST(strftime('%w', day) AS INTEGER) + 6) % 7 + 1",
        _ => "0",
    }
}

fn uuid_of(row: &SqliteRow) -> Result<Uuid, StoreError> {
    let bytes: Vec<u8> = row.try_get(0).map_err(map_sqlx)?;
    Uuid::from_slice(&bytes).map_err(backend)
}

/// The key in column 0 of a row grouped by `by`.
fn group_key(by: ReportBy, row: &SqliteRow) -> Result<ReportKey, StoreError> {
    let int = || row.try_get::<i64, _>(0).map_err(map_sqlx);
    Ok(match by {
        ReportBy::Branch => ReportKey::Branch(BranchId::new(uuid_of(row)?)),
        ReportBy::Service => ReportKey::Service(ServiceId::new(uuid_of(row)?)),
        ReportBy::Day => {
            let day: String = row.try_get(0).map_err(map_sqlx)?;
            ReportKey::Day(day.parse::<NaiveDate>().map_err(backend)?)
        }
        ReportBy::Hour => ReportKey::Hour(int()? as u8),
        ReportBy::Weekday => ReportKey::Weekday(int()? as u8),
        _ => ReportKey::All,
    })
}

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// `WHERE` of a query: its branches (a JSON array of hex ids, $1) and its range of local
/// hours ($2–$5).
const RANGE: &str = "WHERE branch IN (SELECT unhex(value) FROM json_each($1)) \
     AND (day, hour) >= ($2, $3) AND (day, hour) < ($4, $5)";

fn bind_range<'q>(
    q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    query: &ReportQuery,
    branches: &'q str,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    let (from, to) = (query.range.from(), query.range.to());
    let hour = |t: NaiveDateTime| i64::from(t.hour());
    q.bind(branches)
        .bind(day_text(from.date()))
        .bind(hour(from))
        .bind(day_text(to.date()))
        .bind(hour(to))
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn report_cursor(&self, cursor: &str) -> Result<u64, StoreError> {
        let at: Option<i64> =
            sqlx::query_scalar("SELECT position FROM report_cursors WHERE name = $1")
                .bind(cursor)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_sqlx)?;
        Ok(at.unwrap_or(0) as u64)
    }

    async fn write_report_days(&self, batch: &ReportBatch) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_sqlx)?;
        let at: Option<i64> =
            sqlx::query_scalar("SELECT position FROM report_cursors WHERE name = $1")
                .bind(batch.cursor())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_sqlx)?;
        if at.unwrap_or(0) as u64 != batch.expected() {
            return Err(StoreError::Conflict {
                what: format!(
                    "{CURSOR_MOVED}: cursor {} is at {}, not {}",
                    batch.cursor(),
                    at.unwrap_or(0),
                    batch.expected()
                ),
            });
        }
        sqlx::query(
            "INSERT INTO report_cursors (name, position) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        )
        .bind(batch.cursor())
        .bind(batch.to() as i64)
        .execute(&mut *tx)
        .await
        .map_err(map_sqlx)?;
        for (branch, day) in batch.days() {
            sqlx::query("DELETE FROM report_hours WHERE branch = $1 AND day = $2")
                .bind(branch.as_uuid().as_bytes().as_slice())
                .bind(day_text(*day))
                .execute(&mut *tx)
                .await
                .map_err(map_sqlx)?;
        }
        for chunk in batch.rows().chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::<Sqlite>::new(format!(
                "INSERT INTO report_hours (branch, day, hour, service, {}, waits) ",
                HourFigures::COLUMNS.join(", ")
            ));
            insert.push_values(chunk, |mut b, r| {
                b.push_bind(r.key.branch.as_uuid().as_bytes().to_vec())
                    .push_bind(day_text(r.key.date))
                    .push_bind(i64::from(r.key.hour))
                    .push_bind(r.key.service.as_uuid().as_bytes().to_vec());
                for c in r.figures.counts() {
                    b.push_bind(c);
                }
                let waits: Vec<[u64; 2]> = (r.figures.waits.iter())
                    .map(|&(b, n)| [u64::from(b), n])
                    .collect();
                b.push_bind(serde_json::to_string(&waits).unwrap_or_else(|_| "[]".to_owned()));
            });
            insert.build().execute(&mut *tx).await.map_err(map_sqlx)?;
        }
        tx.commit().await.map_err(map_sqlx)
    }

    async fn report(&self, query: &ReportQuery) -> Result<Vec<ReportGroup>, StoreError> {
        let hex: Vec<String> = (query.branches.iter())
            .map(|b| b.as_uuid().simple().to_string())
            .collect();
        let branches = serde_json::to_string(&hex).map_err(backend)?;
        let g = group_sql(query.by);
        let sums: Vec<String> = HourFigures::COLUMNS
            .iter()
            .map(|c| match *c {
                "wait_max_ms" => "max(wait_max_ms)".to_owned(),
                c => format!("sum({c})"),
            })
            .collect();
        let counts_sql = format!(
            "SELECT {g}, {} FROM report_hours {RANGE} GROUP BY 1",
            sums.join(", ")
        );
        let waits_sql = format!(
            "SELECT {g}, json_extract(w.value, '$[0]'), sum(json_extract(w.value, '$[1]')) \
             FROM report_hours, json_each(report_hours.waits) AS w {RANGE} GROUP BY 1, 2"
        );
        let mut tx = self.pool.begin().await.map_err(map_sqlx)?;
        let rows = bind_range(sqlx::query(&counts_sql), query, &branches)
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
                group_key(query.by, row)?,
                HourFigures::from_counts(c, Vec::new()),
            );
        }
        let buckets = bind_range(sqlx::query(&waits_sql), query, &branches)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)?;
        for row in &buckets {
            let key = group_key(query.by, row)?;
            let bucket: i64 = row.try_get(1).map_err(map_sqlx)?;
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
