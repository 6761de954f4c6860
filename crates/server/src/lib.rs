//! waybill's HTTP server: one process that answers the JSON API (`/v1`), renders the public
//! tracking page (`/track/{number}`), receives carrier webhooks (`/webhooks/{carrier}`),
//! exports metrics and readiness, and keeps syncing in the background with the engine it is
//! handed. It names no carrier: accounts, trackers and webhook receivers arrive as domain
//! ports with their [`CarrierInfo`](waybill_domain::CarrierInfo).
//!
//! | module | concept |
//! |---|---|
//! | [`startup`] | [`bind`] ready dependencies to a socket, then [`Bound::run`] until shutdown |
//! | [`routes`] / [`router`] | the documented routes; the API-key guard and tower-http layers |
//! | [`state`] | what handlers share |
//! | [`api`] / [`model`] | the JSON API and its wire types (also the CLI's `--json` shapes) |
//! | [`parcels`] | the parcel API: update, add, cancel, split, PDF labels |
//! | [`error`] | the JSON error shape and its stable codes |
//! | [`auth`] | hashed API keys, constant-time comparison |
//! | [`page`] | the HTML tracking page, its 404 and 429 pages, per-client limits |
//! | [`webhooks`] | authenticated carrier webhooks into the timeline |
//! | [`metrics`] / [`ops`] | Prometheus metrics, `/healthz`, `/readyz` |
//! | [`openapi`] | the generated OpenAPI 3 document |
//!
//! Shutdown: the listener stops accepting, in-flight requests finish, the sync engine
//! finishes and commits its current page, then [`Bound::run`] returns.

mod accounts;
mod allow;
pub mod api;
pub mod auth;
pub mod cancel;
pub mod error;
pub mod imports;
pub mod metrics;
pub mod model;
pub mod openapi;
pub mod ops;
pub mod page;
pub mod parcels;
pub mod router;
pub mod routes;
pub mod startup;
pub mod state;
pub mod webhooks;

pub use startup::{Bound, Deps, ServerError, Settings, bind};
