//! Outbound HTTP to the world: which addresses may be reached, Standard Webhooks signing,
//! sending one webhook, per-subscriber signing secrets, and Zapier-style REST hook
//! subscriptions. The delivery engine (`crate::events`) decides when to send.

pub mod address;
pub mod keys;
pub mod rest_hooks;
pub mod sender;
pub mod signing;
