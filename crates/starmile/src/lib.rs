//! A typed, resilient client for the Starmile Partner API.
//!
//! The client is filled in by the Starmile adapter issue; today this crate exposes the
//! generated status map.

pub mod status_map;
