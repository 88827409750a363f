//! Black-box tests of `/v1` and the `bazaar` command: a real server on an ephemeral port, real
//! HTTP, and every storage-touching test run on both SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)]

mod billing;
mod catalog;
mod cli;
mod connections;
mod contracts;
mod credentials;
mod delivery;
mod errors;
mod extensions;
#[path = "../common/guests.rs"]
mod guests;
mod integrations;
mod isolation;
mod languages;
mod layout;
mod marketplace;
mod nodes;
mod oauth;
mod openapi;
mod projects;
mod receiver;
mod recordings;
mod standin;
mod store;
mod support;
mod tasks;
mod throttle;
mod vendor;
mod web;
