//! waybill, the application: the one crate that names carriers and wires them into the
//! engine, the store and the server.
//!
//! | module | concept |
//! |---|---|
//! | [`cli`] | global flags, the [`Command`](cli::Command) enum, the process entry point |
//! | [`cmd`] | one module per subcommand: its arguments and `run(ctx, args, out)` |
//! | [`context`] | the lazy context: configuration read, and secrets resolved, only when asked |
//! | [`carriers`] | the one place adapters are built and handed on as ports |
//! | [`config`] | `waybill.toml` + `WAYBILL_…` overrides, secrets from env or files |
//! | [`exit`] | [`Failure`](exit::Failure) and the one kind → exit code / JSON `code` table |
//! | [`output`] | tables for people, one JSON document for scripts (the API's shapes) |

pub mod carriers;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod context;
pub mod exit;
pub mod output;
