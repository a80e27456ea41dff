//! Surveys over time: every second, customers whose service finished are invited to the
//! surveys that ask for them; every minute, closed-loop cases past their deadline escalate.

use std::sync::Arc;
use std::time::Duration;

use cem_core::chrono::TimeDelta;
use cem_http::{AppState, SystemClock, SystemEntropy};
use cem_notify::{InviterStores, SurveyInviter};
use tokio::task::JoinHandle;

/// How often the inviter reads new events.
const INVITE_EVERY: Duration = Duration::from_secs(1);

/// How often overdue cases are looked for.
const ESCALATE_EVERY: TimeDelta = TimeDelta::minutes(1);

/// Events the inviter reads per pass at most.
const PAGE: usize = 500;

/// Runs the inviter every second and the escalation every minute until the returned task is
/// aborted; `public_url` starts the survey links.
pub(crate) fn start_surveys(state: &AppState, public_url: String) -> JoinHandle<()> {
    let stores = state.stores();
    let inviter = SurveyInviter::new(
        Arc::clone(&stores.events),
        Arc::clone(state.queue()),
        InviterStores {
            contacts: Arc::clone(&stores.contacts),
            surveys: Arc::clone(&stores.surveys),
            outbox: Arc::clone(&stores.outbox),
        },
        Arc::new(SystemClock),
        Arc::new(SystemEntropy),
        public_url,
        PAGE,
    );
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INVITE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut escalated_at = None;
        loop {
            tick.tick().await;
            match inviter.catch_up().await {
                Ok(pass) if pass.invited > 0 => {
                    tracing::info!(invited = pass.invited, "customers invited to surveys");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot invite to surveys; retrying"),
            }
            let now = state.now();
            if escalated_at.is_none_or(|at| now - at >= ESCALATE_EVERY) {
                escalated_at = Some(now);
                if let Err(e) = escalate(&state).await {
                    tracing::warn!(error = %e, "cannot escalate overdue cases; retrying");
                }
            }
        }
    })
}

/// Escalates every organization's overdue cases.
pub(crate) async fn escalate(state: &AppState) -> anyhow::Result<()> {
    for organization in state.stores().org.organizations().await? {
        let escalated = state.surveys().escalate_overdue(organization.id).await?;
        for case in escalated {
            tracing::warn!(
                case = %case.id,
                branch = %case.branch,
                escalations = case.escalations,
                "a feedback case passed its deadline unresolved"
            );
        }
    }
    Ok(())
}
