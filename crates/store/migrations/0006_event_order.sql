-- Events are deduplicated on (sort_key, event_key) instead of event_key alone. The sort key
-- is part of what the key digests (the event's time), so the same event always has both and
-- the rule is unchanged; but the index is now ordered by event time, and a status pool is
-- delivered in time order, so its inserts append at the index's end instead of landing on
-- random pages (the 16-byte digest alone scattered every batch over the whole index, and each
-- commit rewrote most of its pages: the pool-ingest profile).
--
-- SQLite cannot drop a column's UNIQUE constraint, so the table is rebuilt (same columns,
-- same ids).
CREATE TABLE events_new (
    id                       INTEGER PRIMARY KEY,
    account                  TEXT,
    reference                TEXT,
    merchant_tracking_number TEXT,
    carrier                  TEXT NOT NULL,
    tracking_number          TEXT NOT NULL,
    event_key                BLOB NOT NULL,
    sort_key                 INTEGER NOT NULL,
    raw_status               TEXT NOT NULL,
    status                   TEXT NOT NULL,
    pool_cursor              INTEGER,
    event                    TEXT,
    milestone                TEXT,
    rank                     INTEGER,
    CHECK (event IS NOT NULL OR (pool_cursor IS NOT NULL AND account IS NOT NULL))
) STRICT;

INSERT INTO events_new (id, account, reference, merchant_tracking_number, carrier,
                        tracking_number, event_key, sort_key, raw_status, status, pool_cursor,
                        event, milestone, rank)
SELECT id, account, reference, merchant_tracking_number, carrier, tracking_number, event_key,
       sort_key, raw_status, status, pool_cursor, event, milestone, rank
  FROM events;

DROP TABLE events;
ALTER TABLE events_new RENAME TO events;

CREATE UNIQUE INDEX events_by_key ON events (sort_key, event_key);
CREATE INDEX events_by_merchant_number ON events (merchant_tracking_number, account)
    WHERE merchant_tracking_number IS NOT NULL;
CREATE INDEX events_by_order ON events (account, reference)
    WHERE merchant_tracking_number IS NULL;
