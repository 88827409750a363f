//! Event delivery: every outbox event reaches each subscriber at least once, on one node or
//! many.
//!
//! - [`fanout`] turns new events into deliveries (one per event, subscriber and target).
//! - [`queue`] claims them with leases, stores attempts and results, replays dead letters.
//! - [`dispatcher`] runs the workers: bounded concurrency, plugin runs in the sandbox, signed
//!   webhooks, retries on a jittered schedule, graceful shutdown.
//! - [`analytics`] adds up usage per installation and hour.

pub mod analytics;
pub mod dispatcher;
pub mod fanout;
pub mod queue;
pub mod schedule;

pub use dispatcher::{Dispatcher, Services};
