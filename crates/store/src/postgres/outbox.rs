//! The outbox of outbound webhooks on PostgreSQL: the shared queries (`crate::outbox`) with
//! the server's clock, a JSON list bound as one parameter, and `SKIP LOCKED`, so workers
//! claiming at the same moment take different deliveries instead of waiting on each other.

use sqlx::PgPool;

outbox_queries!(
    pool: PgPool,
    now: "(extract(epoch FROM now()) * 1000)::BIGINT",
    in_list: "IN (SELECT jsonb_array_elements_text($2::jsonb))",
    skip_locked: " FOR UPDATE SKIP LOCKED"
);
