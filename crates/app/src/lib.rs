//! waybill, the application: CLI, configuration, durable store, sync engine, bulk import and
//! the demo. Carriers meet here and only here.

pub mod cli;
mod commands;
pub mod config;
pub mod demo;
pub mod import;
pub mod legs;
pub mod output;
pub mod serve;
pub mod store;
pub mod sync;
