//! [`ReportStore`] for [`MemoryStore`]: hour rows and cursors under the store's one lock, so a
//! write's cursor check and its rows are one step.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use cem_core::{
    CURSOR_MOVED, HourFigures, HourKey, ReportBatch, ReportGroup, ReportKey, ReportQuery,
    ReportStore, StoreError,
};

use crate::MemoryStore;

/// Hour rows by key, and cursors by name.
#[derive(Debug, Default)]
pub(crate) struct ReportTables {
    rows: BTreeMap<HourKey, HourFigures>,
    cursors: HashMap<String, u64>,
}

#[async_trait]
impl ReportStore for MemoryStore {
    async fn report_cursor(&self, cursor: &str) -> Result<u64, StoreError> {
        Ok(self
            .inner()
            .reports
            .cursors
            .get(cursor)
            .copied()
            .unwrap_or(0))
    }

    async fn write_report_days(&self, batch: &ReportBatch) -> Result<(), StoreError> {
        let mut inner = self.inner();
        let tables = &mut inner.reports;
        let at = tables.cursors.get(batch.cursor()).copied().unwrap_or(0);
        if at != batch.expected() {
            return Err(StoreError::Conflict {
                what: format!(
                    "{CURSOR_MOVED}: cursor {} is at {at}, not {}",
                    batch.cursor(),
                    batch.expected()
                ),
            });
        }
        let days = batch.days();
        tables
            .rows
            .retain(|k, _| !days.contains(&(k.branch, k.date)));
        for r in batch.rows() {
            tables.rows.insert(r.key, r.figures.clone());
        }
        tables.cursors.insert(batch.cursor().to_owned(), batch.to());
        Ok(())
    }

    async fn report(&self, query: &ReportQuery) -> Result<Vec<ReportGroup>, StoreError> {
        let inner = self.inner();
        let mut groups: BTreeMap<ReportKey, HourFigures> = BTreeMap::new();
        let branches: HashSet<_> = query.branches.iter().collect();
        let rows = (inner.reports.rows.iter())
            .filter(|(k, _)| branches.contains(&k.branch) && query.range.contains(k));
        for (k, f) in rows {
            groups.entry(query.by.key(k)).or_default().merge(f);
        }
        Ok(groups
            .into_iter()
            .map(|(key, figures)| ReportGroup { key, figures })
            .collect())
    }
}
