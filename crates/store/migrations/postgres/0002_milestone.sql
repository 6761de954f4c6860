-- PostgreSQL twin of migrations/0002_milestone.sql (SQLite).
-- Milestones and the forward-only rule (see docs/architecture.md, "Forward-only statuses").
--
-- Every event gets its milestone (`Milestone::as_str`) and its rank (`Milestone::rank`, NULL
-- for an unknown milestone, which never moves a parcel), computed by the domain when the event
-- is written. A parcel's head is now the greatest of its events by
-- (rank, sort key, carrier, tracking number, raw status) among ranked events — the domain's
-- `ProgressKey` — and the parcel keeps the head's rank and milestone beside its status.
ALTER TABLE events ADD COLUMN milestone TEXT COLLATE "C";
ALTER TABLE events ADD COLUMN rank INTEGER;

ALTER TABLE parcels ADD COLUMN head_rank INTEGER;
ALTER TABLE parcels ADD COLUMN head_milestone TEXT COLLATE "C";
ALTER TABLE parcels ADD COLUMN milestone TEXT COLLATE "C" NOT NULL GENERATED ALWAYS AS (
    COALESCE(head_milestone, CASE WHEN has_events THEN 'unknown' ELSE 'announced' END)) STORED;

-- Events stored before this migration carry no milestone: give them the coarse reading of
-- their unified status (`Milestone::from_status`); their stored statuses are not rewritten.
UPDATE events SET milestone = CASE status
    WHEN 'pending' THEN 'announced'
    WHEN 'info_received' THEN 'label_created'
    WHEN 'in_transit' THEN 'in_transit'
    WHEN 'exception' THEN 'in_transit'
    WHEN 'customs_hold' THEN 'customs'
    WHEN 'out_for_delivery' THEN 'out_for_delivery'
    WHEN 'attempt_failed' THEN 'out_for_delivery'
    WHEN 'available_for_pickup' THEN 'at_pickup_point'
    WHEN 'delivered' THEN 'delivered'
    WHEN 'returned' THEN 'returned'
    WHEN 'cancelled' THEN 'cancelled'
    ELSE 'unknown' END;
UPDATE events SET rank = CASE milestone
    WHEN 'announced' THEN 0
    WHEN 'label_created' THEN 1
    WHEN 'in_transit' THEN 3
    WHEN 'customs' THEN 6
    WHEN 'out_for_delivery' THEN 8
    WHEN 'at_pickup_point' THEN 8
    WHEN 'delivered' THEN 9
    WHEN 'returned' THEN 9
    WHEN 'cancelled' THEN 9
    ELSE NULL END;

-- Recompute every parcel's head by the new key.
UPDATE parcels SET
    (head_rank, head_sort_key, head_carrier, head_tracking_number, head_raw_status, head_status,
     head_milestone) = (
        SELECT e.rank, e.sort_key, e.carrier, e.tracking_number, e.raw_status, e.status,
               e.milestone
          FROM events e
         WHERE e.rank IS NOT NULL
           AND ((e.merchant_tracking_number = parcels.merchant_tracking_number
                 AND (e.account = parcels.account OR e.account IS NULL))
                OR (e.account = parcels.account AND e.reference = parcels.reference
                    AND e.merchant_tracking_number IS NULL))
         ORDER BY e.rank DESC, e.sort_key DESC, e.carrier DESC, e.tracking_number DESC,
                  e.raw_status DESC
         LIMIT 1);
