//! [`Background`]: the port through which a service hands off work that no caller should wait
//! for.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A unit of background work.
pub type BackgroundTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Runs work that no caller should wait for, such as writing a snapshot of a large state.
///
/// The work may keep a CPU busy for a while before it awaits anything, so a host should run it
/// off the threads that serve requests (the reference server uses tokio's blocking pool). Work
/// handed over is best effort: a host that stops may drop it.
pub trait Background: Send + Sync + fmt::Debug + 'static {
    /// Starts `task` and returns at once.
    fn run(&self, task: BackgroundTask);
}
