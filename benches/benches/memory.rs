//! Bytes per waiting ticket: heap bytes held by a branch queue with 10⁶ waiting tickets (record,
//! lines, id index and all), divided by the number of tickets. The goal is at most 512.
//!
//! Two readings: the bytes the queue asked the allocator for and still holds (a counting global
//! allocator around the system one, `cap`), and the growth of the process's resident set
//! (`VmRSS` in /proc/self/status), which adds the allocator's own overhead and slack.
//!
//! `cargo bench -p cem-benches --bench memory` prints `bytes_per_waiting_ticket: N` (and
//! `rss_bytes_per_waiting_ticket: N`); a count may follow (`-- 100000`). Without `--bench` (as
//! `cargo test --benches` runs it) it measures 10⁴ tickets.

use std::alloc::System;

use cap::Cap;
use cem_benches::Bed;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// The resident set of this process in bytes, where /proc tells it.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let tickets = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(if bench { 1_000_000 } else { 10_000 });

    let heap_before = ALLOCATOR.allocated();
    let rss_before = rss_bytes();
    let bed = Bed::branch(tickets);
    let heap_after = ALLOCATOR.allocated();
    let rss_after = rss_bytes();
    assert_eq!(bed.waiting() as usize, tickets);

    let per_ticket = |bytes: u64| bytes.div_ceil(tickets as u64);
    println!("waiting_tickets: {tickets}");
    println!(
        "ticket_struct_bytes: {}",
        std::mem::size_of::<cem_queue::Ticket>()
    );
    println!(
        "bytes_per_waiting_ticket: {}",
        per_ticket((heap_after - heap_before) as u64)
    );
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        println!(
            "rss_bytes_per_waiting_ticket: {}",
            per_ticket(after.saturating_sub(before))
        );
    }
    drop(bed);
}
