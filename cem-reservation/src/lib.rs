//! # cem-reservation
//!
//! CEM reservation: opening plans, slot generation, bookings, check-in into the queue and no-shows.
//!
//! This crate is a placeholder in the workspace layout: its model and rules arrive with their own
//! issue. Like every domain crate it will do no IO of its own and talk only to the ports of
//! [`cem_core`].

pub use cem_core;
