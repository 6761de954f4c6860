//! The PostgreSQL schema migrations, embedded in the binary (`migrations/postgres/`), the
//! same way as SQLite's: `include_str!` with sqlx's checksums, so no build touches a database.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{PgPool, SqlStr};

use crate::StoreError;

/// (version, description, SQL) of every migration, oldest first. Never edit an entry once
/// released: add a new file and a new line.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/postgres/0001_init.sql")),
    (2, "milestone", include_str!("../../migrations/postgres/0002_milestone.sql")),
    (3, "fingerprint", include_str!("../../migrations/postgres/0003_fingerprint.sql")),
    (4, "quarantine", include_str!("../../migrations/postgres/0004_quarantine.sql")),
    (5, "outbound_webhooks", include_str!("../../migrations/postgres/0005_outbound_webhooks.sql")),
    (6, "event_order", include_str!("../../migrations/postgres/0006_event_order.sql")),
    (7, "refresh_schedule", include_str!("../../migrations/postgres/0007_refresh_schedule.sql")),
];

/// The embedded migrator.
fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    SqlStr::from_static(sql),
                    false,
                )
            })
            .collect(),
    )
}

/// Brings the database's schema up to date. sqlx takes an advisory lock meanwhile, so
/// several workers starting at once migrate once.
pub(super) async fn run(pool: &PgPool) -> Result<(), StoreError> {
    migrator().run(pool).await?;
    Ok(())
}
