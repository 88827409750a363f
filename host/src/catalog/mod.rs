//! The app catalog: apps, their versions and manifests, review, search and ratings.

pub mod apps;
pub mod manifest;
pub mod media;
pub mod publishers;
pub mod review;
pub mod search;
pub mod trigger_spec;
