//! Live updates over server-sent events, fed by the event bus and resumable.
//!
//! One [`Hub`] per server subscribes to the bus, closes every gap from the store's global
//! history (so what it passes on is complete and in position order) and projects each event
//! once: whole for staff, without ticket ids or personal data for everyone else. Each client
//! stream takes the hub's events for its branch (and ticket or counter, when it asks); the SSE
//! `id` of each message is the event's global position, so a client that reconnects with
//! `Last-Event-ID` (or `?after=`) first gets what it missed, read from the store.
//!
//! A screen's stream is a branch stream whose calls and recalls also carry their
//! announcement in the screen's language, scheduled by an [`Announcer`]: see there how the
//! schedule stays the same on every instance and across reconnections.
//!
//! A staff stream (not filtered to one ticket) also carries the branch's service-level
//! alerts as `alert` messages without an `id` (see [`crate::reports::alerts`]): they are not
//! events of the store, so a client that reconnects reads the alerts still active from
//! `GET /api/v1/branches/{branch}/live` instead of having them replayed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use cem_core::chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use cem_core::chrono_tz::Tz;
use cem_core::{
    BranchId, CounterId, Delivery, EventBus, Language, QueueEventStore, QueueEventStoreExt,
    RecordedEvent, StoreError, TicketId, business_day,
};
use cem_queue::service::decode;
use cem_queue::{QueueEvent, QueueService, display_number};
use cem_signage::{Announcement, AnnouncementQueue, Scheduled, ScreenCall, announcement};
use futures::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::queue::public_event;
use crate::reports::alerts::AlertMessage;
use crate::state::AppState;

/// An event ready to send: both projections, and what clients filter on.
#[derive(Debug)]
pub(crate) struct LiveEvent {
    position: u64,
    pub(crate) branch: BranchId,
    /// The branch stream's version after the event.
    pub(crate) version: u64,
    /// When it happened.
    at: DateTime<Utc>,
    ticket: Option<TicketId>,
    counter: Option<CounterId>,
    /// A call or recall, as a screen learns of it.
    call: Option<ScreenCall>,
    /// The message for staff.
    staff: String,
    /// The message for everyone else.
    public: String,
}

/// Turns recorded events into live events.
///
/// It keeps the display number of every ticket it sees issued, until the ticket leaves the
/// queue, so the hub projects an event without waiting for its branch's state (which commands
/// hold while they append); only tickets issued before it started are looked up there.
#[derive(Debug, Default)]
pub(crate) struct Projector {
    displays: HashMap<TicketId, Arc<str>>,
}

/// Display numbers kept at most; past that the projector forgets them and looks them up again.
const DISPLAYS_KEPT: usize = 1 << 20;

impl Projector {
    /// Projects recorded events of any branches, keeping their order.
    pub(crate) async fn project(
        &mut self,
        queue: &QueueService,
        events: Vec<RecordedEvent>,
    ) -> Vec<LiveEvent> {
        let mut out = Vec::with_capacity(events.len());
        let mut run: Vec<RecordedEvent> = Vec::new();
        for e in events {
            if run.last().is_some_and(|l| l.branch != e.branch) {
                self.project_branch(queue, std::mem::take(&mut run), &mut out)
                    .await;
            }
            run.push(e);
        }
        self.project_branch(queue, run, &mut out).await;
        out
    }

    /// Projects a run of events of one branch.
    async fn project_branch(
        &mut self,
        queue: &QueueService,
        events: Vec<RecordedEvent>,
        out: &mut Vec<LiveEvent>,
    ) {
        let Some(branch) = events.first().map(|e| e.branch) else {
            return;
        };
        // A branch this server does not know (another instance's new branch) has nothing to show.
        let Some(config) = queue.config(branch) else {
            return;
        };
        let events: Vec<(RecordedEvent, QueueEvent)> = events
            .into_iter()
            .filter_map(|r| decode(&r).ok().map(|e| (r, e)))
            .collect();
        for (_, event) in &events {
            if let QueueEvent::TicketIssued {
                ticket,
                service,
                number,
                ..
            } = event
                && let Some(service) = config.service(*service)
            {
                let display = display_number(&service.prefix, *number);
                self.displays.insert(*ticket, display.into());
            }
        }
        let missing: Vec<TicketId> = events
            .iter()
            .filter_map(|(_, e)| e.ticket())
            .filter(|t| !self.displays.contains_key(t))
            .collect();
        if let (false, Some((last, _))) = (missing.is_empty(), events.last()) {
            let found = queue
                .read_at(branch, last.version, |q| {
                    missing
                        .iter()
                        .filter_map(|t| Some((*t, Arc::from(q.ticket(*t)?.display.as_str()))))
                        .collect::<Vec<_>>()
                })
                .await;
            self.displays.extend(found.unwrap_or_default());
        }
        for (r, event) in events {
            let ticket = event.ticket();
            let display = ticket.and_then(|t| self.displays.get(&t).cloned());
            let message = |body: serde_json::Value| {
                serde_json::json!({
                    "position": r.position,
                    "branch": r.branch,
                    "version": r.version,
                    "at": r.at,
                    "event": body,
                })
                .to_string()
            };
            let counter = r
                .payload
                .get("counter")
                .and_then(|c| c.as_str())
                .and_then(|c| c.parse().ok());
            let call = match &event {
                QueueEvent::TicketCalled { counter, .. }
                | QueueEvent::TicketRecalled { counter, .. } => {
                    config.counter(*counter).map(|c| ScreenCall {
                        display: display.as_deref().unwrap_or_default().to_owned(),
                        counter: c.number,
                        service: None,
                        called_at: r.at,
                    })
                }
                _ => None,
            };
            out.push(LiveEvent {
                position: r.position,
                branch: r.branch,
                version: r.version,
                at: r.at,
                ticket,
                counter,
                call,
                public: message(public_event(&config, &event, display.as_deref())),
                staff: message(r.payload),
            });
            if let (Some(t), true) = (ticket, leaves_queue(&event)) {
                self.displays.remove(&t);
            }
        }
        if self.displays.len() > DISPLAYS_KEPT {
            self.displays.clear();
        }
    }
}

/// After this event nothing more happens to its ticket.
fn leaves_queue(event: &QueueEvent) -> bool {
    matches!(
        event,
        QueueEvent::ServiceFinished { .. }
            | QueueEvent::TicketNoShow { .. }
            | QueueEvent::TicketCancelled { .. }
    )
}

/// The server's single subscriber to the bus.
#[derive(Debug)]
pub(crate) struct Hub {
    sender: broadcast::Sender<Arc<LiveEvent>>,
    /// The last position passed on (0 before the first).
    last: Arc<AtomicU64>,
}

impl Hub {
    /// Starts the hub's task; it ends when the bus is gone and the hub is dropped.
    pub(crate) fn start(
        store: Arc<dyn QueueEventStore>,
        bus: Arc<dyn EventBus>,
        queue: Arc<QueueService>,
    ) -> Self {
        let (sender, _) = broadcast::channel(4096);
        let last = Arc::new(AtomicU64::new(0));
        let weak = sender.downgrade();
        let position = Arc::clone(&last);
        tokio::spawn(async move {
            let mut projector = Projector::default();
            loop {
                let mut subscription = match bus.subscribe().await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "live hub cannot subscribe; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                // Whatever was published while (re)subscribing is read from the store.
                let mut missed = position.load(Ordering::Acquire) > 0;
                loop {
                    let Some(sender) = weak.upgrade() else { return };
                    let last = position.load(Ordering::Acquire);
                    let batch = if missed {
                        missed = false;
                        match store.read_all_after(last).await {
                            Ok(events) => events,
                            Err(e) => {
                                tracing::warn!(error = %e, "live hub cannot catch up; retrying");
                                missed = true;
                                tokio::time::sleep(Duration::from_millis(200)).await;
                                continue;
                            }
                        }
                    } else {
                        drop(sender);
                        match subscription.next().await {
                            None => break,
                            Some(Delivery::Gap) => {
                                missed = last > 0;
                                continue;
                            }
                            Some(Delivery::Event(e)) if e.position <= last => continue,
                            Some(Delivery::Event(e)) if last > 0 && e.position > last + 1 => {
                                missed = true;
                                continue;
                            }
                            Some(Delivery::Event(e)) => vec![e],
                        }
                    };
                    let Some(sender) = weak.upgrade() else { return };
                    for live in projector.project(&queue, batch.clone()).await {
                        let _ = sender.send(Arc::new(live));
                    }
                    if let Some(e) = batch.last() {
                        position.store(e.position, Ordering::Release);
                    }
                }
                tracing::warn!("live hub lost the bus; resubscribing");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Self { sender, last }
    }

    /// Every event the hub passes on from now.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.sender.subscribe()
    }

    /// The last position the hub passed on.
    pub(crate) fn position(&self) -> u64 {
        self.last.load(Ordering::Acquire)
    }
}

/// What a live client asks for.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveQuery {
    /// Resume after this global position (the last SSE `id` seen); `Last-Event-ID` wins.
    pub after: Option<u64>,
    /// Only events of this ticket.
    #[param(value_type = Option<String>)]
    pub ticket: Option<TicketId>,
    /// Only events at this counter.
    #[param(value_type = Option<String>)]
    pub counter: Option<CounterId>,
}

struct Client {
    state: AppState,
    rx: broadcast::Receiver<Arc<LiveEvent>>,
    backlog: std::collections::VecDeque<Arc<LiveEvent>>,
    last: u64,
    branch: BranchId,
    query: LiveQuery,
    staff: bool,
    /// A `reset` message is due: the client must reload the status.
    reset: bool,
    stopping: tokio::sync::watch::Receiver<bool>,
    /// The server's alerts, for a staff stream.
    alerts: Option<broadcast::Receiver<Arc<AlertMessage>>>,
    /// A screen's stream: calls carry their announcement.
    announcer: Option<Announcer>,
}

impl Client {
    fn wants(&self, e: &LiveEvent) -> bool {
        e.branch == self.branch
            && e.position > self.last
            && self.query.ticket.is_none_or(|t| e.ticket == Some(t))
            && self.query.counter.is_none_or(|c| e.counter == Some(c))
    }

    /// Fills the backlog from the store after `self.last`, or asks for a reset when too much
    /// was missed.
    async fn catch_up(&mut self) {
        let limit = self.state.0.settings.resume_limit;
        let store = &self.state.0.stores.events;
        match store.read_all(self.last, limit).await {
            Ok(events) if events.len() < limit => {
                let ours: Vec<RecordedEvent> = events
                    .into_iter()
                    .filter(|e| e.branch == self.branch)
                    .collect();
                let projected = Projector::default()
                    .project(&self.state.0.queue, ours)
                    .await;
                self.backlog.extend(projected.into_iter().map(Arc::new));
            }
            _ => self.reset = true,
        }
    }

    async fn next(&mut self) -> Option<Event> {
        loop {
            if self.reset {
                self.reset = false;
                self.backlog.clear();
                self.last = self.state.0.hub.position();
                if let Some(announcer) = &mut self.announcer {
                    // Calls are skipped: the next one replays the day again.
                    announcer.forget();
                }
                return Some(Event::default().event("reset").data("{}"));
            }
            if let Some(e) = self.backlog.pop_front() {
                if self.wants(&e) {
                    self.last = e.position;
                    return Some(self.message(&e).await);
                }
                continue;
            }
            // Biased: an alert is sent after the event that raised it reached every receiver,
            // so a client holding both gets the event first.
            let received = tokio::select! {
                biased;
                r = self.rx.recv() => r,
                a = next_alert(&mut self.alerts) => {
                    match a {
                        Ok(a) if a.branch == self.branch => {
                            return Some(Event::default().event("alert").data(a.data.as_str()));
                        }
                        // Alerts missed are not replayed: `GET …/live` lists the active ones.
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => self.alerts = None,
                    }
                    continue;
                }
                _ = self.stopping.wait_for(|stop| *stop) => return None,
            };
            match received {
                Ok(e) => {
                    if self.wants(&e) {
                        self.last = e.position;
                        return Some(self.message(&e).await);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => self.catch_up().await,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    async fn message(&mut self, e: &LiveEvent) -> Event {
        let event = Event::default().id(e.position.to_string()).event("queue");
        if let Some(announcer) = &mut self.announcer
            && let Some(spoken) = announcer.schedule(&self.state, e).await
        {
            let mut data: serde_json::Value = serde_json::from_str(&e.public).unwrap_or_default();
            data["announcement"] = serde_json::to_value(&spoken).unwrap_or_default();
            return event.data(data.to_string());
        }
        event.data(if self.staff { &e.staff } else { &e.public })
    }
}

/// The next alert of the server, or never without a receiver.
async fn next_alert(
    alerts: &mut Option<broadcast::Receiver<Arc<AlertMessage>>>,
) -> Result<Arc<AlertMessage>, broadcast::error::RecvError> {
    match alerts {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// An announcement on a screen's stream: what is shown and said, and when.
#[derive(Debug, Serialize)]
struct Spoken {
    #[serde(flatten)]
    announcement: Announcement,
    #[serde(flatten)]
    at: Scheduled,
}

/// Schedules the announcements of a screen's stream, one at a time, never overlapping.
///
/// The schedule is a function of the branch's events alone: an [`AnnouncementQueue`] that
/// starts empty at the start of each local business day of the branch and takes every call
/// and recall of the branch in stream order, at the event's instant, for the
/// [estimated](cem_signage::speech_secs) length of its speech in the screen's language. A
/// stream that starts in the middle of a day, resumes, or skipped events (a `reset`) first
/// replays the day's earlier calls from the store. So every instance, and every reconnection,
/// gives a call the same `starts_at` and `ends_at` (events' instants never run backwards in a
/// stream, which makes the day's first event well defined).
#[derive(Debug)]
pub(crate) struct Announcer {
    language: Language,
    tz: Tz,
    queue: AnnouncementQueue,
    /// The business day the queue holds the calls of, once it has caught up.
    day: Option<NaiveDate>,
}

/// Events read at a time while replaying a day.
const REPLAY_PAGE: usize = 1_000;

impl Announcer {
    /// An announcer for a screen speaking `language` in a branch in the time zone `tz`.
    pub(crate) fn new(language: Language, tz: Tz) -> Self {
        Self {
            language,
            tz,
            queue: AnnouncementQueue::new(),
            day: None,
        }
    }

    /// Forgets what the queue holds: the next call replays its day.
    fn forget(&mut self) {
        self.day = None;
    }

    /// The announcement of `e` and when it plays, when `e` is a call.
    async fn schedule(&mut self, state: &AppState, e: &LiveEvent) -> Option<Spoken> {
        let call = e.call.as_ref()?;
        let day = business_day(self.tz, e.at).0;
        if self.day != Some(day) {
            self.queue = AnnouncementQueue::new();
            match self.replay(state, e.branch, day, e.version).await {
                Ok(()) => self.day = Some(day),
                // This call is scheduled on what was read; the next one tries the day again.
                Err(error) => tracing::warn!(
                    %error,
                    branch = %e.branch,
                    "cannot replay the day's calls; this announcement may overlap another"
                ),
            }
        }
        let spoken = announcement(&call.display, call.counter, &self.language);
        let at = self.queue.push_estimated(spoken.clone(), e.at);
        self.queue.prune(e.at);
        Some(Spoken {
            announcement: spoken,
            at,
        })
    }

    /// Pushes the calls of `branch` on `day` before version `before` into the queue.
    async fn replay(
        &mut self,
        state: &AppState,
        branch: BranchId,
        day: NaiveDate,
        before: u64,
    ) -> Result<(), StoreError> {
        let store = &state.0.stores.events;
        let start = day_start(self.tz, day);
        let low = first_version_at(store.as_ref(), branch, start, before).await?;
        let mut projector = Projector::default();
        let mut after = low - 1;
        while after + 1 < before {
            let limit = REPLAY_PAGE.min(usize::try_from(before - 1 - after).unwrap_or(REPLAY_PAGE));
            let page = store.read_stream(branch, after, limit).await?;
            let Some(last) = page.last() else { break };
            after = last.version;
            for live in projector.project(&state.0.queue, page).await {
                if let Some(call) = live.call {
                    let spoken = announcement(&call.display, call.counter, &self.language);
                    self.queue.push_estimated(spoken, live.at);
                    self.queue.prune(live.at);
                }
            }
        }
        Ok(())
    }
}

/// The version of the first event of `branch`'s stream at or after `start`, among the
/// versions below `before` (`before` when none is), found by halving: instants never run
/// backwards in a stream. Reads one event per halving, about log₂(`before`) reads.
///
/// # Errors
/// The store's.
pub(crate) async fn first_version_at(
    store: &dyn QueueEventStore,
    branch: BranchId,
    start: DateTime<Utc>,
    before: u64,
) -> Result<u64, StoreError> {
    let (mut low, mut high) = (1, before.max(1));
    while low < high {
        let middle = low + (high - low) / 2;
        match store.read_stream(branch, middle - 1, 1).await?.first() {
            Some(r) if r.at < start => low = middle + 1,
            _ => high = middle,
        }
    }
    Ok(low)
}

/// The first instant of the local date `day` in `tz` (midnight, or the first hour that exists
/// when a daylight-saving change skips midnight).
pub(crate) fn day_start(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    (0..=3)
        .find_map(|h| {
            tz.from_local_datetime(&day.and_hms_opt(h, 0, 0)?)
                .earliest()
        })
        .map_or_else(
            || day.and_time(NaiveTime::MIN).and_utc(),
            |d| d.with_timezone(&Utc),
        )
}

/// Where a client resumes: `Last-Event-ID`, else `?after=`.
pub(crate) fn resume_from(headers: &HeaderMap, after: Option<u64>) -> Option<u64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .or(after)
}

/// A branch's live stream for one client, from after position `resume` (from now when
/// `None`): staff get events whole, others their public projection; with an [`Announcer`],
/// calls carry their announcement.
pub(crate) async fn stream(
    state: AppState,
    branch: BranchId,
    query: LiveQuery,
    resume: Option<u64>,
    staff: bool,
    announcer: Option<Announcer>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe before reading the backlog, so nothing falls between the two.
    let rx = state.0.hub.subscribe();
    // Alerts are for staff, never for screens or the public; a stream of one ticket has no
    // use for them.
    let alerts = (staff && announcer.is_none() && query.ticket.is_none())
        .then(|| state.0.alerts.subscribe());
    let mut client = Client {
        alerts,
        rx,
        backlog: Default::default(),
        last: 0,
        branch,
        staff,
        query,
        reset: false,
        stopping: state.0.stopping.subscribe(),
        announcer,
        state,
    };
    if let Some(after) = resume {
        client.last = after;
        client.catch_up().await;
    } else {
        client.last = client.state.0.hub.position();
    }
    let stream =
        futures::stream::unfold(
            client,
            |mut c| async move { c.next().await.map(|e| (Ok(e), c)) },
        );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// The live event stream of a branch (server-sent events). Each message has the event's global
/// position as its `id`; reconnect with `Last-Event-ID` to miss nothing. Staff get events
/// whole; devices and the public get display numbers and counter numbers instead of ids. A
/// `reset` message means too much was missed: reload the status, then go on. Staff streams
/// not filtered to one ticket also get `alert` messages, without an `id`, when a service's
/// wait passes a limit (`"change": "raised"`) and when it is back under it (`"cleared"`),
/// with `service`, `kind`, `limit_secs`, `longest_wait_secs`, `waiting` and `at`; alerts are
/// not replayed on reconnection: `GET /api/v1/branches/{branch}/live` lists those active.
#[utoipa::path(get, path = "/api/v1/branches/{branch}/events", tag = "live",
    params(("branch" = String, Path), LiveQuery),
    responses((status = 200, content_type = "text/event-stream", description = "queue events")))]
pub(crate) async fn events(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(branch): Path<BranchId>,
    Query(query): Query<LiveQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let staff = principal.role.is_staff();
    let resume = resume_from(&headers, query.after);
    Ok(stream(state, branch, query, resume, staff, None).await)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cem_core::{QueueEventStore, QueueEventStoreExt, TicketId};
    use cem_queue::testing::branch_config;
    use cem_queue::{Command, IssueTicket, QueueService, ServiceOptions, TicketSource};
    use cem_store_memory::MemoryStore;

    use super::{Projector, day_start};

    #[tokio::test]
    async fn projects_display_numbers_whether_or_not_it_saw_the_issue() {
        let config = branch_config(1, 1);
        let (branch, service, counter) = (
            config.branch.id,
            config.services[0].id,
            config.counters[0].id,
        );
        let store: Arc<dyn QueueEventStore> = Arc::new(MemoryStore::new());
        let queue = QueueService::new(Arc::clone(&store), None, ServiceOptions::default());
        queue.add_branch(config).unwrap();
        let now = "2026-11-28T08:00:00Z".parse().unwrap();
        let ticket = TicketId::from_u128(7);
        for command in [
            Command::OpenCounter {
                counter,
                agent: None,
            },
            Command::Issue(IssueTicket {
                ticket,
                service,
                class: None,
                source: TicketSource::Kiosk,
                customer: None,
                appointment_at: None,
            }),
            Command::CallNext { counter },
            Command::Finish { counter },
        ] {
            queue.execute(branch, &command, now).await.unwrap();
        }
        let events = store.read_all_after(0).await.unwrap();
        let display = |e: &super::LiveEvent| {
            let public: serde_json::Value = serde_json::from_str(&e.public).unwrap();
            assert!(public["event"].get("ticket").is_none(), "{public}");
            public["event"]["display"].as_str().map(str::to_owned)
        };

        // A projector that saw the issue knows the number, and forgets it when the ticket leaves.
        let mut seen = Projector::default();
        let all = seen.project(&queue, events.clone()).await;
        assert_eq!(all.len(), 4);
        assert_eq!(display(&all[0]), None, "a counter event has no ticket");
        for e in &all[1..] {
            assert_eq!(display(e).as_deref(), Some("A-001"));
        }
        assert!(seen.displays.is_empty());

        // One that starts after the issue looks the ticket up in the branch's state.
        let called = events[2..3].to_vec();
        let late = Projector::default().project(&queue, called).await;
        assert_eq!(display(&late[0]).as_deref(), Some("A-001"));
        assert!(late[0].counter.is_some() && late[0].ticket == Some(ticket));
    }

    #[test]
    fn a_day_starts_at_local_midnight_or_the_first_hour_that_exists() {
        use cem_core::chrono::{NaiveDate, Utc};
        let utc = |s: &str| s.parse::<cem_core::chrono::DateTime<Utc>>().unwrap();
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let berlin = cem_core::chrono_tz::Europe::Berlin;
        assert_eq!(
            day_start(berlin, date(2026, 12, 2)),
            utc("2026-12-01T23:00:00Z")
        );
        assert_eq!(
            day_start(berlin, date(2026, 7, 2)),
            utc("2026-07-01T22:00:00Z")
        );
        // Havana springs forward at midnight: 2026-03-08 starts at 01:00 local (UTC−4).
        let havana = cem_core::chrono_tz::America::Havana;
        assert_eq!(
            day_start(havana, date(2026, 3, 8)),
            utc("2026-03-08T05:00:00Z")
        );
    }
}
