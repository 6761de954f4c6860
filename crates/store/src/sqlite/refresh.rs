//! The first-leg refresh schedule: which parcels to look up next (among the parcels worth a
//! lookup at all, the due ones most overdue first, then the closing lookups of parcels the
//! main carrier took over, then the rest least recently looked up: see
//! [`crate::RefreshSelection`]), and noting lookups and webhook pushes. The engine's
//! schedule decides the due times; this module only keeps them.

use std::{sync::LazyLock, time::Duration};

use jiff::Timestamp;
use sqlx::SqlitePool;
use waybill_domain::{MerchantTrackingNumber, TrackingEvent};

use super::codec;
use crate::refresh_filter::{CLOSING, ELIGIBLE, hub_rank};
use crate::{NextRefresh, RefreshCandidate, RefreshSelection, Refreshed, StoreError};

/// The three passes of [`refresh_candidates`], each with its partial index (migration 0007)
/// and whether it reads the instant `$3`: due parcels by due time (never-looked-up first:
/// NULLs sort first in SQLite), then the closing lookups, then the other eligible parcels by
/// their last lookup.
static PASSES: LazyLock<[(String, bool); 3]> = LazyLock::new(|| {
    [
        (
            format!(
                "{} AND (next_refresh_at IS NULL OR next_refresh_at <= $3) ORDER BY next_refresh_at, id",
                *ELIGIBLE
            ),
            true,
        ),
        (format!("{} ORDER BY id", *CLOSING), false),
        (format!("{} AND next_refresh_at > $3 ORDER BY last_refreshed_at, id", *ELIGIBLE), true),
    ]
});

/// See [`crate::FeedSink::refresh_candidates`]. A merchant number shared by parcels of
/// several accounts is returned once (tracking it refreshes all of them).
pub(super) async fn refresh_candidates(
    pool: &SqlitePool,
    selection: &RefreshSelection,
) -> Result<Vec<RefreshCandidate>, StoreError> {
    let now = Timestamp::now();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (pass, reads_now) in PASSES.iter() {
        let left = selection.limit.saturating_sub(u32::try_from(out.len()).unwrap_or(u32::MAX));
        if left == 0 {
            break;
        }
        let sql = format!(
            "SELECT id, merchant_tracking_number, last_activity_at FROM parcels
              WHERE (pushed_at IS NULL OR pushed_at < $1)
                AND {pass}
              LIMIT $2"
        );
        let query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(stamp(before(now, selection.pushed_within)))
            .bind(i64::from(left));
        // SQLite refuses a bound value the statement has no place for.
        let query = if *reads_now { query.bind(stamp(now)) } else { query };
        let rows: Vec<(i64, String, Option<String>)> = query.fetch_all(pool).await?;
        for (id, number, activity) in rows {
            if seen.insert(number.clone()) {
                let merchant_tracking_number: MerchantTrackingNumber =
                    codec::parse(&number, "parcels", id, "merchant_tracking_number")?;
                let idle = match activity {
                    Some(at) => {
                        let at: Timestamp = codec::parse(&at, "parcels", id, "last_activity_at")?;
                        Some(Duration::try_from(now.duration_since(at)).unwrap_or(Duration::ZERO))
                    }
                    None => None,
                };
                out.push(RefreshCandidate { merchant_tracking_number, idle });
            }
        }
    }
    Ok(out)
}

/// See [`crate::FeedSink::mark_refreshed`]: every account's parcel with that number. A
/// lookup of a parcel the main carrier already holds was its closing lookup: its first leg
/// ends whatever the answer said.
pub(super) async fn mark_refreshed(
    pool: &SqlitePool,
    parcel: &MerchantTrackingNumber,
    refreshed: &Refreshed,
) -> Result<(), StoreError> {
    let now = Timestamp::now();
    let (next, ended) = match refreshed.next {
        NextRefresh::After(d) => (Some(stamp(after(now, d))), false),
        NextRefresh::Never => (None, true),
    };
    sqlx::query(
        "UPDATE parcels SET
            last_refreshed_at = $1,
            next_refresh_at = $2,
            first_leg_ended_at = CASE WHEN $3 OR head_rank >= $6
                                      THEN coalesce(first_leg_ended_at, $1)
                                      ELSE first_leg_ended_at END,
            last_activity_at = CASE WHEN $4 OR last_activity_at IS NULL THEN $1
                                    ELSE last_activity_at END
          WHERE merchant_tracking_number = $5",
    )
    .bind(stamp(now))
    .bind(next)
    .bind(ended)
    .bind(refreshed.news)
    .bind(parcel.as_str())
    .bind(i64::from(hub_rank()))
    .execute(pool)
    .await?;
    Ok(())
}

/// The schedule half of [`crate::FeedSink::record_pushed`] (the events are stored first):
/// the pushed parcels are covered and have news; the handed-over ones' first legs ended.
pub(super) async fn mark_pushed(
    pool: &SqlitePool,
    events: &[TrackingEvent],
    handed_over: &[MerchantTrackingNumber],
) -> Result<(), StoreError> {
    let pushed: Vec<&str> = events
        .iter()
        .filter_map(|e| e.merchant_tracking_number.as_ref())
        .map(MerchantTrackingNumber::as_str)
        .collect();
    let ended: Vec<&str> = handed_over.iter().map(MerchantTrackingNumber::as_str).collect();
    if pushed.is_empty() && ended.is_empty() {
        return Ok(());
    }
    let now = stamp(Timestamp::now());
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE parcels SET pushed_at = $1, last_activity_at = $1
          WHERE merchant_tracking_number IN (SELECT value FROM json_each($2))",
    )
    .bind(&now)
    .bind(codec::json_list(&pushed)?)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE parcels SET first_leg_ended_at = coalesce(first_leg_ended_at, $1)
          WHERE merchant_tracking_number IN (SELECT value FROM json_each($2))",
    )
    .bind(&now)
    .bind(codec::json_list(&ended)?)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A time as the fixed-width text the store keeps (see [`codec::now`]).
fn stamp(at: Timestamp) -> String {
    format!("{at:.6}")
}

/// `at + d`, saturating at the end of time.
fn after(at: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| at.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// `at - d`, saturating at the start of time.
fn before(at: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| at.checked_sub(d).ok())
        .unwrap_or(Timestamp::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_and_the_partial_index_agree_word_for_word() {
        let migration = include_str!("../../migrations/0007_refresh_schedule.sql");
        assert!(migration.contains(ELIGIBLE.as_str()), "the index differs from:\n{}", *ELIGIBLE);
        assert!(migration.contains(CLOSING.as_str()), "the index differs from:\n{}", *CLOSING);
    }

    #[test]
    fn stamps_are_fixed_width_and_saturate() {
        let t: Timestamp = "2026-06-20T09:14:00Z".parse().unwrap();
        assert_eq!(stamp(t), "2026-06-20T09:14:00.000000Z");
        assert_eq!(stamp(t).len(), codec::now().len());
        assert_eq!(after(t, Duration::MAX), Timestamp::MAX);
        assert_eq!(before(t, Duration::MAX), Timestamp::MIN);
        assert_eq!(after(t, Duration::from_secs(60)).as_second(), t.as_second() + 60);
    }
}
