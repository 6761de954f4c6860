//! The shared request budget: `per_window` slots per budget, each holding its last grant's
//! time (the database's clock). A grant takes a slot whose last grant is at least `window`
//! old, so any window of that length holds at most `per_window` grants — the sliding-window
//! rule a rate-limiting gateway applies — whichever process asks. `FOR UPDATE SKIP LOCKED`
//! lets concurrent askers take different slots without waiting for each other.

use std::time::Duration;

use sqlx::PgPool;

use super::codec;
use crate::{BudgetGrant, StoreError};

/// How long to wait when every free slot was being taken by someone else at that instant.
const CONTENDED: Duration = Duration::from_millis(2);

/// See [`crate::RateBudget::try_take`].
pub(super) async fn try_take(
    pool: &PgPool,
    budget: &str,
    per_window: u32,
    window: Duration,
) -> Result<BudgetGrant, StoreError> {
    let per_window = i32::try_from(per_window.max(1)).unwrap_or(i32::MAX);
    for _ in 0..2 {
        let (granted, slots, wait): (i64, i64, Option<f64>) = sqlx::query_as(
            "WITH free AS (
                 SELECT slot FROM rate_slots
                  WHERE budget = $1 AND slot < $2
                    AND granted_at <= clock_timestamp() - $3 * interval '1 microsecond'
                  ORDER BY granted_at
                  LIMIT 1
                  FOR UPDATE SKIP LOCKED),
             taken AS (
                 UPDATE rate_slots r SET granted_at = clock_timestamp()
                   FROM free WHERE r.budget = $1 AND r.slot = free.slot
                 RETURNING r.slot)
             SELECT (SELECT count(*) FROM taken),
                    (SELECT count(*) FROM rate_slots WHERE budget = $1 AND slot < $2),
                    (SELECT extract(epoch FROM min(granted_at)
                                 + $3 * interval '1 microsecond' - clock_timestamp())::float8
                       FROM rate_slots WHERE budget = $1 AND slot < $2)",
        )
        .bind(budget)
        .bind(per_window)
        .bind(codec::micros(window))
        .fetch_one(pool)
        .await?;
        if granted > 0 {
            return Ok(BudgetGrant::Granted);
        }
        if slots >= i64::from(per_window) {
            let wait = wait
                .filter(|w| w.is_finite() && *w > 0.0)
                .map_or(CONTENDED, |w| Duration::from_secs_f64(w).max(CONTENDED));
            return Ok(BudgetGrant::Wait(wait));
        }
        // First use of this budget (or a larger rate than before): create its slots, as
        // long free, then ask again.
        sqlx::query(
            "INSERT INTO rate_slots (budget, slot, granted_at)
             SELECT $1, g, 'epoch' FROM generate_series(0, $2 - 1) AS g
             ON CONFLICT DO NOTHING",
        )
        .bind(budget)
        .bind(per_window)
        .execute(pool)
        .await?;
    }
    Ok(BudgetGrant::Wait(CONTENDED))
}
