//! The app catalog: apps, their versions and manifests, review, search and ratings.

pub mod manifest;
