//! The report projection's reading and writing: `cem-report`'s [`Projection`] fed from the
//! global history and written to the [`ReportStore`] (see its docs for what it folds).
//!
//! [`ReportProjector::catch_up`] reads the events after the projection's position a page at a
//! time and, after each page, writes the changed branch-days with the cursor in one
//! transaction. After a restart (or when another instance wrote first, or the branches'
//! zones and targets changed) it starts again from the stored cursor, replaying each
//! branch's day up to the cursor before that branch's first new event. Several instances may
//! run one each: the cursor's compare-and-set lets one write at a time, and the others start
//! again from where it got to.

use std::sync::Arc;

use cem_core::{BranchId, CURSOR_MOVED, QueueEventStore, ReportStore, StoreError};
use cem_report::projection::CURSOR;
use cem_report::{CubeSpec, Projection};

use crate::error::ApiError;
use crate::live::{day_start, first_version_at};
use crate::state::AppState;

/// Folds the global queue history into the report store's hour rows.
#[derive(Debug)]
pub struct ReportProjector {
    events: Arc<dyn QueueEventStore>,
    reports: Arc<dyn ReportStore>,
    projection: Option<Projection>,
    page: usize,
}

/// What a [`ReportProjector::catch_up`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caught {
    /// Events read after the cursor.
    pub events: u64,
    /// Batches written.
    pub batches: u64,
    /// The cursor after the pass.
    pub cursor: u64,
}

/// The zones and service targets of every branch of every organization.
///
/// # Errors
/// A store error, or a branch configuration the queue refuses.
pub async fn report_spec(state: &AppState) -> Result<CubeSpec, ApiError> {
    let org = &state.stores().org;
    let mut configs = Vec::new();
    for organization in org.organizations().await? {
        for branch in org.branches(organization.id).await? {
            configs.push(super::config_of(state, branch.id).await?);
        }
    }
    Ok(CubeSpec::of(&configs))
}

impl ReportProjector {
    /// A projector over these stores reading `page` events at a time; it reads the stored
    /// cursor at its first pass.
    pub fn new(
        events: Arc<dyn QueueEventStore>,
        reports: Arc<dyn ReportStore>,
        page: usize,
    ) -> Self {
        Self {
            events,
            reports,
            projection: None,
            page: page.max(1),
        }
    }

    /// Reads every event after the cursor and writes the branch-days they change, with the
    /// zones and targets of `spec` (a different spec than the last pass's starts again from
    /// the stored cursor).
    ///
    /// # Errors
    /// A store error; the next pass starts again from the stored cursor. A write refused
    /// because another projector moved the cursor is no error: the pass ends and the next
    /// starts from the new cursor.
    pub async fn catch_up(&mut self, spec: &CubeSpec) -> Result<Caught, StoreError> {
        let result = self.pass(spec).await;
        if result.is_err() {
            self.projection = None;
        }
        result
    }

    async fn pass(&mut self, spec: &CubeSpec) -> Result<Caught, StoreError> {
        if self.projection.as_ref().is_none_or(|p| p.spec() != spec) {
            let cursor = self.reports.report_cursor(CURSOR).await?;
            self.projection = Some(Projection::new(spec.clone(), cursor));
        }
        let mut caught = Caught::default();
        let Some(mut projection) = self.projection.take() else {
            return Ok(caught);
        };
        loop {
            let page = self
                .events
                .read_all(projection.position(), self.page)
                .await?;
            if page.is_empty() {
                break;
            }
            for e in &page {
                if let Some(date) = projection.needs_day(e) {
                    self.replay_day(&mut projection, e.branch, date).await?;
                }
                projection.apply(e);
            }
            caught.events += page.len() as u64;
            let batch = projection.batch(CURSOR).map_err(|e| StoreError::Backend {
                message: e.to_string(),
            })?;
            if let Some(batch) = batch {
                match self.reports.write_report_days(&batch).await {
                    Ok(()) => {
                        projection.written(&batch);
                        caught.batches += 1;
                    }
                    // Another projector got there first: start again from its cursor.
                    Err(StoreError::Conflict { what }) if what.contains(CURSOR_MOVED) => {
                        caught.cursor = self.reports.report_cursor(CURSOR).await?;
                        return Ok(caught);
                    }
                    Err(e) => return Err(e),
                }
            }
            if page.len() < self.page {
                break;
            }
        }
        caught.cursor = projection.position();
        self.projection = Some(projection);
        Ok(caught)
    }

    /// Replays `branch`'s events of its local day `date` up to the projection's cursor.
    async fn replay_day(
        &self,
        projection: &mut Projection,
        branch: BranchId,
        date: cem_core::chrono::NaiveDate,
    ) -> Result<(), StoreError> {
        let start = day_start(projection.spec().zone(branch), date);
        let version = self.events.stream_version(branch).await?;
        let mut after =
            first_version_at(self.events.as_ref(), branch, start, version + 1).await? - 1;
        let cursor = projection.position();
        while after < version {
            let page = self.events.read_stream(branch, after, self.page).await?;
            let Some(last) = page.last() else { break };
            after = last.version;
            for e in &page {
                if e.position > cursor {
                    return Ok(());
                }
                projection.replay(e);
            }
        }
        Ok(())
    }
}
