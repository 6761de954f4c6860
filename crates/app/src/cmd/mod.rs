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
pub mod webhooks;

/// Which signal asked a command to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C (SIGINT): a person interrupted the command (exit 130 where the README says so).
    Interrupt,
    /// SIGTERM: a supervisor's orderly stop (exit 0 once the work is committed).
    Terminate,
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let _ = stop_signal().await;
}

/// Resolves on Ctrl-C or SIGTERM, saying which.
pub async fn stop_signal() -> Stop {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return Stop::Interrupt;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => Stop::Interrupt,
            _ = term.recv() => Stop::Terminate,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        Stop::Interrupt
    }
}
