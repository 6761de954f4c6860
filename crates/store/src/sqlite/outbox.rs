//! The outbox of outbound webhooks on SQLite: the shared queries (`crate::outbox`) with
//! SQLite's clock, its JSON list binding, and no row locks (SQLite has one writer).

use sqlx::SqlitePool;

outbox_queries!(
    pool: SqlitePool,
    now: "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
    in_list: "IN (SELECT value FROM json_each($2))",
    skip_locked: ""
);
