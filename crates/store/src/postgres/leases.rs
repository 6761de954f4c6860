//! Expiring leases on named work (`pool:<account>`): taken when free or expired, renewed by
//! their holder, checked and renewed inside the transaction of every page they guard.

use sqlx::{PgConnection, PgPool};

use super::codec;
use crate::{Lease, StoreError};

/// See [`crate::Leases::acquire`].
pub(super) async fn acquire(pool: &PgPool, lease: &Lease) -> Result<bool, StoreError> {
    let row: Option<String> = sqlx::query_scalar(
        "INSERT INTO leases (name, holder, lease_until, acquired_at)
         VALUES ($1, $2, clock_timestamp() + $3 * interval '1 microsecond', clock_timestamp())
         ON CONFLICT (name) DO UPDATE SET
            holder = excluded.holder,
            lease_until = excluded.lease_until,
            acquired_at = CASE WHEN leases.holder = excluded.holder
                               THEN leases.acquired_at ELSE excluded.acquired_at END
          WHERE leases.holder = excluded.holder OR leases.lease_until <= clock_timestamp()
         RETURNING holder",
    )
    .bind(&lease.name)
    .bind(&lease.holder)
    .bind(codec::micros(lease.ttl))
    .fetch_optional(pool)
    .await?;
    Ok(row.is_some())
}

/// See [`crate::Leases::release`].
pub(super) async fn release(pool: &PgPool, lease: &Lease) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .bind(&lease.name)
        .bind(&lease.holder)
        .execute(pool)
        .await?;
    Ok(())
}

/// Renews a live lease inside a transaction (locking its row until the commit); false when
/// it expired or another holder has it.
pub(super) async fn renew_in(conn: &mut PgConnection, lease: &Lease) -> Result<bool, StoreError> {
    let renewed = sqlx::query(
        "UPDATE leases SET lease_until = clock_timestamp() + $3 * interval '1 microsecond'
          WHERE name = $1 AND holder = $2 AND lease_until > clock_timestamp()",
    )
    .bind(&lease.name)
    .bind(&lease.holder)
    .bind(codec::micros(lease.ttl))
    .execute(conn)
    .await?;
    Ok(renewed.rows_affected() == 1)
}
