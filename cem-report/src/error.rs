//! Errors of reports.

use cem_core::chrono::{DateTime, Utc};
use cem_queue::ServiceError;
use cem_queue::sim::SimError;
use thiserror::Error;

/// Why a report could not be built. Nothing is changed by a refused call.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The report window ends before it starts.
    #[error("the window ends at {to}, before it starts at {from}")]
    EmptyWindow {
        /// Start.
        from: DateTime<Utc>,
        /// End.
        to: DateTime<Utc>,
    },
    /// Two groupings of one fold give keys of the same kind (two `HourOfDay` in different
    /// time zones), whose groups would mix.
    #[error("grouping by {kind} is asked twice")]
    DuplicateGrouping {
        /// The kind of key (`hour`, `day`…).
        kind: &'static str,
    },
    /// Folds (or cubes) of different specifications cannot be merged.
    #[error("only reports of the same specification merge")]
    SpecMismatch,
    /// A stored event does not decode as a queue event.
    #[error(transparent)]
    Decode(#[from] ServiceError),
    /// A forecast or what-if input is out of its range.
    #[error("{field} must be {expected}, not {value}")]
    OutOfRange {
        /// The input (`service_level`, `mean_service_secs`…).
        field: &'static str,
        /// What it must be (`in (0, 1)`, `positive`…).
        expected: &'static str,
        /// What was given.
        value: f64,
    },
    /// The simulator refused the what-if scenario.
    #[error(transparent)]
    Simulation(#[from] SimError),
}
