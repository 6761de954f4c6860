-- The first-leg refresh schedule (see `src/sqlite/refresh.rs` and the engine's `schedule`
-- module). Times are fixed-width RFC 3339 text, like every other time here.
--
--   next_refresh_at     when the parcel is next due a lookup, as the engine's policy decided at
--                       its last lookup; NULL before the first (those come first)
--   last_activity_at    when a lookup or a webhook last brought news (or the first lookup)
--   first_leg_ended_at  when a lookup or a webhook saw the first leg's hand-over: never
--                       looked up again
--   pushed_at           when a webhook last brought an event for it: covered while recent
ALTER TABLE parcels ADD COLUMN next_refresh_at TEXT;
ALTER TABLE parcels ADD COLUMN last_activity_at TEXT;
ALTER TABLE parcels ADD COLUMN first_leg_ended_at TEXT;
ALTER TABLE parcels ADD COLUMN pushed_at TEXT;

-- Candidates, among the parcels that may be looked up at all (not final, first leg not
-- ended, the main carrier not holding them yet: rank 4 is `at_origin_hub`, and a first leg's
-- events never rank above `in_transit`, see `CarrierInfo::join`): the due ones in due order,
-- never-looked-up first. The queries repeat these terms word for word so the planner can use
-- these partial indexes.
CREATE INDEX parcels_by_next_refresh ON parcels (next_refresh_at, id)
    WHERE first_leg_ended_at IS NULL
      AND status NOT IN ('delivered', 'returned', 'cancelled')
      AND (head_rank IS NULL OR head_rank < 4);
-- The parcels not due yet, least recently looked up first: what the budget left over after
-- the due ones goes to.
CREATE INDEX parcels_by_last_refresh ON parcels (last_refreshed_at, id)
    WHERE first_leg_ended_at IS NULL
      AND status NOT IN ('delivered', 'returned', 'cancelled')
      AND (head_rank IS NULL OR head_rank < 4);
-- The parcels the main carrier took over before any lookup or push saw their first leg end:
-- owed one closing lookup (for the first leg's last scans), after the due ones.
CREATE INDEX parcels_to_close ON parcels (id)
    WHERE first_leg_ended_at IS NULL
      AND status NOT IN ('delivered', 'returned', 'cancelled')
      AND head_rank >= 4;

-- Replaced by the partial indexes above.
DROP INDEX IF EXISTS parcels_by_refresh;
