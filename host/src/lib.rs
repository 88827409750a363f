//! Bazaar: turns a SaaS product into a platform. See `DESIGN.md` for the map.

pub mod api;
pub mod bench;
pub mod capabilities;
pub mod catalog;
pub mod config;
pub mod demo;
pub mod events;
pub mod installs;
pub mod oauth;
pub mod platform;
pub mod runtime;
pub mod sandbox;
pub mod scaffold;
pub mod server;
pub mod store;
pub mod web;
pub mod webhooks;
