-- PostgreSQL twin of migrations/0007_refresh_schedule.sql (SQLite): the first-leg refresh
-- schedule. See that file for what each column means.
ALTER TABLE parcels ADD COLUMN next_refresh_at TIMESTAMPTZ;
ALTER TABLE parcels ADD COLUMN last_activity_at TIMESTAMPTZ;
ALTER TABLE parcels ADD COLUMN first_leg_ended_at TIMESTAMPTZ;
ALTER TABLE parcels ADD COLUMN pushed_at TIMESTAMPTZ;

-- Candidates: the due ones in due order (never-looked-up first), among the parcels that may
-- be looked up at all; the queries repeat these terms word for word so the planner can use
-- these partial indexes.
CREATE INDEX parcels_by_next_refresh ON parcels (next_refresh_at NULLS FIRST, id)
    WHERE first_leg_ended_at IS NULL
      AND status NOT IN ('delivered', 'returned', 'cancelled')
      AND (head_rank IS NULL OR head_rank < 4);
-- The parcels not due yet, least recently looked up first: what the budget left over after
-- the due ones goes to.
CREATE INDEX parcels_by_last_refresh ON parcels (last_refreshed_at NULLS FIRST, id)
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
