-- Events are deduplicated on (key_time, event_key) instead of event_key alone. `key_time` is
-- the event time as the key digests it: the sort key, or 0 for a time the source did not give
-- (whose sort key is the receipt, left out of the key because every redelivery has its own).
-- So the same event always has both and the rule is unchanged; but the index is now ordered
-- by event time, and a status pool is delivered in time order, so its inserts append at the
-- index's end instead of landing on random pages (the 16-byte digest alone scattered every
-- batch over the whole index, and each commit rewrote most of its pages: the pool-ingest
-- profile).
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
    key_time                 INTEGER NOT NULL,
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
                        tracking_number, event_key, key_time, sort_key, raw_status, status,
                        pool_cursor, event, milestone, rank)
SELECT id, account, reference, merchant_tracking_number, carrier, tracking_number, event_key,
       CASE WHEN json_extract(event, '$.occurred_at.kind') = 'unknown' THEN 0 ELSE sort_key END,
       sort_key, raw_status, status, pool_cursor, event, milestone, rank
  FROM events;

DROP TABLE events;
ALTER TABLE events_new RENAME TO events;

CREATE UNIQUE INDEX events_by_key ON events (key_time, event_key);
CREATE INDEX events_by_merchant_number ON events (merchant_tracking_number, account)
    WHERE merchant_tracking_number IS NOT NULL;
CREATE INDEX events_by_order ON events (account, reference)
    WHERE merchant_tracking_number IS NULL;
