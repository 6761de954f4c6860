//! The schema migrations, embedded in the binary.
//!
//! `sqlx::migrate!` needs sqlx's `macros` feature, which the workspace leaves off so the build
//! never touches a database; the same files are embedded with `include_str!` instead. Files
//! follow sqlx's `<version>_<description>.sql` convention and the checksums are computed the
//! same way, so switching to `migrate!("./migrations")` later is a drop-in change.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{SqlStr, SqlitePool};

use crate::StoreError;

/// (version, description, SQL) of every migration, oldest first. Never edit an entry once
/// released: add a new file and a new line.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/0001_init.sql")),
    (2, "milestone", include_str!("../../migrations/0002_milestone.sql")),
    (3, "fingerprint", include_str!("../../migrations/0003_fingerprint.sql")),
    (4, "quarantine", include_str!("../../migrations/0004_quarantine.sql")),
    (5, "outbound_webhooks", include_str!("../../migrations/0005_outbound_webhooks.sql")),
    (6, "event_order", include_str!("../../migrations/0006_event_order.sql")),
    (7, "refresh_schedule", include_str!("../../migrations/0007_refresh_schedule.sql")),
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

/// Brings the database's schema up to date.
pub(super) async fn run(pool: &SqlitePool) -> Result<(), StoreError> {
    migrator().run(pool).await?;
    Ok(())
}
