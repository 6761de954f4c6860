//! waybill's engine: moves carrier data into the store, over domain ports only.
//!
//! | module | concept |
//! |---|---|
//! | [`sync`] | drains each account's status feed (cursor committed with its rows) and refreshes first-leg tracking for parcels still moving |
//! | [`schedule`] | when each parcel's first leg is next looked up: sooner after news, later when idle, never once handed over |
//! | [`import`] | bulk order creation from CSV/JSONL: bounded concurrency, per-row errors, a journal for resumption |
//! | [`outbound`] | outbound webhooks: the store's outbox sent signed to each subscription, retried with backoff, at least once |
//!
//! The engine names no carrier: it is handed [`StatusFeed`](waybill_domain::StatusFeed)s,
//! a [`Tracker`](waybill_domain::Tracker) with its [`CarrierInfo`](waybill_domain::CarrierInfo),
//! and [`OrderDesk`](waybill_domain::OrderDesk)s, and writes through `waybill-store`'s ports.

pub mod import;
pub mod outbound;
pub mod schedule;
pub mod sync;
