//! # cem-survey
//!
//! CEM survey: survey definitions, triggers, responses, NPS/CSAT/CES metrics, text analytics and
//! closed-loop cases. The records themselves ([`Survey`](cem_core::Survey),
//! [`Invitation`](cem_core::Invitation), [`Response`](cem_core::Response),
//! [`Case`](cem_core::Case)) live in [`cem_core::survey`] with the
//! [`SurveyStore`](cem_core::SurveyStore) port; this crate holds their rules and does no IO.

pub mod text;

pub use cem_core;
