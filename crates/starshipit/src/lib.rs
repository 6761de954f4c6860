//! A typed, rate-limited client for the StarShipIT tracking API.
//!
//! The client is filled in by the StarShipIT adapter issue; today this crate exposes the
//! generated status map.

pub mod status_map;
