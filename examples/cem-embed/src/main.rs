//! Embedding the CEM queue in another product, in memory.
//!
//! A vendor's kiosk or counter software can run CEM's queue in-process: the [`QueueService`]
//! over an in-memory store and an in-process bus. Swap `MemoryStore` for the SQLite or
//! PostgreSQL store to make it durable; nothing else changes.
//!
//! ```sh
//! cargo run -p cem-embed
//! ```

use std::sync::Arc;

use cem_bus_local::LocalBus;
use cem_core::{Delivery, EventBus, TicketId};
use cem_queue::{Command, IssueTicket, QueueService, ServiceOptions, TicketSource};
use cem_store_memory::MemoryStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // One branch with two services and two counters; bring your own `BranchConfig`.
    let config = cem_queue::testing::branch_config(2, 2);
    let branch = config.branch.id;
    let store = Arc::new(MemoryStore::new());
    let bus = Arc::new(LocalBus::new(1024));
    let queue = QueueService::new(store, Some(bus.clone()), ServiceOptions::default());
    queue.add_branch(config.clone())?;

    // A screen would subscribe like this and show each call.
    let mut screen = bus.subscribe().await?;
    let display = tokio::spawn(async move {
        while let Some(delivery) = screen.next().await {
            if let Delivery::Event(e) = delivery {
                println!("bus  #{:<3} {}", e.position, e.kind);
            }
        }
    });

    let now = chrono::Utc::now();
    let counter = config.counters[0].id;
    queue
        .execute(
            branch,
            &Command::OpenCounter {
                counter,
                agent: None,
            },
            now,
        )
        .await?;
    for (n, service) in [(1, 0), (2, 1), (3, 0)] {
        let issue = Command::Issue(IssueTicket {
            ticket: TicketId::from_u128(n),
            service: config.services[service].id,
            class: None,
            source: TicketSource::Kiosk,
            customer: None,
            appointment_at: None,
        });
        queue.execute(branch, &issue, now).await?;
    }
    let called = queue
        .execute(branch, &Command::CallNext { counter }, now)
        .await?;
    let ticket = called[0].event.ticket().expect("a call names its ticket");
    let (display_number, waiting, estimates) = queue
        .read(branch, |q| {
            (
                q.ticket(ticket).map(|t| t.display.clone()),
                q.total_waiting(),
                q.estimates(now),
            )
        })
        .await?;
    println!(
        "called {} to counter {}; {waiting} waiting",
        display_number.unwrap_or_default(),
        config.counters[0].number
    );
    for e in estimates {
        println!(
            "  {} ahead, about {:.0} s",
            e.ahead,
            e.wait_secs.unwrap_or(0.0)
        );
    }
    drop(queue);
    drop(bus);
    display.await?;
    Ok(())
}
