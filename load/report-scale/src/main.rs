//! Reports at scale: simulates a year of history for many branches with the queue's
//! simulator (the real `BranchQueue`), folds each branch-day through `cem-report`'s hour cube
//! (the code the server's report projection runs), bulk-writes the hour rows into a
//! PostgreSQL database of its own through the `ReportStore`, and times the main report
//! queries. The raw events of a year are far too many to keep (tens of GB), so only a few
//! branches' events are stored too: the server's projector folds them into a memory store
//! and its rows must equal those the generator wrote.
//!
//! See `load/README.md` for how to run it and what it prints.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use cem_core::chrono::{NaiveDate, NaiveTime};
use cem_core::{
    BranchId, HourRow, LocalRange, NewEvent, QueueEventStore, ReportBatch, ReportBy, ReportQuery,
    ReportStore,
};
use cem_queue::QueueEvent;
use cem_queue::sim::{
    self, ArrivalSpec, ClassSpec, CounterSpec, Dist, Scenario, ServiceSpec, Shift,
};
use cem_report::projection::rows_of;
use cem_report::{Cell, CubeSpec, HourCube, Key};
use cem_store_memory::MemoryStore;
use cem_store_postgres::{PgStore, PgStoreOptions};
use clap::Parser;
use sqlx::{Connection, PgConnection};

/// Simulate a year of many branches, write the report aggregates to PostgreSQL, time the
/// main report queries.
#[derive(Debug, Clone, Parser)]
struct Args {
    /// Administrator URL of the PostgreSQL server (its database is used to create and drop
    /// the scale database).
    #[arg(
        long,
        env = "CEM_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pg: String,
    /// The database to create (dropped first if it exists, and at the end unless `--keep`).
    #[arg(long, default_value = "cem_report_scale")]
    database: String,
    /// Branches.
    #[arg(long, default_value_t = 500)]
    branches: u32,
    /// Simulated days (from Monday 5 January 2026).
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// Mean tickets a day at a branch (each branch draws its own rate around it).
    #[arg(long, default_value_t = 165)]
    tickets_per_day: u32,
    /// Branches whose raw events are stored too and checked against the projection.
    #[arg(long, default_value_t = 3)]
    verify: u32,
    /// Simulation threads.
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// Runs of each report query (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: u32,
    /// Keep the database at the end.
    #[arg(long)]
    keep: bool,
}

/// Simulated time starts on this Monday, at midnight UTC (the simulator's epoch).
fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).expect("a valid date")
}

fn branch_id(i: u32) -> BranchId {
    BranchId::from_u128(0x5CA1_E000_0000 + u128::from(i))
}

fn hhmm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("a valid time")
}

/// Branch `i`'s scenario: three services, two or three counters open 08:00–17:00 UTC,
/// customers arriving 08:00–16:30 at a rate drawn around `tickets_per_day`, leaving after
/// half an hour on average if not called.
fn scenario(i: u32, args: &Args) -> Scenario {
    // A deterministic spread of ±30 % around the mean rate.
    let factor = 0.7 + f64::from((i * 7_919) % 61) / 100.0;
    let per_day = f64::from(args.tickets_per_day) * factor;
    let open_hours = 8.5;
    let shares = [
        ("A", 0.47, 300.0, 600),
        ("B", 0.32, 420.0, 900),
        ("C", 0.21, 180.0, 300),
    ];
    let hours = Shift {
        from: hhmm(8, 0),
        to: hhmm(16, 30),
    };
    Scenario {
        seed: u64::from(i) + 1,
        customers: (per_day * f64::from(args.days)).round() as u64,
        warmup: 0,
        estimate: false,
        policy: Default::default(),
        classes: vec![ClassSpec {
            code: "normal".into(),
            rank: 1,
            weight: 1,
        }],
        services: shares
            .iter()
            .map(|&(prefix, _, mean_secs, target)| ServiceSpec {
                prefix: prefix.into(),
                service_time: Dist::LogNormal {
                    mean_secs,
                    sd_secs: mean_secs * 0.6,
                },
                target_wait_secs: target,
                max_wait_secs: None,
            })
            .collect(),
        counters: vec![CounterSpec {
            count: 2 + i % 2,
            services: vec!["A".into(), "B".into(), "C".into()],
            ranks: None,
            classes: None,
            policy: None,
            shifts: vec![Shift {
                from: hhmm(8, 0),
                to: hhmm(17, 0),
            }],
        }],
        arrivals: shares
            .iter()
            .map(|&(prefix, share, _, _)| ArrivalSpec {
                service: prefix.into(),
                class: "normal".into(),
                per_hour: per_day * share / open_hours,
                hours: Some(hours.clone()),
            })
            .collect(),
        trace: vec![],
        patience: Some(Dist::Exponential { mean_secs: 1_800.0 }),
        queue: Default::default(),
    }
}

/// What the cube needs of the branches: UTC (the simulator's zone) and the targets of the
/// services, which every scenario shares.
fn cube_spec(args: &Args) -> anyhow::Result<CubeSpec> {
    let config = sim::branch_config(&scenario(0, args))?;
    Ok(CubeSpec::of(&[config]))
}

/// A branch's year: its hour rows, the days they cover, and (for branches to verify) its
/// events.
struct BranchYear {
    branch: BranchId,
    rows: Vec<HourRow>,
    days: Vec<(BranchId, NaiveDate)>,
    tickets: u64,
    events: Option<Vec<NewEvent>>,
}

/// Simulates branch `i` and folds each of its days through a fresh hour cube, as the
/// projection does.
fn simulate(i: u32, args: &Args, spec: &CubeSpec, keep_events: bool) -> anyhow::Result<BranchYear> {
    let branch = branch_id(i);
    let last_day = first_day() + cem_core::chrono::Days::new(u64::from(args.days));
    let mut rows = Vec::new();
    let mut days = Vec::new();
    let mut day: Option<(NaiveDate, HourCube)> = None;
    let mut tickets = 0;
    let mut events = keep_events.then(Vec::new);
    let mut flush = |d: Option<(NaiveDate, HourCube)>, rows: &mut Vec<HourRow>| {
        if let Some((date, cube)) = d {
            days.push((branch, date));
            rows.extend(rows_of(&cube));
        }
    };
    sim::run_with_events(&scenario(i, args), |e: &QueueEvent| {
        let date = e.at().date_naive();
        // The last customers' day may run past the year: leave it out.
        if date >= last_day {
            return;
        }
        if day.as_ref().is_none_or(|(d, _)| *d != date) {
            flush(day.take(), &mut rows);
            day = Some((date, HourCube::new(spec.clone())));
        }
        if let Some((_, cube)) = &mut day {
            cube.apply(branch, e);
        }
        if matches!(e, QueueEvent::TicketIssued { .. }) {
            tickets += 1;
        }
        if let Some(events) = &mut events {
            events.push(cem_queue::service::encode(e));
        }
    })?;
    flush(day.take(), &mut rows);
    Ok(BranchYear {
        branch,
        rows,
        days,
        tickets,
        events,
    })
}

/// The URL of database `name` on the server of `admin`.
fn database_url(admin: &str, name: &str) -> anyhow::Result<String> {
    let (base, _) = admin
        .rsplit_once('/')
        .context("the PostgreSQL URL names no database")?;
    Ok(format!("{base}/{name}"))
}

async fn recreate(admin: &str, name: &str) -> anyhow::Result<()> {
    ensure!(
        name.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "database names are lowercase letters, digits and _"
    );
    let mut conn = PgConnection::connect(admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    Ok(())
}

async fn drop_database(admin: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Appends a branch's events in pages, as its queue would have.
async fn store_events(
    store: &PgStore,
    branch: BranchId,
    events: &[NewEvent],
) -> anyhow::Result<()> {
    let mut version = 0;
    for chunk in events.chunks(1_000) {
        store.append(branch, version, chunk).await?;
        version += chunk.len() as u64;
    }
    Ok(())
}

fn year_range(args: &Args) -> anyhow::Result<LocalRange> {
    let from = first_day().and_time(NaiveTime::MIN);
    let to = from + cem_core::chrono::TimeDelta::days(i64::from(args.days));
    Ok(LocalRange::new(from, to)?)
}

/// The projection over the stored events of the verified branches, into a memory store,
/// must give the rows the generator wrote.
async fn verify(
    store: &PgStore,
    spec: &CubeSpec,
    branches: &[BranchId],
    args: &Args,
) -> anyhow::Result<()> {
    let memory = std::sync::Arc::new(MemoryStore::new());
    let events: std::sync::Arc<dyn QueueEventStore> = std::sync::Arc::new(store.clone());
    let mut projector = cem_http::ReportProjector::new(events, memory.clone(), 1_000);
    let caught = projector.catch_up(spec).await?;
    println!(
        "projection over the stored events: {} events, {} batches",
        caught.events, caught.batches
    );
    for &branch in branches {
        for by in [
            ReportBy::Day,
            ReportBy::Hour,
            ReportBy::Service,
            ReportBy::Weekday,
        ] {
            let q = ReportQuery {
                branches: vec![branch],
                range: year_range(args)?,
                by,
            };
            let written = store.report(&q).await?;
            let projected = memory.report(&q).await?;
            ensure!(!written.is_empty(), "no rows of branch {branch}");
            if written != projected {
                bail!(
                    "branch {branch} by {by:?}: the projection's rows differ from the generator's"
                );
            }
        }
    }
    println!(
        "verified: the projection's rows equal the generator's for {} branches (by day, hour, service, weekday)",
        branches.len()
    );
    Ok(())
}

/// One timed report question.
struct Timed {
    name: &'static str,
    query: ReportQuery,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs each question `runs` times through the store and turns its groups into report rows
/// (percentiles from the merged histograms), as the HTTP report does.
async fn time_queries(store: &PgStore, args: &Args) -> anyhow::Result<()> {
    let year = year_range(args)?;
    let all: Vec<BranchId> = (0..args.branches).map(branch_id).collect();
    let month_from = first_day().and_time(NaiveTime::MIN) + cem_core::chrono::TimeDelta::days(28);
    let month = LocalRange::new(
        month_from,
        month_from + cem_core::chrono::TimeDelta::days(31),
    )?;
    let questions = [
        Timed {
            name: "org-wide by branch, year",
            query: ReportQuery {
                branches: all.clone(),
                range: year,
                by: ReportBy::Branch,
            },
        },
        Timed {
            name: "one branch by service, year",
            query: ReportQuery {
                branches: vec![branch_id(7)],
                range: year,
                by: ReportBy::Service,
            },
        },
        Timed {
            name: "org-wide by weekday, year",
            query: ReportQuery {
                branches: all.clone(),
                range: year,
                by: ReportBy::Weekday,
            },
        },
        Timed {
            name: "org-wide by hour, year",
            query: ReportQuery {
                branches: all.clone(),
                range: year,
                by: ReportBy::Hour,
            },
        },
        Timed {
            name: "org-wide, year",
            query: ReportQuery {
                branches: all.clone(),
                range: year,
                by: ReportBy::All,
            },
        },
        Timed {
            name: "one branch by day, a month",
            query: ReportQuery {
                branches: vec![branch_id(7)],
                range: month,
                by: ReportBy::Day,
            },
        },
    ];
    println!("\nquery (median of {} runs; all runs)", args.runs);
    for q in &questions {
        let mut times = Vec::new();
        let mut summary = String::new();
        for _ in 0..args.runs.max(1) {
            let start = Instant::now();
            let groups = store.report(&q.query).await?;
            let rows: Vec<_> = (groups.iter())
                .map(|g| Cell::from(&g.figures).row(Key::All))
                .collect();
            times.push(start.elapsed());
            let called: u64 = rows.iter().map(|r| r.called).sum();
            let p90 = rows.first().and_then(|r| r.wait_p90_secs);
            summary = format!(
                "{} groups, {called} calls, first group's p90 {p90:?} s",
                rows.len()
            );
        }
        let all_runs: Vec<String> = times
            .iter()
            .map(|t| format!("{:.3}", t.as_secs_f64()))
            .collect();
        println!(
            "  {:<30} {:>8.3} s  [{}]  ({summary})",
            q.name,
            median(times).as_secs_f64(),
            all_runs.join(", ")
        );
    }
    Ok(())
}

async fn sizes(store: &PgStore) -> anyhow::Result<()> {
    let pool = store.pool();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM cem_report_hours")
        .fetch_one(pool)
        .await?;
    let days: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT DISTINCT branch, day FROM cem_report_hours) d",
    )
    .fetch_one(pool)
    .await?;
    println!("\nhour rows: {rows} ({days} branch-days)");
    for table in ["cem_report_hours", "cem_queue_events"] {
        let size: i64 = sqlx::query_scalar("SELECT pg_total_relation_size($1::regclass)")
            .bind(table)
            .fetch_one(pool)
            .await?;
        let pretty: String = sqlx::query_scalar("SELECT pg_size_pretty($1::bigint)")
            .bind(size)
            .fetch_one(pool)
            .await?;
        println!("  pg_total_relation_size({table}) = {size} ({pretty})");
    }
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM cem_queue_events")
        .fetch_one(pool)
        .await?;
    println!("  raw events stored (verified branches only): {events}");
    Ok(())
}

async fn generate(store: &PgStore, args: &Args, spec: &CubeSpec) -> anyhow::Result<Vec<BranchId>> {
    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<anyhow::Result<BranchYear>>(4);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut workers = Vec::new();
    for _ in 0..args.threads.max(1) {
        let (tx, next, spec) = (tx.clone(), next.clone(), spec.clone());
        let args = args.clone();
        workers.push(std::thread::spawn(move || {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= args.branches {
                    return;
                }
                let year = simulate(i, &args, &spec, i < args.verify);
                if tx.blocking_send(year).is_err() {
                    return;
                }
            }
        }));
    }
    drop(tx);
    let (mut tickets, mut rows, mut written, mut verified) = (0u64, 0u64, 0u32, Vec::new());
    let mut write_time = Duration::ZERO;
    let mut days_of: BTreeMap<BranchId, usize> = BTreeMap::new();
    while let Some(year) = rx.recv().await {
        let year = year?;
        let w = Instant::now();
        let batch = ReportBatch::new("report_scale", 0, 0, year.days.iter().copied(), year.rows)?;
        store.write_report_days(&batch).await?;
        if let Some(events) = &year.events {
            store_events(store, year.branch, events).await?;
            verified.push(year.branch);
        }
        write_time += w.elapsed();
        tickets += year.tickets;
        rows += batch.rows().len() as u64;
        days_of.insert(year.branch, year.days.len());
        written += 1;
        if written % 50 == 0 || written == args.branches {
            println!(
                "  {written}/{} branches, {tickets} tickets, {rows} hour rows, {:.0} s",
                args.branches,
                started.elapsed().as_secs_f64()
            );
        }
    }
    for w in workers {
        w.join()
            .map_err(|_| anyhow::anyhow!("a simulation thread panicked"))?;
    }
    let elapsed = started.elapsed();
    let days: usize = days_of.values().sum();
    println!(
        "generated {} branches, {days} branch-days, {tickets} tickets, {rows} hour rows in {:.1} s \
         ({:.1} s of it writing rows and the verified branches' events)",
        written,
        elapsed.as_secs_f64(),
        write_time.as_secs_f64()
    );
    Ok(verified)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = database_url(&args.pg, &args.database)?;
    recreate(&args.pg, &args.database).await?;
    println!(
        "database {} created; {} branches × {} days, about {} tickets a day each",
        args.database, args.branches, args.days, args.tickets_per_day
    );
    let result = async {
        let store =
            PgStore::connect_with(&url, &PgStoreOptions::default().max_connections(4)).await?;
        let spec = cube_spec(&args)?;
        let verified = generate(&store, &args, &spec).await?;
        sqlx::query("VACUUM ANALYZE cem_report_hours")
            .execute(store.pool())
            .await?;
        sizes(&store).await?;
        verify(&store, &spec, &verified, &args).await?;
        time_queries(&store, &args).await?;
        store.close().await;
        anyhow::Ok(())
    }
    .await;
    if args.keep {
        println!("kept database {}", args.database);
    } else {
        drop_database(&args.pg, &args.database).await?;
        println!("dropped database {}", args.database);
    }
    result
}
