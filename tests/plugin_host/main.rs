//! Black-box tests of the plugin host: real components built from source (example plugins and
//! hostile test plugins), run by the production runtime in the local sandbox and by the CLI.

#![allow(clippy::unwrap_used)]

mod capabilities;
mod cli;
mod examples;
#[path = "../common/guests.rs"]
mod guests;
mod hostile;
mod languages;
mod replay;
mod support;
mod triggers;
mod ui;
