//! # cem-report
//!
//! CEM report: KPIs over the queue event history, live branch status, service-level alerts, staffing forecast and exports.
//!
//! This crate is a placeholder in the workspace layout: its model and rules arrive with their own
//! issue. Like every domain crate it will do no IO of its own and talk only to the ports of
//! [`cem_core`].

pub use cem_core;
