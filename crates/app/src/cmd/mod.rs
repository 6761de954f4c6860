//! One module per subcommand (cargo's layout): each owns its clap arguments and a
//! `run(ctx, args, out)` that asks the [`Context`](crate::context::Context) for exactly the
//! configuration it uses.

pub mod completions;
pub mod config;
pub mod demo;
pub mod label;
pub mod openapi;
pub mod orders;
pub mod quarantine;
pub mod quote;
pub mod rates;
pub mod sandbox;
pub mod serve;
pub mod services;
pub mod store;
pub mod sync;
pub mod timeline;
pub mod track;

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
